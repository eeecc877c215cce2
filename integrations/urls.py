from django.urls import path

from integrations import views

app_name = "integrations"

urlpatterns = [
    path("me/sharing/", views.sharing, name="sharing"),
    path("me/sharing/<int:pk>/revoke/", views.sharing_revoke, name="sharing_revoke"),
    path("share/", views.share_lookup, name="share"),
    path("staff/integrators/", views.organisations, name="organisations"),
    path("staff/integrators/<int:pk>/", views.organisation, name="organisation"),
    path("staff/integrators/<int:pk>/suspend/", views.organisation_suspend, name="organisation_suspend"),
    path("staff/integrators/keys/<int:pk>/rotate/", views.key_rotate, name="key_rotate"),
    path("staff/integrators/keys/<int:pk>/revoke/", views.key_revoke, name="key_revoke"),
    path("staff/integrators/keys/<int:pk>/restrict/", views.key_restrict, name="key_restrict"),
]
