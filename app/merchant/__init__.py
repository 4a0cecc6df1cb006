"""The merchant dashboard on the bare platform host: sign-up, sign-in, the portal link."""
