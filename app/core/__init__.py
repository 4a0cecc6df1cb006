"""Pages every host shares: the platform home, health check and a tenant's brand stylesheet."""
