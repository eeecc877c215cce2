from django.contrib import admin

from unregistered.models import UnregisteredPerson


@admin.register(UnregisteredPerson)
class UnregisteredPersonAdmin(admin.ModelAdmin):
    list_display = ["cin", "last_name", "first_name", "birth_date", "status", "recorded_at", "linked_insured"]
    list_filter = ["status"]
    search_fields = ["cin", "last_name"]
    readonly_fields = [field.name for field in UnregisteredPerson._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
