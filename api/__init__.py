"""The edge of mcreg: settings, the composition root, the CLI and (later) the HTTP API."""
