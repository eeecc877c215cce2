"""Pieces the apps' admin modules share: read-only records, and the cap on listed import problems."""

# Past this many, the rest of a rejected file's issues are summarised in one message.
MAX_ISSUE_MESSAGES = 100


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
