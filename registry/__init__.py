"""The registry's domain: aggregates, their rules and the application service.

Only the standard library, ``eventsourcing``, ``cryptography`` and ``pycountry``
are imported here: no web framework, no SQL, no logging framework.
"""
