from django.urls import path

from backoffice import views

app_name = "backoffice"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.staff_login, name="login"),
    path("login/code/", views.staff_token, name="token"),
    path("logout/", views.staff_logout, name="logout"),
    path("search/", views.search, name="search"),
    path("insured/<int:pk>/", views.insured_detail, name="insured"),
    path("insured/<int:pk>/identity/", views.identity_change_new, name="identity_change_new"),
    path("insured/<int:pk>/certificates/new/", views.certificate_new, name="certificate_new"),
    path("identity-changes/", views.identity_change_list, name="identity_changes"),
    path("identity-changes/<int:pk>/", views.identity_change_detail, name="identity_change"),
    path("identity-changes/<int:pk>/approve/", views.identity_change_approve, name="identity_change_approve"),
    path("identity-changes/<int:pk>/reject/", views.identity_change_reject, name="identity_change_reject"),
    path("identity-changes/<int:pk>/document/", views.identity_change_document, name="identity_change_document"),
    path("certificates/<str:public_id>/pdf/", views.certificate_download, name="certificate_download"),
    path("certificates/<str:public_id>/revoke/", views.certificate_revoke_view, name="certificate_revoke"),
    path("requests/", views.case_list, name="requests"),
    path("requests/<str:reference>/", views.case_detail, name="request"),
    path("requests/<str:reference>/take/", views.case_take, name="request_take"),
    path("requests/<str:reference>/close/", views.case_close, name="request_close"),
]
