"""The registry's domain: aggregates, their rules, the application service, and the trust primitives.

- ``aggregates``: each aggregate's events, state and the rules it checks on itself;
- ``application``: ``Registry``, the one event-sourced application, a command family per aggregate
  family (organisations, quality assurance, catalogue, issuance, recognition, keys, learners) over a
  shared core that runs every command the same way;
- ``trust``: Merkle trees, signed notes, Data Integrity proofs and status lists, pure functions of bytes;
- ``importers``: outside formats turned into registry commands (DEQAR's reports);
- beside them, the rules shared by all: field validation (``validate``), vocabulary, permissions,
  errors, stamps, QA standing, periods, the stored topic names (``topics``), the value
  transcodings, and the read-version check of decision 25 (``read_versions``).

Only the standard library, ``eventsourcing``, ``cryptography``, ``pycountry``,
``rfc8785`` and ``base58`` are imported here: no web framework, no SQL, no
logging framework.
"""
