"""Local Stripe emulator for Billfold: localstripe patched for today's API (see launcher.py).

A development tool beside the product, not part of it: the wheel leaves it out, and tests,
benchmarks and the demo import it from the checkout.
"""
