from django.urls import path

from verification import views

app_name = "verification"

urlpatterns = [
    path("", views.by_code, name="index"),
    # No trailing slash: this is the address in every QR code, kept short.
    path("<str:public_id>", views.certificate, name="certificate"),
]
