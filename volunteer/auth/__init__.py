"""Accounts: register, log in and out, reset a password; roles and their checks."""
