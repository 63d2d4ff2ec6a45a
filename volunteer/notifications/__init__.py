"""Outgoing messages: the outbox, rendering in the recipient's language, delivery."""
