"""The dashboard's indicators as counter moves: what each change of the registry adds to which counter, and when.

A ``Tally`` folds one page's changes, in log order, into ``facts``: moves of counters keyed by indicator, country,
category, partner, the day they take effect and the day they were recorded (see ``indicators``). It reads and
keeps the few states the moves depend on (a provider's accreditations, a recognition's decision in force, a
credential's country) through its ``Store``, loading what the page did not announce one at a time.
Nothing here says anything of a learner: a revocation counts by its reason's code, an erasure as one.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple, Protocol
from uuid import UUID

from mcreg.projections.timelines import (
    BasisState,
    Timeline,
    agency_timeline,
    day_of,
    iso,
    moves,
    provider_timeline,
)

Change = Callable[["Tally"], None]
"""One event's change, applied to the page's tally in log order."""

ECTS_BANDS = ((Decimal(1), "under_1"), (Decimal(3), "1_to_3"), (Decimal(6), "3_to_6"), (Decimal(15), "6_to_15"))
"""Upper bounds (exclusive) of the ECTS bands; at or over the last, "15_or_more"."""


class Fact(NamedTuple):
    """Where a counter move is counted."""

    indicator: str
    country: str
    category: str
    partner: str
    effective: date
    recorded: date


class Store(Protocol):
    """The states a tally reads: ``states`` by subject id (absent when none was kept), credentials' countries."""

    def states(self, ids: Iterable[UUID]) -> dict[UUID, dict[str, Any]]: ...

    def credential_countries(self, ids: Iterable[UUID]) -> dict[UUID, str]: ...


def ects_band(ects: Decimal) -> str:
    return next((band for bound, band in ECTS_BANDS if ects < bound), "15_or_more")


@dataclass
class Spec:
    """A micro-credential's counted cells: its level ("none" when no EQF level applies), field and ECTS band."""

    eqf_level: str
    isced_broad: str
    ects_band: str

    @classmethod
    def of(cls, eqf_level: int | None, isced_field: str, ects: Decimal) -> Spec:
        return cls("none" if eqf_level is None else str(eqf_level), isced_field[:2], ects_band(ects))


class Tally:
    """One page's counter moves, and the states they changed."""

    def __init__(self, store: Store, subjects: Iterable[UUID], credentials: Iterable[UUID]) -> None:
        self.store = store
        self.states = store.states(set(subjects))
        self.countries = store.credential_countries(set(credentials))
        self.facts: Counter[Fact] = Counter()
        self.changed: set[UUID] = set()
        self.new_credentials: dict[UUID, str] = {}
        # Credentials issued in the page, by basis: counted under it when the page ends or before the basis changes.
        self.pending: defaultdict[UUID, Counter[tuple[str, date, date]]] = defaultdict(Counter)

    # States -------------------------------------------------------------------------

    def state(self, subject_id: UUID) -> dict[str, Any] | None:
        if subject_id not in self.states:
            self.states.update(self.store.states([subject_id]))
        return self.states.get(subject_id)

    def keep(self, subject_id: UUID, state: dict[str, Any]) -> None:
        self.states[subject_id] = state
        self.changed.add(subject_id)

    def country_of(self, credential_id: UUID) -> str | None:
        if credential_id not in self.countries:
            self.countries.update(self.store.credential_countries([credential_id]))
        return self.countries.get(credential_id)

    def count(self, indicator: str, country: str, effective: date, recorded: date, n: int = 1, **keys: str) -> None:
        self.facts[
            Fact(indicator, country, keys.get("category", ""), keys.get("partner", ""), effective, recorded)
        ] += n

    def count_moves(
        self, indicator: str, country: str, recorded: date, counted: Counter[tuple[str, date]], partner: str = ""
    ) -> None:
        for (category, day), n in counted.items():
            if n:
                self.count(indicator, country, day, recorded, n, category=category, partner=partner)

    def finish(self) -> None:
        """Count the credentials still pending under their bases."""
        for basis_id in list(self.pending):
            self.flush(basis_id)

    # Providers and their QA ----------------------------------------------------------

    def provider_registered(self, provider_id: UUID, country: str, day: date, recorded: date) -> None:
        self.keep(provider_id, {"country": country, "registered_on": day.isoformat(), "accreditations": []})
        self.count_moves("providers", country, recorded, moves(provider_timeline(day, []), day))

    def basis_opened(self, basis_id: UUID, state: BasisState, recorded: date) -> None:
        """An accreditation granted or a review opened."""
        self.keep(basis_id, state.jsonable())
        if state.kind == "accreditation":
            provider = self.state(UUID(state.provider_id))
            if provider is not None:
                before = self.provider_status(provider)
                provider["accreditations"] = [*provider["accreditations"], str(basis_id)]
                self.keep(UUID(state.provider_id), provider)
                self.count_status_change(provider, before, recorded)

    def basis_changed(self, basis_id: UUID, change: Callable[[BasisState], None], recorded: date) -> None:
        """An accreditation renewed, suspended, reinstated or withdrawn, a review decided or withdrawn: the
        standing of its credentials, and its provider's status, move from the old timeline to the new one."""
        self.flush(basis_id)
        stored = self.state(basis_id)
        if stored is None:
            return
        provider = self.state(UUID(stored["provider_id"])) if stored["kind"] == "accreditation" else None
        provider_before = self.provider_status(provider) if provider is not None else None
        old = BasisState.of(stored)
        new = BasisState.of(stored)
        change(new)
        self.keep(basis_id, new.jsonable())
        old_timeline, new_timeline = old.timeline(), new.timeline()
        for key, n in old.issued.items():
            country, day = key.split(" ")
            counted = moves(new_timeline, date.fromisoformat(day), n)
            counted.subtract(moves(old_timeline, date.fromisoformat(day), n))
            self.count_moves("credentials_qa", country, recorded, counted)
        if provider is not None and provider_before is not None:
            self.count_status_change(provider, provider_before, recorded)

    def provider_status(self, provider: dict[str, Any]) -> Timeline:
        accreditations = (self.state(UUID(a)) for a in provider["accreditations"])
        states = [BasisState.of(a) for a in accreditations if a is not None]
        return provider_timeline(date.fromisoformat(provider["registered_on"]), states)

    def count_status_change(self, provider: dict[str, Any], before: Timeline, recorded: date) -> None:
        registered_on = date.fromisoformat(provider["registered_on"])
        counted = moves(self.provider_status(provider), registered_on)
        counted.subtract(moves(before, registered_on))
        self.count_moves("providers", provider["country"], recorded, counted)

    def flush(self, basis_id: UUID) -> None:
        """Count the page's credentials under a basis in the standings of its timeline, from each one's issue."""
        pending = self.pending.pop(basis_id, None)
        stored = self.state(basis_id) if pending else None
        if pending is None or stored is None:
            return
        basis = BasisState.of(stored)
        timeline = basis.timeline()
        for (country, day, recorded), n in pending.items():
            self.count_moves("credentials_qa", country, recorded, moves(timeline, day, n))
            key = f"{country} {day.isoformat()}"
            basis.issued[key] = basis.issued.get(key, 0) + n
        self.keep(basis_id, basis.jsonable())

    def review_decided(self, review_id: UUID, decision: str, day: date, recorded: date) -> None:
        if (country := self.basis_country(review_id)) is not None:
            self.count("reviews", country, day, recorded, category=decision)

    def basis_country(self, basis_id: UUID) -> str | None:
        basis = self.state(basis_id)
        provider = self.state(UUID(basis["provider_id"])) if basis is not None else None
        return provider["country"] if provider is not None else None

    # Agencies -------------------------------------------------------------------------

    def agency_changed(self, agency_id: UUID, recorded: date, change: Callable[[dict[str, Any]], None]) -> None:
        """An agency registered (its state is created by ``change``), suspended, reinstated or deregistered."""
        stored = self.state(agency_id)
        before = agency_moves(stored) if stored is not None else Counter()
        state = dict(stored or {})
        change(state)
        self.keep(agency_id, state)
        counted = agency_moves(state)
        counted.subtract(before)
        self.count_moves("agencies", state["country"], recorded, counted)

    # Micro-credentials ----------------------------------------------------------------

    def specified(
        self, microcredential_id: UUID, provider_id: UUID | None, spec: Spec | None, day: date, recorded: date
    ) -> None:
        """A micro-credential specified (its provider given), revised, or retired (no spec)."""
        stored = self.state(microcredential_id)
        if stored is None and provider_id is not None:
            provider = self.state(provider_id)
            stored = {"country": provider["country"] if provider else "", "spec": None}
        if stored is None:
            return
        if stored["spec"] is not None:
            self.count_spec(stored["country"], Spec(*stored["spec"]), day, recorded, -1)
        if spec is not None:
            self.count_spec(stored["country"], spec, day, recorded, 1)
        self.keep(microcredential_id, {**stored, "spec": None if spec is None else list(vars(spec).values())})

    def count_spec(self, country: str, spec: Spec, day: date, recorded: date, n: int) -> None:
        self.count("specifications_eqf", country, day, recorded, n, category=spec.eqf_level)
        self.count("specifications_field", country, day, recorded, n, category=spec.isced_broad)
        self.count("specifications_ects", country, day, recorded, n, category=spec.ects_band)

    # Credentials ----------------------------------------------------------------------

    def issued(self, credential_id: UUID, provider_id: UUID, basis_id: UUID, day: date, recorded: date) -> None:
        provider = self.state(provider_id)
        country = provider["country"] if provider is not None else ""
        self.new_credentials[credential_id] = self.countries[credential_id] = country
        self.count("issued", country, day, recorded)
        self.pending[basis_id][country, day, recorded] += 1

    def credential_changed(self, indicator: str, credential_id: UUID, category: str, day: date, recorded: date) -> None:
        """A credential revoked (with its reason's code) or suspended."""
        if (country := self.country_of(credential_id)) is not None:
            self.count(indicator, country, day, recorded, category=category)

    def erased(self, day: date, recorded: date) -> None:
        self.count("erased", "", day, recorded)

    # Recognitions ---------------------------------------------------------------------

    def requested(
        self, recognition_id: UUID, credential_id: UUID, institution_id: UUID, day: date, recorded: date
    ) -> None:
        institution = self.state(institution_id)
        self.keep(
            recognition_id,
            {
                "issuer": self.country_of(credential_id) or "",
                "recognising": institution["country"] if institution is not None else "",
                "requested_on": day.isoformat(),
                "outcome": None,
            },
        )

    def decided(self, recognition_id: UUID, outcome: str, day: date, recorded: date) -> None:
        """A recognition's first decision: its outcome, counted by both countries, and the days it took."""
        if (state := self.state(recognition_id)) is None:
            return
        self.count("recognitions", state["recognising"], day, recorded, category=outcome, partner=state["issuer"])
        days = (day - date.fromisoformat(state["requested_on"])).days
        self.count("decision_days", state["recognising"], day, recorded, category=str(days))
        self.keep(recognition_id, {**state, "outcome": outcome})

    def appealed(self, subject: str, subject_id: UUID, day: date, recorded: date) -> None:
        if (country := self.appeal_country(subject, subject_id)) is not None:
            self.count("appeals", country, day, recorded, category="lodged", partner=subject)

    def appeal_decided(
        self, subject: str, subject_id: UUID, outcome: str, new_outcome: str | None, day: date, recorded: date
    ) -> None:
        """An appeal's result; an overturned recognition moves from its old outcome to the new one."""
        if (country := self.appeal_country(subject, subject_id)) is None:
            return
        self.count("appeals", country, day, recorded, category=outcome, partner=subject)
        state = self.state(subject_id) if subject == "recognition" else None
        if state is not None and new_outcome is not None:
            issuer = state["issuer"]
            self.count("recognitions", country, day, recorded, -1, category=state["outcome"], partner=issuer)
            self.count("recognitions", country, day, recorded, category=new_outcome, partner=issuer)
            self.keep(subject_id, {**state, "outcome": new_outcome})

    def appeal_country(self, subject: str, subject_id: UUID) -> str | None:
        if subject == "review":
            return self.basis_country(subject_id)
        state = self.state(subject_id)
        return state["recognising"] if state is not None else None


def agency_moves(state: dict[str, Any]) -> Counter[tuple[str, date]]:
    registered_on = date.fromisoformat(state["registered_on"])
    suspensions = [[day_of(s), day_of(e)] for s, e in state["suspensions"]]
    timeline = agency_timeline(registered_on, suspensions, day_of(state["deregistered_on"]))
    return moves(timeline, registered_on)


def agency_registered(country: str, day: date) -> Callable[[dict[str, Any]], None]:
    def change(state: dict[str, Any]) -> None:
        state.update(country=country, registered_on=day.isoformat(), suspensions=[], deregistered_on=None)

    return change


def agency_suspended(day: date) -> Callable[[dict[str, Any]], None]:
    def change(state: dict[str, Any]) -> None:
        state["suspensions"] = [*state["suspensions"], [day.isoformat(), None]]

    return change


def agency_reinstated(day: date) -> Callable[[dict[str, Any]], None]:
    def change(state: dict[str, Any]) -> None:
        *earlier, (start, _) = state["suspensions"]
        state["suspensions"] = [*earlier, [start, day.isoformat()]]

    return change


def agency_deregistered(day: date) -> Callable[[dict[str, Any]], None]:
    def change(state: dict[str, Any]) -> None:
        state["deregistered_on"] = iso(day)

    return change
