from django.urls import path

from backoffice.audit_trail import views

app_name = "audit"

urlpatterns = [
    path("", views.trail, name="trail"),
    path("export/", views.trail_export, name="export"),
]
