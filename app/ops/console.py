"""Every route of the operators' console, registered on its blueprint by importing the views."""

from app.ops import auth_views, console_views  # noqa: F401
from app.ops.blueprint import console

__all__ = ["console"]
