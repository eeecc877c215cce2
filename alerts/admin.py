from django.contrib import admin

from alerts.models import AlertPreference, ArrearsAlert


@admin.register(AlertPreference)
class AlertPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "arrears_alerts", "updated_at"]
    list_filter = ["arrears_alerts"]
    raw_id_fields = ["user"]


@admin.register(ArrearsAlert)
class ArrearsAlertAdmin(admin.ModelAdmin):
    list_display = ["user", "employer", "period", "created_at"]
    list_filter = ["period"]
    raw_id_fields = ["user", "employer", "email"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
