"""Admin API: one routes module per area, composed in routes.py."""
