"""DEQAR import: a QA agency submits its reports in DEQAR's format and the registry records what it has a place for.

The example files are DEQAR's own (EQAR's backend, ``submissionapi/examples``), copied into
``tests/data/deqar``.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from mcreg.registry.aggregates.accreditation import Accreditation, Condition, Scope
from mcreg.registry.aggregates.identifiers import Scheme
from mcreg.registry.aggregates.provider import Provider
from mcreg.registry.application import DEFAULT_VALIDITY, Registry
from mcreg.registry.errors import Forbidden, InvalidInput, NotFound, StateConflict
from mcreg.registry.importers.deqar import CONDITIONS_TEXT, ImportStatus, find_provider, import_reports
from mcreg.registry.importers.deqar_format import DeqarReport, Institution, Location, parse_report
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import ESGActivity, QADecision, Role
from tests.testdata import data_path
from tests.world import OPERATOR

EXAMPLES = data_path("deqar")

# The institutions the examples name by ETER or DEQAR id only; the registry must hold them before the import.
# Names are illustrative.
KNOWN_INSTITUTIONS = [
    ("BE", {"fr": "Conservatoire royal de Bruxelles"}, {"eter_id": "BE0035"}),
    ("CZ", {"cs": "Akademie múzických umění v Praze"}, {"deqar_id": "DEQARINST0245"}),
    ("DE", {"de": "Staatliche Hochschule für Musik Trossingen"}, {"eter_id": "DE0140"}),
    ("EE", {"et": "Eesti Muusika- ja Teatriakadeemia"}, {"eter_id": "EE0022"}),
    ("SE", {"sv": "Kungl. Musikhögskolan i Stockholm"}, {"eter_id": "SE0037"}),
    ("FR", {"fr": "Conservatoire national supérieur de musique et de danse de Lyon"}, {"eter_id": "FR0164"}),
]


def example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def register_agency(registry: Registry, acronym: str, name: str, country: str, **kwargs: Any) -> Actor:
    # Registered early enough for the examples' validity dates, which start in 2013.
    agency_id = registry.register_agency(
        OPERATOR, name=name, acronym=acronym, country=country, registered_on=date(2010, 1, 1), **kwargs
    )
    return Actor(agency_id, Role.QA_AGENCY, key_id=f"{acronym.lower()}-key")


def musique(registry: Registry, **kwargs: Any) -> Actor:
    return register_agency(registry, "MusiQuE", "MusiQuE – Music Quality Enhancement", "BE", **kwargs)


def known_institutions(registry: Registry) -> dict[str, UUID]:
    """The operator registers the institutions the examples identify by id; their ids by ETER or DEQAR id."""
    return {
        next(iter(ids.values())): registry.register_provider(OPERATOR, names=names, country=country, **ids)
        for country, names, ids in KNOWN_INSTITUTIONS
    }


def head(registry: Registry) -> int:
    return registry.recorder.max_notification_id() or 0


def report(**changes: Any) -> dict[str, Any]:
    """A positive institutional report by MusiQuE on a new institution, with ``changes`` applied."""
    data: dict[str, Any] = {
        "agency": "MusiQuE",
        "local_identifier": "TEST-1",
        "activity": "Quality enhancement reviews of institutions",
        "status": "voluntary",
        "decision": "positive",
        "valid_from": "2020-05-04",
        "valid_to": "2026-05-03",
        "date_format": "%Y-%m-%d",
        "report_files": [{"original_location": "https://example.org/report.pdf", "report_language": ["eng"]}],
        "institutions": [
            {
                "name_official": "Muziekconservatorium Voorbeeld",
                "locations": [{"country": "NL", "city": "Utrecht"}],
                "qf_ehea_levels": ["first cycle", "2"],
            }
        ],
    }
    data.update(changes)
    return data


# The agency registers providers --------------------------------------------------------------------------------


def test_a_registered_agency_registers_a_provider_and_the_event_names_the_agency(registry):
    agency = musique(registry)

    provider_id = registry.register_provider(agency, names={"nl": "Hogeschool Voorbeeld"}, country="NL")

    (registered, *_) = registry.events.get(provider_id)
    assert registered.stamp.actor == agency
    assert registry.get(Provider, provider_id).country == "NL"
    with pytest.raises(NotFound):
        registry.register_provider(Actor(uuid4(), Role.QA_AGENCY), names={"nl": "Hogeschool"}, country="NL")


# The examples ---------------------------------------------------------------------------------------------------


def test_institutional_reports_accredit_each_institution_for_micro_credentials_at_its_cycles(registry):
    agency = musique(registry)
    institutions = known_institutions(registry)

    crdb, hamu = import_reports(registry, agency, example("institutional.json"))

    assert (crdb.status, hamu.status) == (ImportStatus.CREATED, ImportStatus.CREATED)
    assert crdb.provider_ids == (institutions["BE0035"],)
    assert hamu.provider_ids == (institutions["DEQARINST0245"],)
    assert crdb.registered_provider_ids == hamu.registered_provider_ids == ()
    accreditation = registry.get(Accreditation, crdb.accreditation_ids[0])
    assert accreditation.id == Accreditation.create_id(agency.org, "CRDB-October14")
    assert accreditation.provider_id == institutions["BE0035"]
    assert accreditation.agency_id == accreditation.granted_by == agency.org
    assert accreditation.local_identifier == "CRDB-October14"
    assert accreditation.outcome == QADecision.POSITIVE
    # The report names no QF-EHEA cycles: the accreditation covers all four; the jurisdiction is the provider's country.
    assert accreditation.scope == Scope(eqf_levels=(5, 6, 7, 8), jurisdictions=("BE",), micro_credentials=True)
    assert (accreditation.valid_from, accreditation.valid_to) == (date(2016, 10, 28), date(2018, 1, 15))
    assert accreditation.decided_on == date(2016, 10, 28)
    assert accreditation.report_url == "http://www.musique-qe.eu/userfiles/File/2014-10-bruxelles-website.pdf"
    assert registry.get(Provider, institutions["BE0035"]).accreditation_ids == [accreditation.id]


def test_programme_reports_accredit_the_programme_levels_but_not_micro_credentials(registry):
    agency = musique(registry)
    institutions = known_institutions(registry)

    pcc, shm = import_reports(registry, agency, example("programme.json"))

    # Prince Claus Conservatoire is described, not identified: the agency registers it.
    (prince_claus,) = pcc.registered_provider_ids
    assert pcc.provider_ids == (prince_claus,)
    provider = registry.get(Provider, prince_claus)
    assert (provider.names, provider.country) == ({"nl": "Prince Claus Conservatoire"}, "NL")
    assert next(iter(registry.events.get(prince_claus))).stamp.actor == agency
    # Trossingen is found by its ETER id.
    assert shm.provider_ids == (institutions["DE0140"],)
    for result in (pcc, shm):
        accreditation = registry.get(Accreditation, result.accreditation_ids[0])
        assert accreditation.scope.eqf_levels == (7,)
        assert accreditation.scope.micro_credentials is False
    assert registry.get(Accreditation, shm.accreditation_ids[0]).valid_to == date(2022, 2, 15)


def test_a_joint_programme_report_accredits_each_partner(registry):
    agency = musique(registry)
    institutions = known_institutions(registry)

    (joint,) = import_reports(registry, agency, example("joint_programme.json"))

    assert joint.status == ImportStatus.CREATED
    tallinn, stockholm, lyon, hamburg = joint.provider_ids
    assert (tallinn, stockholm, lyon) == (institutions["EE0022"], institutions["SE0037"], institutions["FR0164"])
    assert joint.registered_provider_ids == (hamburg,)
    assert registry.get(Provider, hamburg).names == {
        "de": "Hochschule für Musik und Theater Hamburg",
        "en": "Hamburg University of Music and Theatre",
    }
    accreditations = [registry.get(Accreditation, a) for a in joint.accreditation_ids]
    assert [a.local_identifier for a in accreditations] == [f"EAMT-September13#{n}" for n in (1, 2, 3, 4)]
    assert [a.provider_id for a in accreditations] == list(joint.provider_ids)
    assert [a.scope.jurisdictions for a in accreditations] == [("EE",), ("SE",), ("FR",), ("DE",)]
    assert all(a.scope.eqf_levels == (7,) and not a.scope.micro_credentials for a in accreditations)


def test_an_institution_named_by_the_agencys_own_identifier_is_found_once_the_agency_recorded_it(registry):
    """The ARACIS example names its institution only by ARACIS's own identifier, S003, as DEQAR allows."""
    aracis = register_agency(registry, "ARACIS", "Romanian Agency for Quality Assurance in Higher Education", "RO")
    mincu = registry.register_provider(
        OPERATOR, names={"ro": "Universitatea de Arhitectură și Urbanism „Ion Mincu”"}, country="RO"
    )
    before = head(registry)

    (unknown,) = import_reports(registry, aracis, example("institutional_programme.json"))
    assert unknown.status == ImportStatus.REFUSED
    assert (unknown.error.type, unknown.error.field) == ("invalid-input", "reports[0].institutions[0].identifiers")
    assert head(registry) == before

    registry.claim_local_identifier(aracis, mincu, identifier="S003")
    (result,) = import_reports(registry, aracis, example("institutional_programme.json"))
    assert result.status == ImportStatus.CREATED
    assert result.provider_ids == (mincu,) and result.registered_provider_ids == ()
    accreditation = registry.get(Accreditation, result.accreditation_ids[0])
    assert accreditation.scope == Scope(eqf_levels=(7,), jurisdictions=("RO",), micro_credentials=False)
    assert accreditation.report_url == "http://www.aracis.ro/uploads/media/Raport_Departament_de_evaluare_13882b.pdf"


def test_an_agencys_own_identifiers_are_its_own(registry):
    aracis = register_agency(registry, "ARACIS", "Romanian Agency for Quality Assurance in Higher Education", "RO")
    other = register_agency(registry, "A3ES", "Agência de Avaliação e Acreditação", "PT")
    one = registry.register_provider(OPERATOR, names={"ro": "Universitatea Unu"}, country="RO")
    two = registry.register_provider(OPERATOR, names={"ro": "Universitatea Doi"}, country="RO")
    registry.claim_local_identifier(aracis, one, identifier="S003")
    registry.claim_local_identifier(other, two, identifier="S003")  # another agency's S003 is another name
    assert registry.provider_by(Scheme.AGENCY_LOCAL, "S003", aracis.org) == one
    assert registry.provider_by(Scheme.AGENCY_LOCAL, "s003", other.org) == two
    with pytest.raises(StateConflict):
        registry.claim_local_identifier(aracis, two, identifier="S003")
    with pytest.raises(Forbidden):
        registry.claim_local_identifier(OPERATOR, two, identifier="X1")


# Idempotency --------------------------------------------------------------------------------------------------------


def test_importing_the_same_files_again_writes_nothing(registry):
    agency = musique(registry)
    known_institutions(registry)
    files = ["institutional.json", "programme.json", "joint_programme.json"]
    first = [import_reports(registry, agency, example(name)) for name in files]
    before = head(registry)

    again = [import_reports(registry, agency, example(name)) for name in files]

    assert head(registry) == before
    for earlier, later in zip(first, again, strict=True):
        assert [r.status for r in later] == [ImportStatus.UNCHANGED] * len(later)
        assert [r.accreditation_ids for r in later] == [r.accreditation_ids for r in earlier]
        assert [r.provider_ids for r in later] == [r.provider_ids for r in earlier]
        assert all(r.registered_provider_ids == () for r in later)


def test_a_report_imported_before_stays_unchanged_after_its_provider_closed(registry):
    agency = musique(registry)
    (first,) = import_reports(registry, agency, [report()])
    registry.close_provider(OPERATOR, first.provider_ids[0], effective=date(2024, 1, 1))
    before = head(registry)

    (again,) = import_reports(registry, agency, [report()])
    (new,) = import_reports(registry, agency, [report(local_identifier="TEST-2")])

    assert again.status == ImportStatus.UNCHANGED
    assert (new.status, new.error.type, new.error.field) == (
        ImportStatus.REFUSED,
        "state-conflict",
        "reports[0].institutions[0]",
    )
    assert head(registry) == before


def test_an_institution_described_in_two_reports_is_registered_once(registry):
    agency = musique(registry)
    second = report(local_identifier="TEST-2")
    second["institutions"][0]["name_official"] = "  muziekconservatorium   VOORBEELD "

    first_result, second_result = import_reports(registry, agency, [report(), second])
    (later_result,) = import_reports(registry, agency, [report(local_identifier="TEST-3")])

    assert first_result.registered_provider_ids == first_result.provider_ids
    assert second_result.registered_provider_ids == later_result.registered_provider_ids == ()
    assert second_result.provider_ids == later_result.provider_ids == first_result.provider_ids


def test_a_changed_report_under_the_same_local_identifier_is_refused(registry):
    agency = musique(registry)
    known_institutions(registry)
    import_reports(registry, agency, example("institutional.json"))
    before = head(registry)
    changed = example("institutional.json")
    changed[0]["valid_to"] = "2022-01-15"

    crdb, hamu = import_reports(registry, agency, changed)

    assert crdb.status == ImportStatus.REFUSED
    assert crdb.error.type == "idempotency-key-reused"
    assert crdb.error.field == "reports[0].local_identifier"
    assert hamu.status == ImportStatus.UNCHANGED
    assert head(registry) == before
    assert registry.get(Accreditation, Accreditation.create_id(agency.org, "CRDB-October14")).valid_to == date(
        2018, 1, 15
    )


# Who may import what --------------------------------------------------------------------------------------------


def test_a_report_of_another_agency_is_refused_and_writes_nothing(registry):
    agency = musique(registry)
    register_agency(registry, "ARACIS", "Romanian Agency for Quality Assurance in Higher Education", "RO")
    before = head(registry)

    (result,) = import_reports(registry, agency, example("institutional_programme.json"))

    assert result.status == ImportStatus.REFUSED
    assert (result.error.type, result.error.rule, result.error.field) == (
        "forbidden",
        "own-reports",
        "reports[0].agency",
    )
    assert head(registry) == before


def test_the_agency_is_named_by_acronym_name_or_deqar_id_in_any_case(registry):
    agency = musique(registry, deqar_id="34")

    results = import_reports(
        registry,
        agency,
        [
            report(agency="musique", local_identifier="A"),
            report(agency="MUSIQUE – MUSIC QUALITY ENHANCEMENT", local_identifier="B"),
            report(agency=34, local_identifier="C"),
        ],
    )

    assert [r.status for r in results] == [ImportStatus.CREATED] * 3


def test_only_a_registered_qa_agency_imports(registry):
    with pytest.raises(Forbidden):
        import_reports(registry, OPERATOR, [report()])
    with pytest.raises(NotFound):
        import_reports(registry, Actor(uuid4(), Role.QA_AGENCY), [report()])


def test_a_report_before_the_agency_was_registered_is_refused(registry):
    agency = musique(registry)

    (result,) = import_reports(registry, agency, [report(valid_from="2009-06-30")])

    assert (result.status, result.error.type) == (ImportStatus.REFUSED, "state-conflict")
    assert result.error.field == "reports[0].valid_from"


def test_an_agency_registered_for_some_activities_imports_only_those(registry):
    agency = musique(registry, esg_activities=["programme"])

    (result,) = import_reports(registry, agency, [report()])

    assert (result.status, result.error.field) == (ImportStatus.REFUSED, "reports[0].activity")


# Decisions and validity ----------------------------------------------------------------------------------------


def test_a_conditional_decision_points_at_the_report_for_its_conditions(registry):
    agency = musique(registry)

    (result,) = import_reports(registry, agency, [report(decision="2")])

    accreditation = registry.get(Accreditation, result.accreditation_ids[0])
    assert accreditation.outcome == QADecision.POSITIVE_WITH_CONDITIONS
    assert accreditation.conditions == [Condition(CONDITIONS_TEXT, date(2026, 5, 3))]
    assert accreditation.scope.eqf_levels == (6, 7)


def test_without_valid_to_the_decision_holds_six_years(registry):
    agency = musique(registry)

    (result,) = import_reports(registry, agency, [report(valid_to=None)])

    accreditation = registry.get(Accreditation, result.accreditation_ids[0])
    assert accreditation.valid_to == date(2020, 5, 4) + DEFAULT_VALIDITY


def test_a_report_valid_from_a_later_date_is_decided_on_its_first_import_and_stays_unchanged():
    today = [datetime(2025, 3, 1, tzinfo=UTC)]
    registry = Registry({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=lambda: today[0])
    agency = musique(registry)
    (first,) = import_reports(registry, agency, [report(valid_from="2025-09-01", valid_to="2031-08-31")])
    before = head(registry)

    today[0] = datetime(2025, 10, 1, tzinfo=UTC)
    (again,) = import_reports(registry, agency, [report(valid_from="2025-09-01", valid_to="2031-08-31")])

    assert again.status == ImportStatus.UNCHANGED
    assert head(registry) == before
    accreditation = registry.get(Accreditation, first.accreditation_ids[0])
    assert (accreditation.decided_on, accreditation.valid_from) == (date(2025, 3, 1), date(2025, 9, 1))


def test_a_file_of_good_and_bad_reports_writes_the_good_ones_only(registry):
    agency = musique(registry)
    before = head(registry)

    good, bad_date, negative, also_good = import_reports(
        registry,
        agency,
        [
            report(local_identifier="GOOD-1"),
            report(local_identifier="BAD-DATE", valid_from="04/05/2020"),
            report(local_identifier="NEGATIVE", decision="3"),
            report(local_identifier="GOOD-2"),
        ],
    )

    assert [r.status for r in (good, bad_date, negative, also_good)] == [
        ImportStatus.CREATED,
        ImportStatus.REFUSED,
        ImportStatus.REFUSED,
        ImportStatus.CREATED,
    ]
    assert (bad_date.error.field, negative.error.field) == ("reports[1].valid_from", "reports[2].decision")
    assert bad_date.local_identifier == "BAD-DATE"
    # One provider (its receipt, and its name listed: two events), two accreditations (each with the provider's
    # link) and their receipts, and the provider's signing key with the first accreditation (opened, added).
    assert head(registry) - before == 4 + 3 + 3 + 2
    assert Accreditation.create_id(agency.org, "NEGATIVE") not in registry.repository
    assert also_good.provider_ids == good.provider_ids


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"valid_from": "28/10/2016"}, "reports[0].valid_from"),
        ({"valid_from": "2016-02-30"}, "reports[0].valid_from"),
        ({"valid_to": "2015-01-01"}, "reports[0].valid_to"),
        ({"date_format": "%d.%m"}, "reports[0].date_format"),
        ({"date_format": "%Y-%m-%d %H:%M"}, "reports[0].date_format"),
        ({"decision": "excellent"}, "reports[0].decision"),
        ({"decision": "7"}, "reports[0].decision"),
        ({"status": "mandatory"}, "reports[0].status"),
        ({"local_identifier": None}, "reports[0].local_identifier"),
        ({"activity": None}, "reports[0].activity"),
        ({"report_files": []}, "reports[0].report_files"),
        (
            {"report_files": [{"original_location": "ftp://x.org/r.pdf", "report_language": ["en"]}]},
            "reports[0].report_files[0].original_location",
        ),
        ({"report_files": [{"report_language": ["english"]}]}, "reports[0].report_files[0].report_language[0]"),
        ({"institutions": []}, "reports[0].institutions"),
        (
            {"institutions": [{"name_official": "X", "locations": [{"country": "XX"}]}]},
            "reports[0].institutions[0].locations[0].country",
        ),
        ({"institutions": [{"name_official": "X"}]}, "reports[0].institutions[0].locations"),
        (
            {"institutions": [{"eter_id": "BE0035", "qf_ehea_levels": ["fourth cycle"]}]},
            "reports[0].institutions[0].qf_ehea_levels[0]",
        ),
        ({"institutions": [{"deqar_id": "INST0001"}]}, "reports[0].institutions[0].deqar_id"),
        ({"programmes": [{"name_primary": "Music"}]}, "reports[0].programmes[0].qf_ehea_level"),
        ({"programmes": [{"qf_ehea_level": "1"}]}, "reports[0].programmes[0].name_primary"),
    ],
)
def test_a_bad_field_is_named_with_its_path(registry, change, field):
    agency = musique(registry)
    before = head(registry)

    (result,) = import_reports(registry, agency, [report(**change)])

    assert (result.status, result.error.type, result.error.field) == (ImportStatus.REFUSED, "invalid-input", field)
    assert result.error.rule
    assert head(registry) == before


def test_an_unknown_institution_without_a_description_is_refused(registry):
    agency = musique(registry)

    (result,) = import_reports(registry, agency, [report(institutions=[{"eter_id": "NL0099"}])])

    assert (result.status, result.error.field) == (ImportStatus.REFUSED, "reports[0].institutions[0].eter_id")


def test_deqar_and_eter_ids_naming_different_providers_are_refused(registry):
    agency = musique(registry)
    institutions = known_institutions(registry)
    assert institutions

    (result,) = import_reports(
        registry,
        agency,
        [
            report(
                institutions=[
                    {
                        "deqar_id": "DEQARINST9999",
                        "eter_id": "BE0035",
                        "name_official": "X",
                        "locations": [{"country": "BE"}],
                    }
                ]
            )
        ],
    )

    # BE0035 is held, with no DEQAR id: it is taken to be the institution.
    assert result.status == ImportStatus.CREATED
    assert result.provider_ids == (institutions["BE0035"],)
    (hamu,) = import_reports(
        registry,
        agency,
        [report(local_identifier="T-2", institutions=[{"deqar_id": "DEQARINST0245", "eter_id": "BE0035"}])],
    )
    assert (hamu.status, hamu.error.field) == (ImportStatus.REFUSED, "reports[0].institutions[0].eter_id")


# Parsing ------------------------------------------------------------------------------------------------------------


def test_a_report_parses_into_typed_values():
    parsed = parse_report(example("joint_programme.json"))

    assert isinstance(parsed, DeqarReport)
    assert (parsed.agency, parsed.local_identifier, parsed.activity_type) == (
        "MusiQuE",
        "EAMT-September13",
        ESGActivity.JOINT_PROGRAMME,
    )
    assert parsed.decision == QADecision.POSITIVE
    assert (parsed.valid_from, parsed.valid_to) == (date(2013, 1, 15), date(2015, 1, 15))
    assert parsed.institutions[0] == Institution(eter_id="EE0022")
    assert parsed.institutions[3].locations == (Location("DE", "Hamburg"),)
    assert parsed.institutions[3].eqf_levels == (5, 6, 7)
    assert parsed.programmes[0].eqf_level == 7
    assert parsed.programmes[0].nqf_level == "level 6"
    assert parsed.files[0].languages == ("eng",)
    # Ids and labels are both DEQAR's.
    assert parse_report(example("programme.json")[1]).status == parse_report(example("institutional.json")[0]).status


@pytest.mark.parametrize(
    ("date_format", "valid_from", "valid_to"),
    [("%d/%m/%y", "04/05/20", "03/05/26"), ("%-d.%-m.%Y", "4.5.2020", "3.5.2026"), ("%m-%d-%Y", "05-04-2020", None)],
)
def test_dates_are_read_in_the_reports_own_format(date_format, valid_from, valid_to):
    parsed = parse_report(report(date_format=date_format, valid_from=valid_from, valid_to=valid_to))

    assert parsed.valid_from == date(2020, 5, 4)
    assert parsed.valid_to == (date(2026, 5, 3) if valid_to else None)


def test_without_an_index_fields_are_named_from_the_report():
    with pytest.raises(InvalidInput) as refused:
        parse_report(report(institutions=[{"name_official": "X", "locations": [{"country": "Nowhere"}]}]))
    assert refused.value.field == "institutions[0].locations[0].country"


def test_a_provider_is_found_by_any_name_it_held_in_its_country(registry):
    provider_id = registry.register_provider(OPERATOR, names={"nl": "Hogeschool Oud"}, country="NL")
    registry.rename_provider(OPERATOR, provider_id, names={"nl": "Hogeschool Nieuw"})
    agency = register_agency(registry, "NVAO", "Accreditation Organisation of the Netherlands and Flanders", "NL")

    for name in ("Hogeschool Oud", "hogeschool  NIEUW"):
        institution = Institution(name_official=name, locations=(Location("NL"),))
        assert find_provider(registry, agency.org, institution, "institutions[0]") == provider_id
    elsewhere = Institution(name_official="Hogeschool Oud", locations=(Location("BE"),))
    assert find_provider(registry, agency.org, elsewhere, "i") is None


def test_two_providers_cannot_hold_one_eter_id(registry):
    registry.register_provider(OPERATOR, names={"nl": "Een"}, country="NL", eter_id="NL0001")
    with pytest.raises(StateConflict) as conflict:
        registry.register_provider(OPERATOR, names={"nl": "Twee"}, country="NL", eter_id="nl0001")
    assert "eter_id" in conflict.value.detail
