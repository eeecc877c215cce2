from django.urls import path

from casework import views

app_name = "casework"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("r/<str:reference>/", views.case_detail, name="detail"),
    path("documents/<int:pk>/", views.document_download, name="document"),
    path("employer/<str:kind>/<int:employer_id>/", views.employer_case, name="employer_case"),
    path("name-correction/", views.name_correction, name="name_correction"),
    path("treaty/", views.treaty_case, name="treaty"),
    path("id-update/", views.id_update, name="id_update"),
]
