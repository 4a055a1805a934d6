"""Rotating the transparency log's key: the key in force signs a note announcing a new one, under the log's lock.

``mcreg log rotate-key`` (``mcreg/cli/log.py``) calls ``rotate_log_key``; the
keys themselves are kept by ``mcreg.stores.log_keys``.
"""

from __future__ import annotations

from mcreg.bootstrap import Services, open_transparency_log
from mcreg.stores.log_keys import LogKey


def rotate_log_key(services: Services) -> LogKey:
    """Make the log's next key; the key in force signs checkpoints up to the log's size now, the new one after.

    Raises ``KeyUnavailable`` (nothing written) when the key in force does not open under this process's KEK.
    """
    log = open_transparency_log(services)
    try:
        with log.rotating() as (curs, size):
            return services.log_keys.rotate(curs, size)
    finally:
        log.close()
