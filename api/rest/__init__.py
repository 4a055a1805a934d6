"""The REST API under ``/v1``: handlers translate HTTP to registry commands and back; no rule lives here."""
