from django.contrib import admin

from casework.models import Case, CaseDocument


class CaseDocumentInline(admin.TabularInline):
    model = CaseDocument
    fields = ["original_name", "content_type", "size", "uploaded_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    """Read-only: requests are decided in the back office, where decisions are audited."""

    list_display = ["reference", "kind", "status", "insured", "employer", "created_at"]
    list_filter = ["kind", "status"]
    search_fields = ["reference", "insured__cnss_number", "insured__last_name", "employer__affiliation_number"]
    readonly_fields = [f.name for f in Case._meta.fields]
    inlines = [CaseDocumentInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
