from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import PasswordChangeForm, PasswordResetForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from accounts import services
from accounts.errors import LoginFailed, LoginLocked
from accounts.models import User
from registry.fields import IdentifierField
from registry.validators import normalize_cin, normalize_cnss_number, validate_cin, validate_cnss_number


def _password_field(label, autocomplete="new-password", help_text=""):
    # No composition rules and paste allowed (docs/security.md §7): length and the
    # common-password list are checked by AUTH_PASSWORD_VALIDATORS.
    return forms.CharField(
        label=label,
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
        help_text=help_text,
        error_messages={"required": _("Enter a password.")},
    )


class RegistrationForm(forms.Form):
    cnss_number = IdentifierField(
        label=_("CNSS number"),
        max_length=20,
        help_text=_("9 digits, printed on your pay slip and your CNSS card."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={"required": _("Enter your CNSS number.")},
    )
    cin = IdentifierField(
        label=_("National ID number (CIN)"),
        max_length=20,
        help_text=_("As printed on your national ID card, e.g. BE123456."),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}),
        error_messages={"required": _("Enter your national ID number.")},
    )
    email = forms.EmailField(
        label=_("Personal e-mail address"),
        max_length=254,
        help_text=_("To log in and to receive password reset links. Use an address only you can read."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"required": _("Enter your e-mail address."), "invalid": _("Enter a valid e-mail address.")},
    )
    password = _password_field(
        _("Password"), help_text=_("At least 12 characters. A phrase of several words is easy to remember.")
    )

    def clean_cnss_number(self):
        value = normalize_cnss_number(self.cleaned_data["cnss_number"])
        validate_cnss_number(value)
        return value

    def clean_cin(self):
        value = normalize_cin(self.cleaned_data["cin"])
        validate_cin(value)
        return value

    @sensitive_variables("password")
    def clean(self):
        cleaned = super().clean()
        password = cleaned.get("password")
        if password:
            probe = User(username=cleaned.get("cnss_number", ""), email=cleaned.get("email", ""))
            try:
                password_validation.validate_password(password, probe)
            except ValidationError as exc:
                self.add_error("password", exc)
        return cleaned


class RecoveryStartForm(forms.Form):
    cnss_number = RegistrationForm.base_fields["cnss_number"]
    cin = RegistrationForm.base_fields["cin"]
    clean_cnss_number = RegistrationForm.clean_cnss_number
    clean_cin = RegistrationForm.clean_cin


class ActivationForm(forms.Form):
    code = IdentifierField(
        label=_("Code received by SMS"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9 ]*", "autofocus": True}
        ),
        error_messages={"required": _("Enter the code you received by SMS.")},
    )

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split())
        if not code.isascii() or not code.isdigit() or len(code) != 6:
            raise ValidationError(_("The code has 6 digits."), code="format")
        return code


class LoginForm(forms.Form):
    identifier = IdentifierField(
        label=_("CNSS number or e-mail address"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
        error_messages={"required": _("Enter your CNSS number or your e-mail address.")},
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Enter your password.")},
    )


class CurrentPasswordMixin:
    """Checks the current password under the same failure counter as the login (docs/security.md §8, 10)."""

    wrong_password_message = _("Your current password is not correct.")

    def check_current_password(self, user, password):
        key = services.login_throttle_key("login", user, "")
        try:
            services.checked_login(key=key, attempt=lambda: user if user.check_password(password) else None)
        except LoginLocked as exc:
            raise ValidationError(str(exc), code="locked") from None
        except LoginFailed:
            raise ValidationError(self.wrong_password_message, code="password_incorrect") from None
        return password


class EmailChangeForm(CurrentPasswordMixin, forms.Form):
    email = forms.EmailField(
        label=_("New e-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"required": _("Enter your new e-mail address."), "invalid": _("Enter a valid e-mail address.")},
    )
    current_password = forms.CharField(
        label=_("Current password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Enter your current password.")},
    )

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        if email.lower() == (self.user.email or "").lower():
            raise ValidationError(_("This is already your e-mail address."), code="same")
        return email

    @sensitive_variables("password")
    def clean_current_password(self):
        return self.check_current_password(self.user, self.cleaned_data["current_password"])


class PlainNewPasswordMixin:
    """Django's two new-password fields, with our labels, hints and messages (complete in every language)."""

    error_messages = {"password_mismatch": _("The two passwords are not the same. Type the same password twice.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        first, second = self.fields["new_password1"], self.fields["new_password2"]
        first.label = _("New password")
        first.help_text = _("At least 12 characters. A phrase of several words is easy to remember.")
        first.error_messages = {**first.error_messages, "required": _("Enter a new password.")}
        second.label = _("New password again")
        second.help_text = _("Type the same password again, to avoid a mistake.")
        second.error_messages = {**second.error_messages, "required": _("Type the new password again.")}


class InsuredPasswordChangeForm(CurrentPasswordMixin, PlainNewPasswordMixin, PasswordChangeForm):
    """Django's form, with the current password counted like a login and a service doing the change."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        old = self.fields["old_password"]
        old.label = _("Current password")
        old.error_messages = {**old.error_messages, "required": _("Enter your current password.")}

    @sensitive_variables("old_password")
    def clean_old_password(self):
        return self.check_current_password(self.user, self.cleaned_data["old_password"])

    def save(self, commit=True):
        return services.password_change(user=self.user, new_password=self.cleaned_data["new_password1"])


class InsuredPasswordResetForm(PasswordResetForm):
    """Reset links go to insured accounts only: staff passwords are the agency's business."""

    def get_users(self, email):
        return (user for user in super().get_users(email) if user.insured_id is not None and not user.is_staff)

    def save(self, *args, **kwargs):
        """Queue the link for a worker, which makes it; an address without an account gets a notice instead."""
        from accounts.notifications import send_notice

        email = self.cleaned_data["email"]
        users = list(self.get_users(email))
        for user in users:
            send_notice(to=user.email, template="password_reset", language=user.language, user=user)
        if not users:
            # The typed address hears that no account uses it: the same work, the
            # same page and the same time as for an account, and a way forward for
            # the person who opened theirs with another address.
            send_notice(to=email, template="password_reset_unknown")


class ResetSetPasswordForm(PlainNewPasswordMixin, SetPasswordForm):
    def save(self, commit=True):
        return services.password_change(user=self.user, new_password=self.cleaned_data["new_password1"])


class RecoveryCodeForm(ActivationForm):
    """The code and the new password.

    Here the password meets only the rules that hold for any account (length,
    common passwords, digits only): checking it against the account (too close to
    the CNSS number or e-mail) would tell a stranger that the pair has one. That
    check comes after the code is right (``accounts.recovery.recovery_complete``).
    """

    new_password = _password_field(
        _("New password"), help_text=_("At least 12 characters. A phrase of several words is easy to remember.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.pop("autofocus", None)

    @sensitive_variables("password")
    def clean_new_password(self):
        password = self.cleaned_data["new_password"]
        password_validation.validate_password(password, None)
        return password


class TotpTokenForm(forms.Form):
    """The second step of a login with TOTP: staff (backoffice) and integrators' contacts (the console)."""

    token = IdentifierField(
        label=_("Code from your authenticator app"),
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}),
        error_messages={"required": _("Enter the 6-digit code shown by your authenticator app.")},
    )


class UsernameLoginForm(forms.Form):
    """The first step of a login by username and password: staff (backoffice) and integrators' contacts."""

    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
        error_messages={"required": _("Enter your username.")},
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Enter your password.")},
    )
