from django.urls import path

from verification import views

app_name = "verification"

urlpatterns = [
    path("", views.index, name="index"),
    path("pdf/", views.pdf_upload, name="pdf"),
    path("offline/", views.offline, name="offline"),
    path("offline/sw.js", views.offline_service_worker, name="offline_sw"),
    path("keys.json", views.keys, name="keys"),
    path("keys.jws", views.signed_keys, name="signed_keys"),
    path("revocations.json", views.revocations, name="revocations"),
    path("pki/root-ca.crl", views.ca_crl, name="ca_crl"),
    # No trailing slash: this is the address in every QR code, kept short.
    path("<str:public_id>", views.certificate, name="certificate"),
]
