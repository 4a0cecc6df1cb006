"""The console's forms (Flask-WTF: each carries its CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class CodeForm(FlaskForm):
    code = StringField(
        "Code",
        validators=[DataRequired(message="Type the code."), Length(max=40)],
        description="The 6-digit code from your authenticator app, or a recovery code.",
    )


class EnrolForm(FlaskForm):
    code = StringField(
        "Code from the app",
        validators=[DataRequired(message="Type the code your app shows."), Length(max=12)],
    )


class SetupForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(
        "The same password again",
        validators=[DataRequired(), EqualTo("password", message="The two passwords differ.")],
    )


class ButtonForm(FlaskForm):
    """A form that is only a button (sign out, replay, resume...): its CSRF token is all."""


class SuspendForm(FlaskForm):
    reason = TextAreaField(
        "Reason, shown to the merchant",
        validators=[DataRequired(message="Say why: the merchant sees it."), Length(max=300)],
    )
