"""Branded emails (HTML and text) and the record of each delivery."""
