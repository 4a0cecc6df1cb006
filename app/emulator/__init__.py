"""Local Stripe emulator for Billfold: localstripe patched for today's API (see launcher.py)."""
