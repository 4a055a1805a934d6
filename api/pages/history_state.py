"""What the history page shows of an object's state on a date: its public fields only, as they stood then.

An aggregate whose history anyone may read (decision 21: agencies, providers, accreditations, reviews,
micro-credentials, and a credential by its id) is named here with the fields the public API shows of it. A
credential's learner, grade and the sealed reasons of its suspensions and revocation notes (decision 51) are
never among them; its revocation reason is a code of a closed vocabulary, as ``GET /v1/credentials/{id}``
shows it. Statuses are worked out on the date asked, by the aggregate's own rules. Each field is a
``(name, value)`` pair: the template words the name and formats the value. So is each identifier an
``IdentifiersAdded`` event recorded, its value None where it is not public.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from eventsourcing.domain import Aggregate

from mcreg.registry.aggregates.accreditation import Accreditation
from mcreg.registry.aggregates.agency import Agency
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.microcredential import MicroCredential
from mcreg.registry.aggregates.provider import Provider, ProviderIdentifiers
from mcreg.registry.aggregates.review import Review
from mcreg.registry.schemes import CREDENTIAL_FIELDS

Fields = list[tuple[str, Any]]


def on(day: date, when: date | None) -> date | None:
    """A date of a change, if the change had taken effect by ``day``."""
    return when if when is not None and when <= day else None


def agency(a: Agency, day: date) -> Fields:
    return [
        ("name", a.name),
        ("acronym", a.acronym),
        ("country", a.country),
        ("deqar_id", a.deqar_id),
        ("esg_activities", [str(activity) for activity in a.esg_activities]),
        ("registered_on", a.registered_on),
        ("in_good_standing", a.in_good_standing(day)),
        ("deregistered_on", on(day, a.deregistered_on)),
    ]


def provider(p: Provider, day: date) -> Fields:
    ids = p.identifiers
    return [
        ("names", p.names),
        ("country", p.country),
        ("provider_type", str(p.provider_type)),
        ("deqar_id", ids.deqar_id),
        ("eter_id", ids.eter_id),
        ("schac", ids.schac),
        ("erasmus_code", ids.erasmus_code),
        ("closed_on", on(day, p.closed_on)),
    ]


def accreditation(a: Accreditation, day: date) -> Fields:
    return [
        ("provider_id", a.provider_id),
        ("agency_id", a.agency_id),
        ("local_identifier", a.local_identifier),
        ("outcome", str(a.outcome)),
        ("eqf_levels", list(a.scope.eqf_levels)),
        ("isced_fields", list(a.scope.isced_fields)),
        ("jurisdictions", list(a.scope.jurisdictions)),
        ("micro_credentials", a.scope.micro_credentials),
        ("decided_on", a.decided_on),
        ("valid_from", a.valid_from),
        ("valid_to", a.valid_to),
        ("conditions_fulfilled", sum(1 for c in a.conditions if on(day, c.fulfilled_on))),
        ("conditions", len(a.conditions)),
        ("report_url", a.report_url),
        ("standing", str(a.standing(day))),
    ]


def review(r: Review, day: date) -> Fields:
    decided = r.decision if on(day, r.decided_on) else None
    return [
        ("agency_id", r.agency_id),
        ("microcredential_id", r.microcredential_id),
        ("provider_id", r.provider_id),
        ("spec_version", r.spec_version),
        ("local_identifier", r.local_identifier),
        ("opened_on", r.opened_on),
        ("report_url", r.report.url if r.report and on(day, r.report.published_on) else None),
        ("decision", str(decided.decision) if decided else None),
        ("valid_from", decided.valid_from if decided else None),
        ("valid_to", decided.valid_to if decided else None),
        ("appeal_lodged_on", on(day, r.appeal_lodged_on)),
        ("appeal_outcome", str(r.appeal_outcome) if r.appeal_outcome else None),
        ("withdrawn_on", on(day, r.withdrawn_on)),
        ("standing", str(r.standing(day))),
    ]


def microcredential(m: MicroCredential, day: date) -> Fields:
    version = m.spec_version_on(day)
    if version is None:
        return [("provider_id", m.provider_id), ("spec_version", None)]
    spec = m.specification_at(version)
    return [
        ("provider_id", m.provider_id),
        ("spec_version", version),
        ("title", dict(spec.title)),
        ("ects", spec.ects.normalize()),
        ("eqf_level", spec.eqf_level),
        ("isced_field", spec.isced_field),
        ("languages", list(spec.languages)),
        ("qa_type", str(spec.qa_type)),
        ("retired_on", on(day, m.retired_on)),
    ]


def credential(c: Credential, day: date) -> Fields:
    revoked = on(day, c.revoked_on)
    return [
        ("provider_id", c.provider_id),
        ("microcredential_id", c.microcredential_id),
        ("spec_version", c.spec_version),
        ("issued_on", c.issued_on),
        ("valid_until", c.valid_until),
        ("status", str(c.status_on(day)) if c.issued_on <= day else None),
        ("revoked_on", revoked),
        ("revocation_reason", str(c.revocation_reason) if revoked and c.revocation_reason else None),
    ]


PUBLIC: dict[str, tuple[type[Aggregate], Callable[[Any, date], Fields]]] = {
    "Agency": (Agency, agency),
    "Provider": (Provider, provider),
    "Accreditation": (Accreditation, accreditation),
    "Review": (Review, review),
    "MicroCredential": (MicroCredential, microcredential),
    "Credential": (Credential, credential),
}
"""The aggregates whose history is public, by the name the audit timeline gives their type: class and fields."""


def public_state(aggregate_type: str, aggregate: Aggregate, day: date) -> Fields:
    """The public fields of an aggregate of a type in ``PUBLIC``, as they stood on ``day``."""
    return PUBLIC[aggregate_type][1](aggregate, day)


def identifiers_added(event: Any) -> Fields:
    """What an ``IdentifiersAdded`` event recorded, as the page may say it: a provider's identifiers from other
    registers with their values (public, as ``GET /v1/providers/{id}`` shows them); a credential's only by which
    ones were added, never a value (its course's ids are the provider's and authorities', the student number the
    learner's personal data)."""
    provider_ids = getattr(event, "identifiers", None)
    if isinstance(provider_ids, ProviderIdentifiers):
        return [(name, value) for name, value in vars(provider_ids).items() if value is not None]
    return [(name, None) for name in CREDENTIAL_FIELDS.values() if getattr(event, name, None) is not None]
