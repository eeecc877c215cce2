"""The staff roles: the groups a staff account belongs to, and the questions every app asks of them.

In the kernel so that every layer may ask them (the audit trail, the agency
features, the back office): an app never imports one above it
(docs/architecture.md). ``agent`` and ``supervisor`` are the agency counter,
``treaty`` the International Treaties service (docs/backoffice.md, "Staff roles").
"""

AGENT = "agent"
SUPERVISOR = "supervisor"
TREATY_ROLE = "treaty"


def staff_roles(user) -> set[str]:
    """The agency roles (agent, supervisor) of a staff account; none for anyone else."""
    if not getattr(user, "is_authenticated", False) or not user.is_staff:
        return set()
    return set(user.groups.filter(name__in=[AGENT, SUPERVISOR]).values_list("name", flat=True))


def is_supervisor(user) -> bool:
    return SUPERVISOR in staff_roles(user)


def is_treaty_officer(user) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_staff
        and user.is_active
        and user.groups.filter(name=TREATY_ROLE).exists()
    )
