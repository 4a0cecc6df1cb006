"""Worker entry point: `celery -A worker.app worker` (and `beat`)."""

from app import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]

# Import task modules so the worker registers them.
import worker.tasks  # noqa: E402,F401
