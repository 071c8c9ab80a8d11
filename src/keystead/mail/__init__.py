"""Outgoing mail: the SMTP transport (smtp.py) and the message templates (messages.py).

A leaf package: it knows nothing about the outbox that calls it, nor about accounts.
"""
