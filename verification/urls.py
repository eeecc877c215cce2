from django.urls import path

from verification import views

app_name = "verification"

urlpatterns = [
    path("", views.by_code, name="index"),
    path("<str:public_id>/", views.certificate, name="certificate"),
]
