"""Accounts: register, log in and out, reset a password, change the password or email on the
account page (``/konto/``); roles and their checks."""
