from django.urls import path

from integrations import api as integrations_api
from verification import api

app_name = "api"

urlpatterns = [
    path("verify", api.verify, name="verify"),
    path("verify/batch", api.verify_batch, name="verify_batch"),
    path("share", integrations_api.share, name="share"),
    path("openapi.json", api.openapi, name="openapi"),
    path("schemas/certificate.json", api.certificate_schema, name="certificate_schema"),
]
