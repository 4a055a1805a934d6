"""Read models: tables kept from the registry's notification log, exactly once, rebuildable from position 0.

``engine`` runs projections in pages; ``credential_status`` and
``audit_timeline`` are the read models; ``read_models`` puts them on one
database schema; ``rebuild`` swaps in or checks a fresh build; ``worker``
keeps them following the log. Nothing here imports ``api``.
"""
