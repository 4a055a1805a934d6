"""The registry application: takes commands, checks cross-aggregate rules, saves events.

``Registry`` is one eventsourcing ``Application`` composed of a command family per aggregate family,
each a module here holding its ``…Commands`` class over the shared ``core`` (running a command;
get → check → change → save):

- ``organisations``: QA agencies, providers and the identifiers that name providers;
- ``quality_assurance``: accreditations and reviews, and the QA cover they give issuing;
- ``catalogue``: micro-credentials and their specifications;
- ``issuance``: credentials, one by one or in batches, and their standing on a date;
- ``recognition``: institutions' recognition decisions and appeals;
- ``keys``: issuers' signing keys;
- ``learners``: learners' personal data and its erasure;
- ``operations``: the operator's actions on read models that could not apply an event.
"""

from mcreg.registry.application.issuance import (
    BatchRejected,
    BatchResult,
    CredentialStanding,
    IssueRow,
    RowError,
    RowOutcome,
    RowStatus,
)
from mcreg.registry.application.quality_assurance import DEFAULT_VALIDITY
from mcreg.registry.application.registry import Registry

__all__ = [
    "DEFAULT_VALIDITY",
    "BatchRejected",
    "BatchResult",
    "CredentialStanding",
    "IssueRow",
    "Registry",
    "RowError",
    "RowOutcome",
    "RowStatus",
]
