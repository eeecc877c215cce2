"""The audit actions, each declared once with a label (pretix's ``logentrytype_registry``).

An action is a dotted name, ``<app>.<thing>.<what happened>``
(``certificates.certificate.issued``), stored in ``AuditEntry.action``; its label
is the translatable sentence the audit pages show for it. Each app declares the
actions it writes in its own ``audit_actions.py``::

    from django.utils.translation import gettext_lazy as _

    from audit.actions import register

    register("certificates.certificate.issued", _("Certificate issued"))

``AuditConfig.ready`` imports every installed app's ``audit_actions`` module
(as the admin finds ``admin.py``), so the registry is complete before the first
request. ``audit_record`` refuses an action nobody declared
(``UndeclaredAuditAction``): a typo cannot start a new, unfiltered kind of entry.
``tests/test_audit_actions.py`` checks that every action the code writes is
declared and that every label is translated in French, Arabic and English.

Entries written before an action was declared keep their name: ``label`` shows
the name itself for them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.module_loading import autodiscover_modules

# Lower-case words joined by dots, at least three: app, thing, what happened.
NAME = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){2,}")
MAX_LENGTH = 80  # AuditEntry.action


class UndeclaredAuditAction(LookupError):
    """An audit entry with an action no app declared."""


@dataclass(frozen=True)
class AuditAction:
    name: str
    label: str  # a lazy translation


class AuditActionRegistry:
    def __init__(self):
        self._actions: dict[str, AuditAction] = {}

    def register(self, name: str, label) -> str:
        """Declare ``name`` with its ``label`` (a lazy translation); returns the name."""
        if not NAME.fullmatch(name) or len(name) > MAX_LENGTH:
            raise ValueError(f"Not an audit action name: {name!r} (app.thing.what, at most {MAX_LENGTH} characters).")
        if name in self._actions:
            raise ValueError(f"The audit action {name!r} is declared twice.")
        self._actions[name] = AuditAction(name, label)
        return name

    def get(self, name: str) -> AuditAction:
        try:
            return self._actions[name]
        except KeyError:
            raise UndeclaredAuditAction(
                f"The audit action {name!r} is not declared: add it to its app's audit_actions.py."
            ) from None

    def label(self, name: str) -> str:
        """The label of ``name``, or the name itself for an entry of an action no longer declared."""
        action = self._actions.get(name)
        return action.label if action is not None else name

    def __contains__(self, name) -> bool:
        return name in self._actions

    def __iter__(self):
        return iter(sorted(self._actions.values(), key=lambda action: action.name))

    def __len__(self) -> int:
        return len(self._actions)


actions = AuditActionRegistry()
register = actions.register


def autodiscover() -> None:
    autodiscover_modules("audit_actions")
