from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import OutboundEmail, Registration, SmsMessage, Throttle, User


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the portal writes itself: staff look, never edit (edits would bypass the audit trail)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class DamaneUserAdmin(UserAdmin):
    list_display = ["username", "email", "insured", "is_active", "is_staff", "activated_at", "last_login"]
    list_filter = ["is_staff", "is_active", "groups"]
    search_fields = ["username", "email", "insured__last_name", "insured__cin"]
    raw_id_fields = ["insured"]
    readonly_fields = ["activated_at", "last_login", "date_joined"]
    fieldsets = [
        *UserAdmin.fieldsets,
        (None, {"fields": ["insured", "language", "activated_at"]}),
    ]


@admin.register(SmsMessage)
class SmsMessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "to", "purpose", "status", "attempts", "backend", "provider_id"]
    list_filter = ["status", "purpose", "backend"]
    search_fields = ["to", "provider_id"]
    date_hierarchy = "created_at"


@admin.register(OutboundEmail)
class OutboundEmailAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "to", "template", "status", "attempts", "sent_at"]
    list_filter = ["status", "template"]
    search_fields = ["to"]
    date_hierarchy = "created_at"


@admin.register(Registration)
class RegistrationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "email", "expires_at", "completed_at"]
    search_fields = ["user__username", "email"]
    exclude = ["password"]


@admin.register(Throttle)
class ThrottleAdmin(ReadOnlyAdmin):
    list_display = ["key", "failures", "window_started_at", "locked_until"]
    search_fields = ["key"]
