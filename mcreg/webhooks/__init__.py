"""Signed webhooks: subscriptions (``subscriptions``), the URLs they may name (``urls``), and the worker that
delivers what the outbox owes (``delivery``), as Standard Webhooks requests."""
