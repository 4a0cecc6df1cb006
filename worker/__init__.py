"""Celery workers: the app binding, task base classes, dispatch helpers and the tasks."""
