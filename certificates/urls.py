from django.urls import path

from certificates import views

app_name = "certificates"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/<str:kind>/", views.request_certificate, name="request"),
    path("c/<str:public_id>/", views.detail, name="detail"),
    path("c/<str:public_id>/pdf/", views.download, name="download"),
]
