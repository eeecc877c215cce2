from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("register/", views.register, name="register"),
    path("register/activate/", views.activate, name="activate"),
    path("register/activate/resend/", views.resend, name="resend"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("me/", views.dashboard, name="dashboard"),
    path("me/email/", views.email_change, name="email_change"),
    path("me/password/", views.password_change, name="password_change"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sms/", views.recovery_start, name="recovery_start"),
    path("password-reset/sms/code/", views.recovery_code, name="recovery_code"),
    path("password-reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password-reset/done/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]
