"""Billfold's Flask app: the factory is app.factory.create_app.

This package's own module stays empty on purpose: tenants/ and worker/ import app.extensions and
app.clock, and importing them must not build the whole app (nor import every view and task).
"""
