"""Portal forms (Flask-WTF: every one carries a CSRF token)."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from app.portal.accounts import normalize_email


def _valid_email(form, field) -> None:
    try:
        result = validate_email(field.data or "", check_deliverability=False)
    except EmailNotValidError:
        raise ValidationError("Enter an email address like name@example.com.") from None
    field.data = normalize_email(result.normalized)


class EmailForm(FlaskForm):
    email = StringField(
        "Email address",
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[DataRequired("Enter your email address."), Length(max=254), _valid_email],
    )
    # Where the login link was placed (?src=...), carried through the form; a value that is not
    # a slug is dropped by the view, never an error in front of the customer.
    src = HiddenField()


class CodeForm(FlaskForm):
    code = StringField(
        "6-digit code",
        validators=[
            DataRequired("Enter the code from the email."),
            Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message="The code has 6 digits."),
        ],
    )


class ConfirmForm(FlaskForm):
    """A button and its CSRF token: confirm a login link, sign out."""


class PasswordLoginForm(FlaskForm):
    email = StringField(
        "Email address",
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[DataRequired("Enter your email address."), Length(max=254), _valid_email],
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password."), Length(max=200)]
    )


class SetPasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[Optional(), Length(max=200)])
    new_password = PasswordField(
        "New password", validators=[DataRequired("Choose a password."), Length(max=200)]
    )


ACTION_KEY = [DataRequired(), Regexp(r"^[A-Za-z0-9_-]{16,64}$")]


class ActionForm(FlaskForm):
    """A state-changing button; action_key makes a double submit one Stripe request."""

    action_key = HiddenField(validators=ACTION_KEY)


class CancelForm(ActionForm):
    # One of the merchant's offered reasons (checked against them by the view), and free text.
    choice = StringField(validators=[Length(max=80)])
    reason = TextAreaField("Why are you cancelling? (optional)", validators=[Length(max=500)])


class CardConfirmForm(FlaskForm):
    setup_intent = HiddenField(validators=[DataRequired(), Regexp(r"^seti_[A-Za-z0-9]+$")])
    customer = HiddenField(validators=[DataRequired(), Regexp(r"^cus_[A-Za-z0-9]+$")])
    # The invoice the card is added to pay, when the card page was opened for one.
    invoice = HiddenField(validators=[Optional(), Regexp(r"^in_[A-Za-z0-9]+$")])
