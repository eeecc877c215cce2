from django.contrib import admin

from treaties.models import Convention, ForeignPeriod, ForeignPeriodVersion


@admin.register(Convention)
class ConventionAdmin(admin.ModelAdmin):
    list_display = ("country", "name_fr", "liaison_institution", "reporting_unit", "days_per_quarter", "active")
    list_filter = ("active", "reporting_unit")


class ForeignPeriodInline(admin.TabularInline):
    model = ForeignPeriod
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ForeignPeriodVersion)
class ForeignPeriodVersionAdmin(admin.ModelAdmin):
    """Read-only: versions are recorded and decided in the treaties pages, never edited."""

    list_display = ("case", "number", "convention", "status", "recorded_by", "decided_by")
    list_filter = ("status", "convention")
    inlines = [ForeignPeriodInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
