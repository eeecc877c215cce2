"""The staff roles of the portal, declared once.

A role is what ``manage.py create_staff_user --role`` gives; it is made of Django
groups, and the groups are what the checks below read. Everything that names a
role reads this module: the decorators (``damane.access``, the audit and
treaties views), the flows' four-eyes rules, ``create_staff_user`` and
``seed_demo_accounts``, the templates (the ``staff_roles`` template filter in
``damane/templatetags/staff_roles.py``) and the table in docs/security.md,
"Staff roles", which ``tests/test_roles.py`` checks against ``ROLES``.

The groups themselves are created by data migrations
(``backoffice/migrations/0001_staff_groups.py``: ``agent``, ``supervisor``;
``treaties/migrations/0002_conventions_role_immutable_periods.py``: ``treaty``).
Migrations are frozen history and keep their literal names; the same test checks
that a migrated database holds exactly the groups named here. A new role is one
entry in ``ROLES`` (and, when it needs a new group, one data migration creating it).

The kernel imports no app: this module reads only ``django.contrib.auth``'s groups
through the user object.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

# The groups. Their names are stored in the database (auth_group.name): never rename one.
AGENT = "agent"
SUPERVISOR = "supervisor"
TREATY = "treaty"

# The groups that open the agency's pages on insured persons' records.
AGENCY_GROUPS = (AGENT, SUPERVISOR)


@dataclass(frozen=True)
class Role:
    name: str  # the value of ``create_staff_user --role``
    groups: tuple[str, ...]  # the groups an account of this role is given
    label: str  # what a member of staff reads (lazy translation)
    opens: str  # what it opens, for --help and docs/security.md (English, operator-facing)


ROLES: dict[str, Role] = {
    role.name: role
    for role in (
        Role(
            AGENT,
            (AGENT,),
            _("agent"),
            "insured records, requests, identity changes (propose), certificates, people absent from the "
            "registry, integrators (read)",
        ),
        Role(
            SUPERVISOR,
            (AGENT, SUPERVISOR),
            _("supervisor"),
            "the agent's pages, and the decisions (four eyes), integrators (write), the audit trail and its export",
        ),
        Role(
            TREATY,
            (TREATY,),
            _("treaty officer"),
            "`/staff/treaties/…` only: a treaty officer is not an agent and gets 403 on the insured records",
        ),
    )
}

# Every group a role gives, each once.
GROUPS = tuple(dict.fromkeys(group for role in ROLES.values() for group in role.groups))


def groups_for(roles) -> list[str]:
    """The groups of the role names ``roles``, each once, in the order of ``ROLES``."""
    return list(dict.fromkeys(group for name, role in ROLES.items() if name in roles for group in role.groups))


def _staff(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_staff)


def staff_roles(user) -> set[str]:
    """The agency groups of ``user`` (``agent``, ``supervisor``): empty for anyone else."""
    if not _staff(user):
        return set()
    return set(user.groups.filter(name__in=AGENCY_GROUPS).values_list("name", flat=True))


def is_agency_staff(user) -> bool:
    """An agent or a supervisor: may open insured persons' records."""
    return bool(staff_roles(user))


def is_supervisor(user) -> bool:
    return SUPERVISOR in staff_roles(user)


def is_treaty_officer(user) -> bool:
    """An active member of the International Treaties service."""
    return _staff(user) and user.is_active and user.groups.filter(name=TREATY).exists()


def held_roles(user) -> list[Role]:
    """The roles whose every group ``user`` is in (a supervisor holds ``agent`` and ``supervisor``), in order."""
    if not _staff(user):
        return []
    groups = set(user.groups.filter(name__in=GROUPS).values_list("name", flat=True))
    return [role for role in ROLES.values() if set(role.groups) <= groups]
