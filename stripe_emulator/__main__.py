"""Run the Stripe emulator: ``python -m stripe_emulator [--port N] [--webhook-delay S]``."""

import sys

if __package__:
    from .launcher import main
else:
    # Started as a file by StripeEmulator: load this folder as a standalone package so the
    # web app's own package (app/__init__.py: Flask, Celery, config) is never imported.
    import importlib
    import importlib.util
    from pathlib import Path

    here = Path(__file__).resolve().parent
    if sys.path and Path(sys.path[0]).resolve() == here:
        sys.path.pop(0)  # our module names must not shadow top-level imports
    spec = importlib.util.spec_from_file_location(
        "billfold_stripe_emulator", here / "__init__.py", submodule_search_locations=[str(here)]
    )
    package = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = package
    spec.loader.exec_module(package)
    main = importlib.import_module("billfold_stripe_emulator.launcher").main

if __name__ == "__main__":
    main()
