from django.urls import path

from unregistered import views

app_name = "unregistered"

urlpatterns = [
    path("", views.person_list, name="list"),
    path("new/", views.person_new, name="new"),
    path("<int:pk>/", views.person_detail, name="person"),
    path("<int:pk>/decide/", views.person_decide, name="decide"),
    path("<int:pk>/issue/", views.person_issue, name="issue"),
]
