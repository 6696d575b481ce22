"""Forms for signing in, the settings page and admin user management."""

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError

from portal.accounts.emails import MAX_EMAIL_LENGTH, normalize_email, validate_login_email
from portal.accounts.models import User

# The one message for an unknown email and a wrong password: no account enumeration.
BAD_CREDENTIALS = "That email and password do not match an active account."


class EmailField(forms.CharField):
    """Email as a login: trimmed, lower-cased, RFC 5321 limits with plain messages."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", MAX_EMAIL_LENGTH)
        kwargs.setdefault(
            "widget", forms.EmailInput(attrs={"autocomplete": "email", "autocapitalize": "none"})
        )
        super().__init__(**kwargs)

    def to_python(self, value):
        return normalize_email(super().to_python(value))

    def validate(self, value):
        super().validate(value)
        if value:
            validate_login_email(value)


class PasswordField(forms.CharField):
    """A password input that never strips spaces: passphrases keep every character."""

    def __init__(self, *, autocomplete: str, **kwargs):
        kwargs.setdefault("strip", False)
        kwargs.setdefault("max_length", 1024)  # validators give the friendly 128 message
        kwargs["widget"] = forms.PasswordInput(attrs={"autocomplete": autocomplete})
        super().__init__(**kwargs)


class LoginForm(forms.Form):
    email = EmailField(label="Email")
    password = PasswordField(label="Password", autocomplete="current-password")


class NewPasswordMixin(forms.Form):
    """Two fields that must match and pass AUTH_PASSWORD_VALIDATORS."""

    new_password = PasswordField(
        label="New password",
        autocomplete="new-password",
        help_text="8 to 128 characters. A passphrase of several words is best.",
    )
    new_password_again = PasswordField(label="New password again", autocomplete="new-password")

    def password_user(self) -> User | None:
        return None

    def clean_new_password(self):
        password = self.cleaned_data["new_password"]
        password_validation.validate_password(password, self.password_user())
        return password

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        first, second = cleaned.get("new_password"), cleaned.get("new_password_again")
        if first and second and first != second:
            self.add_error("new_password_again", "The two passwords do not match.")
        return cleaned


# Forms below are plain Forms, not ModelForms: services do the writing, and a ModelForm
# would change the instance during validation, hiding the change from the service.


class ProfileForm(forms.Form):
    full_name = forms.CharField(label="Full name", max_length=150)


class PasswordChangeForm(NewPasswordMixin):
    field_order = ["old_password", "new_password", "new_password_again"]
    old_password = PasswordField(label="Current password", autocomplete="current-password")

    def __init__(self, user: User, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def password_user(self) -> User:
        return self.user

    def clean_old_password(self):
        old = self.cleaned_data["old_password"]
        if not self.user.check_password(old):
            raise ValidationError("Your current password is not correct.")
        return old


class UserCreateForm(NewPasswordMixin, forms.ModelForm):
    email = EmailField(label="Email")

    class Meta:
        model = User
        fields = ["email", "full_name", "is_staff"]
        labels = {"full_name": "Full name", "is_staff": "Admin"}

    def password_user(self) -> User:
        return User(email=self.data.get("email", ""), full_name=self.data.get("full_name", ""))

    def clean_email(self):
        email = self.cleaned_data["email"]
        if User.objects.filter(email=email).exists():
            raise ValidationError("A user with this email already exists.")
        return email


class UserEditForm(forms.Form):
    full_name = forms.CharField(label="Full name", max_length=150)
    is_active = forms.BooleanField(label="Active", required=False)
    is_staff = forms.BooleanField(label="Admin", required=False)
    on_triage_duty = forms.BooleanField(
        label="On triage duty",
        required=False,
        help_text=(
            "Told about tickets that no team member and no SPOC can take (admins only). "
            "While such a gap exists, at least one admin must be on duty."
        ),
    )
    manager = forms.EmailField(
        label="Manager (email)",
        required=False,
        help_text="Approves their requests that need their manager's approval. Empty: none.",
    )

    @classmethod
    def for_user(cls, user: User, data=None) -> "UserEditForm":
        initial = {
            "manager": user.manager.email if user.manager_id and user.manager else "",
            "full_name": user.full_name,
            "is_active": user.is_active,
            "is_staff": user.is_staff,
            "on_triage_duty": user.on_triage_duty,
        }
        return cls(data, initial=initial)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("on_triage_duty") and not cleaned.get("is_staff"):
            self.add_error("on_triage_duty", "Only admins can be on triage duty.")
        return cleaned


class PasswordForUserForm(NewPasswordMixin):
    """A new password for a given user (an admin setting it, or the user's reset link)."""

    def __init__(self, user: User, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def password_user(self) -> User:
        return self.user


class PasswordResetRequestForm(forms.Form):
    email = EmailField(label="Email")
