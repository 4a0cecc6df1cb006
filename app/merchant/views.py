"""Every route of the dashboard, registered on its blueprint by importing the view modules."""

from app.merchant import (  # noqa: F401
    account_deletion_views,
    activity_views,
    auth_views,
    branding_views,
    connect_views,
    email_views,
    home_views,
    portal_views,
    settings_views,
    team_views,
)
from app.merchant.blueprint import bp

__all__ = ["bp"]
