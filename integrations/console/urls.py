from django.urls import path

from integrations.console import views

app_name = "console"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.console_login, name="login"),
    path("login/code/", views.console_token, name="token"),
    path("logout/", views.console_logout, name="logout"),
    path("keys/<int:pk>/rotate/", views.key_rotate, name="key_rotate"),
    path("keys/<int:pk>/revoke/", views.key_revoke, name="key_revoke"),
    path("keys/sandbox/", views.sandbox_key_create, name="sandbox_key_create"),
    path("webhooks/", views.endpoint_create, name="endpoint_create"),
    path("webhooks/<int:pk>/switch/", views.endpoint_toggle, name="endpoint_toggle"),
    path("webhooks/deliveries/<int:pk>/replay/", views.delivery_replay, name="delivery_replay"),
]
