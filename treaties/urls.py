from django.urls import path

from treaties import views

app_name = "treaties"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("r/<str:reference>/", views.case_detail, name="detail"),
    path("r/<str:reference>/periods/new/", views.version_new, name="version_new"),
    path("r/<str:reference>/issue/", views.certificate_issue_view, name="issue"),
    path("versions/<int:pk>/approve/", views.version_approve, name="approve"),
    path("versions/<int:pk>/reject/", views.version_reject, name="reject"),
    path("versions/<int:pk>/document/", views.version_document, name="document"),
    path("versions/<int:pk>/certificate/", views.certificate_download, name="certificate"),
]
