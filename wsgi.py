"""WSGI entry point for gunicorn and `flask --app wsgi`: app = create_app()."""

import sys

from config import ConfigError

try:
    from app.factory import create_app

    app = create_app()
except ConfigError as exc:
    # One readable line and a non-zero exit instead of a traceback.
    print(f"billfold: configuration error: {exc}", file=sys.stderr)
    sys.exit(2)
