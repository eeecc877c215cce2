"""Identifiers shown in part: the verify page and API, the audit trail and its CSV export."""


def mask(value: str, keep: int = 3) -> str:
    """'100234561' -> '••••••561': never the full CIN or CNSS number (docs/security.md §15)."""
    value = value or ""
    if len(value) <= keep:
        return "•" * len(value)
    return "•" * (len(value) - keep) + value[-keep:]
