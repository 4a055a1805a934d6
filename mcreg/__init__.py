"""mcreg, the micro-credential QA and recognition registry.

The card's folders are installed under this one namespace: ``mcreg.registry`` (the domain),
``mcreg.projections`` (the read models), ``mcreg.api`` (the HTTP edge). In a source checkout
``mcreg/registry``, ``mcreg/projections`` and ``mcreg/api`` are links to those folders, so the
source tree imports exactly as the installed package does. Everything else in this package is the
application shell: the composition root (``bootstrap``), settings, logging, the stores beside the
event store, the embedded server, the services that combine the registry, its read models and its
trust primitives, the CLI and the demo.
"""
