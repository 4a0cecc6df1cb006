"""Settings the emulator starts with, known to the process that launches it and to the server."""

DEFAULT_SETTLEMENT_SECONDS = 0.5  # how long a bank takes to answer a SEPA debit
