from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from volunteer.auth.models import ContactChannel
from volunteer.forms import SamskabForm, postcode_field, strip_filter

# Passwords that the length rule alone would let through and that guessers try first.
COMMON_PASSWORDS = frozenset(
    {
        "1234567890",
        "12345678910",
        "0987654321",
        "1111111111",
        "abcdefghij",
        "qwertyuiop",
        "qwertyuiopå",
        "password123",
        "password1234",
        "passwordpassword",
        "adgangskode",
        "adgangskode1",
        "adgangskode123",
        "kodeord1234",
        "kodeordkodeord",
        "sommerfugl1",
        "danmark1234",
        "hedensted1",
        "hedensted123",
        "samskab123",
        "frivillig123",
        "iloveyou123",
    }
)


class StrongPassword:
    """Long enough, not a well-known password, and not the email address."""

    def __call__(self, form: FlaskForm, field: PasswordField) -> None:
        password = field.data or ""
        minimum = current_app.config["PASSWORD_MIN_LENGTH"]
        if len(password) < minimum:
            raise ValidationError(
                _l("The password must be at least %(n)d characters long.", n=minimum)
            )
        if len(password) > 200:
            raise ValidationError(_l("The password may be at most 200 characters long."))
        lowered = password.lower()
        # The email field of the form, or (account page) the account's own address.
        email_field = getattr(form, "email", None)
        email = email_field.data if email_field is not None else getattr(form, "account_email", "")
        email = (email or "").strip().lower()
        if (
            lowered in COMMON_PASSWORDS
            or len(set(password)) < 4
            or (email and (lowered == email or lowered == email.split("@")[0]))
        ):
            raise ValidationError(
                _l("That password is too easy to guess. Try a few unrelated words together.")
            )


def _email_field() -> EmailField:
    return EmailField(
        _l("Email"),
        filters=[strip_filter],
        validators=[
            DataRequired(_l("Write your email address.")),
            Email(_l("That does not look like an email address."), check_deliverability=False),
            Length(max=254),
        ],
        render_kw={"autocomplete": "email"},
    )


class RegisterForm(SamskabForm):
    name = StringField(
        _l("Name"),
        filters=[strip_filter],
        validators=[DataRequired(_l("Write your name.")), Length(max=120)],
        render_kw={"autocomplete": "name"},
    )
    email = _email_field()
    postcode = postcode_field()
    password = PasswordField(
        _l("Password"),
        description=_l("At least 10 characters. A few words together are easy to remember."),
        validators=[DataRequired(_l("Choose a password.")), StrongPassword()],
        render_kw={"autocomplete": "new-password"},
    )
    password_confirm = PasswordField(
        _l("Repeat the password"),
        validators=[
            DataRequired(_l("Write the password again.")),
            EqualTo("password", _l("The two passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    consent = BooleanField(
        _l("I have read the privacy notice and agree that Samskab stores my details."),
        validators=[DataRequired(_l("You must agree to the privacy notice to sign up."))],
    )


class LoginForm(SamskabForm):
    email = _email_field()
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Write your password."))],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Keep me logged in on this device"))


class ResetRequestForm(SamskabForm):
    email = _email_field()


def _new_password() -> PasswordField:
    return PasswordField(
        _l("New password"),
        description=_l("At least 10 characters. A few words together are easy to remember."),
        validators=[DataRequired(_l("Choose a password.")), StrongPassword()],
        render_kw={"autocomplete": "new-password"},
    )


def _repeat(field: str, label: str) -> PasswordField:
    """The new password typed again, checked against ``field``."""
    return PasswordField(
        label,
        validators=[
            DataRequired(_l("Write the password again.")),
            EqualTo(field, _l("The two passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class ResetPasswordForm(SamskabForm):
    password = _new_password()
    password_confirm = _repeat("password", _l("Repeat the password"))


class ChangePasswordForm(SamskabForm):
    """The account page: a new password for a logged-in user (set ``account_email``)."""

    account_email = ""
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Write your current password."))],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = _new_password()
    new_password_confirm = _repeat("new_password", _l("Repeat the new password"))


class ChangeEmailForm(SamskabForm):
    new_email = EmailField(
        _l("New email address"),
        filters=[strip_filter],
        validators=[
            DataRequired(_l("Write your email address.")),
            Email(_l("That does not look like an email address."), check_deliverability=False),
            Length(max=254),
        ],
        render_kw={"autocomplete": "email"},
    )
    email_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Write your current password."))],
        render_kw={"autocomplete": "current-password"},
    )


CONTACT_CHANNELS = {
    ContactChannel.EMAIL: _l("By email"),
    ContactChannel.SMS: _l("By SMS"),
    ContactChannel.BOTH: _l("By email and SMS"),
}


class ContactForm(SamskabForm):
    """The account page: how reminders and invitations reach you, and your mobile number."""

    contact_channel = RadioField(
        _l("How should we remind and invite you?"),
        choices=[SelectChoice(str(code), label) for code, label in CONTACT_CHANNELS.items()],
        validators=[InputRequired(_l("Choose how we should contact you."))],
    )
    phone = StringField(
        _l("Mobile number"),
        filters=[strip_filter],
        validators=[Length(max=32)],
        description=_l("A Danish number, e.g. 20 30 40 50. Needed for SMS."),
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )


class ConfirmEmailForm(SamskabForm):
    """Only the CSRF token: the link's page asks before the address changes."""


def _consent() -> BooleanField:
    return BooleanField(
        _l("I have read the privacy notice and agree that Samskab stores my details."),
        validators=[DataRequired(_l("You must agree to the privacy notice to go on."))],
    )


class ClaimForm(SamskabForm):
    """Taking over an account a coordinator kept, from an invitation link. ``email`` is asked
    only when the account has none (the view leaves it out of the page otherwise)."""

    email = EmailField(
        _l("Email"),
        description=_l("You log in with it from now on."),
        filters=[strip_filter],
        validators=[
            Optional(),
            Email(_l("That does not look like an email address."), check_deliverability=False),
            Length(max=254),
        ],
        render_kw={"autocomplete": "email"},
    )
    password = _new_password()
    password_confirm = _repeat("password", _l("Repeat the password"))
    consent = _consent()


class ClaimCodeForm(SamskabForm):
    """Taking over an account a coordinator kept, with the code of the letter they printed."""

    code = StringField(
        _l("The code from the letter"),
        description=_l("12 letters and digits, for example ABCD-EFGH-JKMN."),
        filters=[strip_filter],
        validators=[DataRequired(_l("Write the code from the letter.")), Length(max=40)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters"},
    )
    email = _email_field()
    password = _new_password()
    password_confirm = _repeat("password", _l("Repeat the password"))
    consent = _consent()


class PasswordProofForm(SamskabForm):
    """A first login through an identity provider: the account's password proves it is the
    same person before the identity is linked."""

    password = PasswordField(
        _l("Your Samskab password"),
        validators=[DataRequired(_l("Write your password."))],
        render_kw={"autocomplete": "current-password"},
    )


class TwoFactorForm(SamskabForm):
    code = StringField(
        _l("Code"),
        description=_l("The 6 digits from your authenticator app, or one of your recovery codes."),
        filters=[strip_filter],
        validators=[DataRequired(_l("Write the code.")), Length(max=20)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "text", "spellcheck": "false"},
    )


class TwoFactorProofForm(SamskabForm):
    """Prove the account again before new recovery codes or switching two-factor off."""

    proof = PasswordField(
        _l("Code from the app, or your password"),
        validators=[
            DataRequired(_l("Write a code from the app or your password.")),
            Length(max=200),
        ],
        render_kw={"autocomplete": "current-password"},
    )
