"""Webhooks: an organisation's HTTPS endpoints told of events that concern it (docs/integrators.md, "Webhooks").

``models`` (endpoints and the delivery outbox), ``signing`` (the
``Damane-Signature`` header), ``transport`` (the one outbound request, guarded
against SSRF), ``services`` (registering endpoints, recording events,
delivering, replaying, disabling), ``events`` (what turns into an event: the
signals of the lower apps and this app's own writes), ``tasks``.
"""
