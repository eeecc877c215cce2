from django.contrib import admin

from backoffice.models import IdentityChange


@admin.register(IdentityChange)
class IdentityChangeAdmin(admin.ModelAdmin):
    """Read-only: changes are proposed and decided in the back office, where the four-eyes rule holds."""

    list_display = ["pk", "insured", "status", "proposed_by", "proposed_at", "decided_by", "decided_at"]
    list_filter = ["status"]
    search_fields = ["insured__cnss_number", "insured__last_name", "proposed_by__username"]
    readonly_fields = [f.name for f in IdentityChange._meta.fields if f.name != "document"]
    exclude = ["document"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
