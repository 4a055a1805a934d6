"""A history that touches every read model, recorded through the registry's commands only.

A Dutch university issues under its accreditation, a Belgian college under a
review won on appeal; a German and the Dutch university recognise their
credentials; then the Dutch accreditation is withdrawn. ``record_history``
calls ``between`` after each step, so that a test can project in between and
later events change rows that earlier pages wrote.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID, uuid4

from mcreg.projections.read_models import ReadModels
from mcreg.registry.application import IssueRow, Registry
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import Role
from tests.world import OPERATOR, SPEC, World, learner

BE_AUTHORITY = Actor(uuid4(), Role.NATIONAL_AUTHORITY, key_id="be-ahovoks", country="BE")

CYBERSECURITY = {
    **SPEC,
    "title": {"en": "Cybersecurity basics", "nl": "Basis cyberveiligheid", "fr": "Les bases de la cybersécurité"},
    "learning_outcomes": [
        {"text": "Recognise phishing", "esco_uri": "http://data.europa.eu/esco/skill/cy01-ph02"},
        {"text": "Harden a laptop", "esco_uri": "http://data.europa.eu/esco/skill/cy03-hd04"},
    ],
    "ects": "3",
    "eqf_level": 5,
    "isced_field": "0612",
    "participation": "blended",
    "qa_type": "external_programme",
    "languages": ["nl", "fr"],
}


@dataclass
class History:
    """The ids a test looks things up by."""

    world: World
    second_agency_id: UUID
    conditional_id: UUID
    be_provider_id: UUID
    be_accreditation_id: UUID
    be_microcredential_id: UUID
    review_id: UUID
    de_institution_id: UUID
    nl_credentials: list[UUID]
    be_credentials: list[UUID]
    recognitions: list[UUID]

    @property
    def be_provider(self) -> Actor:
        return Actor(self.be_provider_id, Role.PROVIDER, key_id="be-provider")

    @property
    def de_institution(self) -> Actor:
        return Actor(self.de_institution_id, Role.INSTITUTION, key_id="de-admissions")

    @property
    def nl_institution(self) -> Actor:
        return Actor(self.world.provider_id, Role.INSTITUTION, key_id="nl-admissions")


def issue(registry: Registry, provider: Actor, microcredential_id: UUID, count: int, issued_on: date) -> list[UUID]:
    rows = [IssueRow(microcredential_id, learner(f"Learner {i}"), issued_on) for i in range(count)]
    return [c for c in registry.issue_credentials(provider, rows).issued if c is not None]


def record_history(registry: Registry, between: Callable[[], object] = lambda: None) -> History:
    """Record the history; ``between`` runs after each step."""
    r = registry
    world = World(r)
    agency = world.agency
    between()

    second_agency_id = r.register_agency(
        OPERATOR, name="Agentur Beispiel", country="DE", esg_activities=["programme"], registered_on=date(2016, 5, 1)
    )
    r.suspend_agency(OPERATOR, world.agency_id, reason="EQAR review", effective=date(2023, 1, 10))
    between()
    r.reinstate_agency(OPERATOR, world.agency_id, effective=date(2023, 2, 1))
    r.rename_provider(world.provider, world.provider_id, names={"en": "Example University", "nl": "Voorbeeld"})
    conditional_id = r.grant_accreditation(
        agency,
        provider_id=world.provider_id,
        outcome="positive with conditions or restrictions",
        local_identifier="INST-2022-7",
        valid_from=date(2022, 1, 1),
        valid_to=date(2027, 12, 31),
        eqf_levels=[8],
        jurisdictions=["NL", "BE"],
        conditions=[("Publish the assessment policy", date(2022, 6, 30)), ("Train examiners", date(2023, 1, 31))],
        report_url="https://qa.example.org/reports/inst-2022-7",
        decided_on=date(2021, 11, 15),
    )
    between()
    r.fulfil_accreditation_condition(agency, conditional_id, condition=0, effective=date(2022, 5, 2))
    r.renew_accreditation(agency, conditional_id, valid_to=date(2028, 12, 31), effective=date(2023, 6, 1))
    r.suspend_accreditation(agency, conditional_id, reason="examiners untrained", effective=date(2023, 7, 1))
    between()
    r.reinstate_accreditation(agency, conditional_id, effective=date(2023, 9, 1))

    be_provider_id = r.register_provider(
        OPERATOR,
        names={"nl": "Hogeschool Voorbeeld", "fr": "Haute École Exemple"},
        country="BE",
        provider_type="vocational",
        deqar_id="DEMOINST0099",
        registered_on=date(2015, 1, 1),
    )
    be_provider = Actor(be_provider_id, Role.PROVIDER, key_id="be-provider")
    be_accreditation_id = r.grant_accreditation(
        BE_AUTHORITY, provider_id=be_provider_id, outcome="positive", valid_from=date(2020, 1, 1), eqf_levels=[7]
    )
    be_microcredential_id = r.specify_microcredential(
        be_provider, provider_id=be_provider_id, specified_on=date(2021, 9, 1), **CYBERSECURITY
    )
    between()
    review_id = r.open_review(
        agency, microcredential_id=be_microcredential_id, local_identifier="MC-BE-1", opened_on=date(2022, 1, 10)
    )
    r.publish_review_report(
        agency, review_id, url="https://qa.example.org/reports/mc-be-1", summary="Sound", published_on=date(2022, 3, 1)
    )
    r.decide_review(agency, review_id, decision="negative", decided_on=date(2022, 3, 1))
    between()
    r.appeal_review(agency, review_id, grounds="assessment misread", effective=date(2022, 3, 20))
    between()
    r.decide_review_appeal(
        agency,
        review_id,
        outcome="overturned",
        decision="positive",
        valid_from=date(2022, 5, 1),
        valid_to=date(2027, 4, 30),
        decided_on=date(2022, 5, 1),
    )
    between()

    nl_credentials = issue(r, world.provider, world.microcredential_id, 3, date(2024, 3, 1))
    nl_credentials += issue(r, world.provider, world.microcredential_id, 1, date(2024, 4, 15))
    be_credentials = issue(r, be_provider, be_microcredential_id, 2, date(2024, 5, 2))
    between()
    r.revise_microcredential(
        world.provider,
        world.microcredential_id,
        effective=date(2024, 9, 1),
        **{**SPEC, "ects": "6", "title": {**SPEC["title"], "de": "Datenanalyse mit Python"}},
    )
    r.retire_microcredential(be_provider, be_microcredential_id, effective=date(2025, 1, 1))
    r.suspend_credential(world.provider, nl_credentials[2], reason="fees unpaid", effective=date(2024, 4, 1))
    between()
    r.revoke_credential(world.provider, nl_credentials[3], reason="fraud", effective=date(2024, 6, 1))

    de_institution_id = world.register_provider("DE", "Technische Universität Beispiel")
    history = History(
        world,
        second_agency_id,
        conditional_id,
        be_provider_id,
        be_accreditation_id,
        be_microcredential_id,
        review_id,
        de_institution_id,
        nl_credentials,
        be_credentials,
        [],
    )
    de, nl = history.de_institution, history.nl_institution
    recognitions = history.recognitions

    def request(institution: Actor, credential_id: UUID, requested_on: date) -> UUID:
        recognitions.append(
            r.request_recognition(
                institution,
                credential_id=credential_id,
                institution_id=institution.org,
                purpose="credit_transfer",
                requested_on=requested_on,
            )
        )
        return recognitions[-1]

    full = request(de, nl_credentials[0], date(2024, 4, 2))
    refused = request(de, be_credentials[0], date(2024, 5, 10))
    partial = request(nl, be_credentials[1], date(2024, 5, 12))
    withdrawn = request(de, nl_credentials[1], date(2024, 5, 20))
    between()
    r.decide_recognition(de, full, outcome="recognised", ects_recognised="5", decided_on=date(2024, 5, 1))
    difference = [("No lab work", "The programme requires supervised lab work")]
    r.decide_recognition(
        de, refused, outcome="refused", ects_recognised="0", differences=difference, decided_on=date(2024, 6, 1)
    )
    r.decide_recognition(
        nl,
        partial,
        outcome="recognised_partially",
        ects_recognised="1",
        differences=difference,
        decided_on=date(2024, 6, 15),
    )
    between()
    r.appeal_recognition(de, refused, grounds="lab work was done online", effective=date(2024, 6, 10))
    r.withdraw_recognition(de, withdrawn, reason="the learner moved on", effective=date(2024, 6, 1))
    between()
    r.decide_recognition_appeal(
        de,
        refused,
        outcome="overturned",
        recognition_outcome="recognised_partially",
        ects_recognised="2",
        differences=difference,
        decided_on=date(2024, 7, 1),
    )
    between()

    r.withdraw_accreditation(agency, world.accreditation_id, reason="no longer meets ESG", effective=date(2024, 10, 1))
    r.deregister_agency(OPERATOR, second_agency_id, reason="left EQAR", effective=date(2024, 12, 31))
    between()
    return history


def contents(read_models: ReadModels, name: str) -> dict[str, Any]:
    """One read model's rows, table by table in a total order (``View.rows`` orders by the first column only, which
    is not unique in a table of counters), and its tracked position."""
    view = read_models[name].view
    return {
        "rows": {table: sorted(view.rows(table), key=repr) for table in view.tables},
        "position": view.position(read_models.app.name),
    }
