"""The supervisors' screen of the audit trail: filter by who, what, when and which person, and the CSV export.

Here in the back office, not in the audit app: finding a person's entries reads
the registry, the people absent from it and their certificates, all above the
audit app, which every layer writes to (docs/architecture.md).
"""
