"""The demo: a seeded merchant on embedded defaults, for the README's first command."""
