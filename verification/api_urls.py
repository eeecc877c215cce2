from django.urls import path

from verification import api

app_name = "api"

urlpatterns = [
    path("verify", api.verify, name="verify"),
    path("openapi.json", api.openapi, name="openapi"),
]
