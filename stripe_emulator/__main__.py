"""Run the Stripe emulator: ``python -m stripe_emulator [--port N] [--webhook-delay S]``."""

from .launcher import main

if __name__ == "__main__":
    main()
