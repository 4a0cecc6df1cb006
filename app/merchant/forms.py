"""Dashboard forms (Flask-WTF: each carries a CSRF token). The rules of a subdomain, a name and
a password live in their own modules; the views turn their ValueErrors into field errors."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, ValidationError

from app.merchant.passwords import MAX_PASSWORD_LENGTH
from app.portal.accounts import normalize_email


def _valid_email(form, field) -> None:
    try:
        result = validate_email(field.data or "", check_deliverability=False)
    except EmailNotValidError:
        raise ValidationError("Enter an email address like name@example.com.") from None
    field.data = normalize_email(result.normalized)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _email_field(label: str = "Email address") -> StringField:
    return StringField(
        label,
        filters=[_strip],
        validators=[DataRequired("Enter your email address."), Length(max=254), _valid_email],
    )


def _password_field(label: str, missing: str) -> PasswordField:
    return PasswordField(label, validators=[DataRequired(missing), Length(max=MAX_PASSWORD_LENGTH)])


class SignupForm(FlaskForm):
    business_name = StringField(
        "Business name",
        filters=[_strip],
        validators=[DataRequired("Enter your business's name."), Length(max=120)],
    )
    name = StringField(
        "Your name",
        filters=[_strip],
        validators=[DataRequired("Enter your name."), Length(max=120)],
    )
    email = _email_field("Work email")
    password = _password_field("Password", "Choose a password.")
    # Not stripped or lower-cased: the rules say what is wrong with what was typed.
    subdomain = StringField("Portal address", validators=[Length(max=200)])


class LoginForm(FlaskForm):
    email = _email_field()
    password = _password_field("Password", "Enter your password.")


class EmailForm(FlaskForm):
    email = _email_field()


class NewPasswordForm(FlaskForm):
    new_password = _password_field("New password", "Choose a password.")


class ChangePasswordForm(FlaskForm):
    current_password = _password_field("Current password", "Enter your current password.")
    new_password = _password_field("New password", "Choose a password.")


class ChangeEmailForm(FlaskForm):
    email = _email_field("New email address")
    current_password = _password_field("Current password", "Enter your current password.")


class SubdomainForm(FlaskForm):
    subdomain = StringField(
        "New portal address", validators=[DataRequired("Enter a subdomain."), Length(max=200)]
    )


class SubdomainConfirmForm(FlaskForm):
    subdomain = HiddenField(validators=[DataRequired(), Length(max=200)])


class ButtonForm(FlaskForm):
    """A button and its CSRF token: confirm a link, sign out, send again."""


def _signing_secret(form, field) -> None:
    if field.data and not field.data.startswith("whsec_"):
        raise ValidationError("A webhook signing secret starts with whsec_.")


class ApiKeyForm(FlaskForm):
    # Password fields: a pasted key is never written back into the page, even with an error.
    key = PasswordField(
        "Restricted key",
        filters=[_strip],
        validators=[
            DataRequired("Paste your restricted key (it starts with rk_live_ or rk_test_)."),
            Length(max=255, message="This is longer than any Stripe key."),
        ],
    )
    webhook_secret = PasswordField(
        "Webhook signing secret (optional)",
        filters=[_strip],
        validators=[Length(max=255, message="This is longer than any signing secret."),
                    _signing_secret],
    )  # fmt: skip


class WebhookSecretForm(FlaskForm):
    webhook_secret = PasswordField(
        "Signing secret",
        filters=[_strip],
        validators=[
            DataRequired("Paste the endpoint's signing secret (it starts with whsec_)."),
            Length(max=255, message="This is longer than any signing secret."),
        ],
    )


class RetryForm(FlaskForm):
    """Copy the Stripe data again; `next` says which page to come back to."""

    next = HiddenField()


class PortalSettingsForm(FlaskForm):
    """What customers may do in the portal. The values' rules live in tenants/validation.py;
    the lengths here only stop a huge post before it is read further."""

    allow_cancel = BooleanField("Customers can cancel a subscription (at the end of its period)")
    allow_reactivate = BooleanField("Customers can take back a cancellation before it happens")
    allow_card_update = BooleanField("Customers can replace the card their subscriptions use")
    allow_invoice_payment = BooleanField("Customers can pay open invoices")
    ask_cancel_reason = BooleanField("Ask why when a customer cancels")
    cancel_reasons = TextAreaField("Reasons to choose from", validators=[Length(max=2000)])
    return_url = StringField("Your site's address for “Back to …”", validators=[Length(max=600)])
    portal_closed = BooleanField("Close the portal")
    closed_message = TextAreaField("Message shown while it is closed", validators=[Length(max=600)])
    # Choices are filled per request (offsets follow daylight saving time); the value is
    # checked against the zone database by tenants/timezones.py, not against this list.
    timezone = SelectField("Show dates in", choices=[], validate_choice=False)


class BrandingForm(FlaskForm):
    """The portal's and emails' look. The rules of each value live in tenants/validation.py."""

    display_name = StringField("Display name", validators=[Length(max=300)])
    primary_color = StringField("Primary colour (buttons, header)", validators=[Length(max=40)])
    accent_color = StringField("Accent colour", validators=[Length(max=40)])
    sender_name = StringField("Sender name on emails", validators=[Length(max=300)])
    support_email = StringField("Reply-to and support email", validators=[Length(max=400)])
    support_url = StringField("Support page", validators=[Length(max=600)])


class LogoForm(FlaskForm):
    # Checked by app/merchant/logos.py, which decodes it; the browser's hint is only a hint.
    logo = FileField("Logo (PNG, JPEG, WebP or GIF, at most 2 MB)")


class InviteForm(FlaskForm):
    email = StringField(
        "Email address",
        filters=[_strip],
        validators=[
            DataRequired("Enter the address to invite."),
            Length(max=254),
            _valid_email,
        ],
    )


class JoinForm(FlaskForm):
    name = StringField(
        "Your name",
        filters=[_strip],
        validators=[DataRequired("Enter your name."), Length(max=120)],
    )
    password = _password_field("Password", "Choose a password.")


class RoleForm(FlaskForm):
    role = HiddenField(validators=[DataRequired(), Length(max=20)])


class DeleteAccountForm(FlaskForm):
    # Compared with the tenant's subdomain by app/merchant/account_deletion.py.
    subdomain = StringField("Type your portal's subdomain to confirm", validators=[Length(max=200)])
