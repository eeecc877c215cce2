from django.urls import path

from backoffice import views

app_name = "backoffice"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.staff_login, name="login"),
    path("login/code/", views.staff_token, name="token"),
    path("logout/", views.staff_logout, name="logout"),
]
