"""The operators' side of the platform: readiness, metrics (and, as it grows, the console)."""
