"""The registry's domain: aggregates, their rules and the application service.

Only the standard library, ``eventsourcing``, ``cryptography``, ``pycountry``,
``rfc8785`` and ``base58`` are imported here: no web framework, no SQL, no
logging framework.
"""
