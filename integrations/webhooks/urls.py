from django.urls import path

from integrations.webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("<int:pk>/webhooks/", views.endpoint_create, name="endpoint_create"),
    path("webhooks/<int:pk>/switch/", views.endpoint_toggle, name="endpoint_toggle"),
    path("webhooks/deliveries/<int:pk>/replay/", views.delivery_replay, name="delivery_replay"),
]
