"""Read models: tables kept from the registry's notification log, exactly once, rebuildable from position 0.

``engine`` runs projections in pages (``reading`` reads and decodes the log,
``tables`` declares a read table's columns once and writes pages set-based);
each read model is one module with its projection (``…Projection``) and typed
accessor (its ``…View``'s methods, answering frozen dataclasses):
``credential_status``, ``audit_timeline``, ``provider_standing`` (rows and
queries in ``provider_standing_queries``),
``catalogue`` (browsed with facet counts, joined with the standing tables at
query time, in ``browsing``), ``recognitions``, ``dashboard`` (figures and
queries in ``dashboard_queries``), ``indicators`` (the dashboard's other indicators, as of a day and as
known at another: ``indicator_tally``, ``timelines``, ``indicators_queries``) and ``status_lists``.
``read_models`` puts them on one database schema and gives each view typed; ``rebuild`` swaps in or checks a
fresh build; ``worker`` keeps them following the log. The transparency log's
tree is a read model on the same engine (``log_tree``); ``transparency_log``
answers its proofs and checkpoints and ``log_audit`` audits it. Nothing here
imports ``api`` or the application shell.
"""
