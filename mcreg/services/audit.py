"""Auditing the transparency log from beside it: recompute it from the event store, check its signed checkpoints.

``audit_log`` recomputes every leaf from the stored events, checks the stored
tree, every checkpoint's root, the signatures and consistency of the
checkpoints (a sample when there are many), and, given one, a checkpoint the
auditor saved earlier. ``latest_checkpoint`` is the note an auditor keeps.
``mcreg audit`` (``mcreg/cli/audit.py``) prints both.
"""

from __future__ import annotations

from collections.abc import Callable

from mcreg.bootstrap import Services, open_transparency_log
from mcreg.projections.transparency_log import AUDIT_SAMPLE, AuditReport
from mcreg.registry.trust.signed_note import Verifier


def audit_log(
    services: Services,
    *,
    verifier: Verifier | None = None,
    against: bytes | None = None,
    sample: int = AUDIT_SAMPLE,
    progress: Callable[[int, int], None] | None = None,
) -> AuditReport:
    """Audit the log against the event store, with ``verifier`` (the registry's own key by default).

    ``against`` is a checkpoint saved earlier, which today's log must extend; ``progress(done, size)``
    follows the leaves recomputed.
    """
    log = open_transparency_log(services)
    try:
        return log.audit(verifier=verifier, against=against, sample=sample, progress=progress)
    finally:
        log.close()


def latest_checkpoint(services: Services) -> str:
    """The latest signed checkpoint note, to keep and audit against later."""
    log = open_transparency_log(services)
    try:
        return log.checkpoint()
    finally:
        log.close()
