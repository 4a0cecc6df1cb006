"""Services a test session starts only when a test asks for them (the SMTP sink, the Stripe
emulator), after the app may already exist: their addresses reach that app, the environment
of apps and processes made later, and nothing else."""

from __future__ import annotations

import os

from flask import Flask


class LateServices:
    def __init__(self) -> None:
        self.settings: dict[str, str] = {}
        self._apps: list[Flask] = []

    def add(self, settings: dict[str, str]) -> None:
        """A service is up at these addresses: every app made or to be made uses them."""
        self.settings.update(settings)
        os.environ.update(settings)
        for app in self._apps:
            _apply(app, settings)

    def attach(self, app: Flask) -> None:
        self._apps.append(app)
        _apply(app, self.settings)


def _apply(app: Flask, settings: dict[str, str]) -> None:
    for name, value in settings.items():
        app.config[name] = int(value) if name == "MAIL_PORT" else value
    if "MAIL_PORT" in settings:
        # Flask-Mail copied its settings when the app was made.
        app.extensions["mail"].port = int(settings["MAIL_PORT"])
