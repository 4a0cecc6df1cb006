"""Every route of the dashboard, registered on its blueprint by importing the view modules."""

from app.merchant import auth_views, connect_views, home_views, settings_views  # noqa: F401
from app.merchant.blueprint import bp

__all__ = ["bp"]
