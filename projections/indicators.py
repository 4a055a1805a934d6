"""The dashboard's indicators, kept as counter moves on two days: when each takes effect and when it was recorded.

One table of counters, ``dashboard_facts``, holds every indicator the national dashboard draws beyond its
volumes and rates (``dashboard``): providers by accreditation status, QA agencies by status and their reviews
by outcome, specifications by EQF level, ISCED-F broad field and ECTS band, credentials issued, revoked (by
reason code) and suspended, credentials by the standing of their QA, recognitions by both countries and
outcome, the days each took to decide, appeals and their results, learners erased. A row is a move of one
counter (``Fact``): + on the day a count begins, - on the day it ends, keyed by the day it takes effect and the
day it was recorded (UTC). So "as of" a day sums the moves effective by then, and "as known at" a day sums only
those recorded by then: a GROUP BY over counters, never a scan of credentials (``indicators_queries``).
What the moves depend on (a provider's accreditations, a recognition's outcome) is kept in
``dashboard_fact_states``; each credential's country in ``dashboard_fact_credentials``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL

from mcreg.projections.engine import Projection, View, event_class
from mcreg.projections.indicator_tally import (
    Change,
    Spec,
    Tally,
    agency_deregistered,
    agency_registered,
    agency_reinstated,
    agency_suspended,
)
from mcreg.projections.indicators_queries import IndicatorQueries
from mcreg.projections.tables import Table, TableWriter
from mcreg.projections.timelines import BasisState
from mcreg.registry.aggregates.accreditation import Accreditation
from mcreg.registry.aggregates.agency import Agency
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.learners import Erasure
from mcreg.registry.aggregates.microcredential import MicroCredential
from mcreg.registry.aggregates.provider import Provider
from mcreg.registry.aggregates.recognition import Recognition
from mcreg.registry.aggregates.review import Decision, Review
from mcreg.registry.quality import BasisKind
from mcreg.registry.vocabulary import QA_COVER

FACTS = Table(
    "dashboard_facts",
    columns=(
        ("indicator", "text"),
        ("country", "text"),  # "" where an indicator has none (learners erased)
        ("category", "text"),  # a status, outcome, reason code, level, field, band or number of days; or ""
        ("partner", "text"),  # the issuer country of a recognition, the subject of an appeal; or ""
        ("effective", "date"),
        ("recorded", "date"),
        ("n", "int4 NOT NULL"),
    ),
    key=("indicator", "country", "category", "partner", "effective", "recorded"),
)
"""Counters: the moves of each indicator, by the day they take effect and the day they were recorded."""
STATES = Table(
    "dashboard_fact_states", columns=(("subject_id", "uuid"), ("state", "jsonb NOT NULL")), key=("subject_id",)
)
"""What later moves depend on, per provider, QA basis, agency, micro-credential and recognition."""
CREDENTIALS = Table(
    "dashboard_fact_credentials",
    columns=(("credential_id", "uuid"), ("country", "text NOT NULL")),
    key=("credential_id",),
)
"""Each credential's issuer country, for its revocation, suspension and recognitions."""


@dataclass
class IndicatorChanges:
    """A page's changes in log order, and the ids whose states they read (loaded at once when the page is written)."""

    changes: list[Change] = field(default_factory=list)
    subjects: set[UUID] = field(default_factory=set)
    credentials: set[UUID] = field(default_factory=set)

    def add(self, change: Change, *subjects: UUID, credential: UUID | None = None) -> None:
        self.changes.append(change)
        self.subjects.update(subjects)
        if credential is not None:
            self.credentials.add(credential)


class IndicatorsView(IndicatorQueries, View[IndicatorChanges]):
    """The indicators' counters and the states they are counted from, written a page at a time."""

    tables = (FACTS.name, STATES.name, CREDENTIALS.name)

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.sql_create_statements.extend(t.create_statement(self.schema) for t in (FACTS, STATES, CREDENTIALS))
        self.sql_create_statements.extend(
            SQL(statement).format(self.schema)
            for statement in (
                "CREATE INDEX IF NOT EXISTS dashboard_facts_by_day ON {0}.dashboard_facts (effective, recorded)",
                "CREATE INDEX IF NOT EXISTS dashboard_facts_by_country ON {0}.dashboard_facts (country, effective)",
                "CREATE INDEX IF NOT EXISTS dashboard_facts_by_partner ON {0}.dashboard_facts (partner) "
                "WHERE indicator = 'recognitions'",
                "CREATE INDEX IF NOT EXISTS dashboard_facts_emptied ON {0}.dashboard_facts (indicator) WHERE n = 0",
            )
        )
        self.credentials = TableWriter(self.schema, CREDENTIALS)
        self.count_statement = FACTS.add_statement(self.schema, ("n",))
        # A counter whose moves cancel goes, as if it had never been counted (as a rebuild would have it).
        self.drop_emptied_statement = SQL("DELETE FROM {0}.dashboard_facts WHERE n = 0").format(self.schema)
        self.select_states_statement = SQL(
            "SELECT subject_id, state FROM {0}.dashboard_fact_states WHERE subject_id = ANY(%s)"
        ).format(self.schema)
        self.keep_states_statement = SQL(
            "INSERT INTO {0}.dashboard_fact_states (subject_id, state) SELECT s.id, s.state::jsonb "
            "FROM unnest(%s::uuid[], %s::text[]) AS s(id, state) "
            "ON CONFLICT (subject_id) DO UPDATE SET state = excluded.state"
        ).format(self.schema)
        self.select_countries_statement = SQL(
            "SELECT credential_id, country FROM {0}.dashboard_fact_credentials WHERE credential_id = ANY(%s)"
        ).format(self.schema)

    def write(self, curs: Cursor[DictRow], changes: IndicatorChanges) -> None:
        tally = Tally(CursorStore(self, curs), changes.subjects, changes.credentials)
        for change in changes.changes:
            change(tally)
        tally.finish()
        if tally.new_credentials:
            self.credentials.copy(curs, tally.new_credentials.items())
        if tally.changed:
            ids = list(tally.changed)
            curs.execute(self.keep_states_statement, [ids, [json.dumps(tally.states[i]) for i in ids]])
        moved = [(*fact, n) for fact, n in tally.facts.items() if n]
        if moved:
            curs.execute(self.count_statement, [list(column) for column in zip(*moved, strict=True)])
            curs.execute(self.drop_emptied_statement)


@dataclass
class CursorStore:
    """A tally's ``Store``: the view's tables, read in the page's transaction."""

    view: IndicatorsView
    curs: Cursor[DictRow]

    def states(self, ids: Iterable[UUID]) -> dict[UUID, dict[str, Any]]:
        self.curs.execute(self.view.select_states_statement, [list(ids)])
        return {row["subject_id"]: row["state"] for row in self.curs.fetchall()}

    def credential_countries(self, ids: Iterable[UUID]) -> dict[UUID, str]:
        self.curs.execute(self.view.select_countries_statement, [list(ids)])
        return {row["credential_id"]: row["country"] for row in self.curs.fetchall()}


def recorded(event: Any) -> date:
    """The day (UTC) the registry recorded an event."""
    day: date = event.timestamp.astimezone(UTC).date()
    return day


class IndicatorsProjection(Projection[IndicatorChanges]):
    """Keeps the dashboard's indicators from the events of providers, QA, micro-credentials, credentials,
    recognitions and erasures."""

    name = "indicators"
    view_class = IndicatorsView

    def changes(self) -> IndicatorChanges:
        return IndicatorChanges()

    @functools.singledispatchmethod
    def process_event(self, event: Any, position: int, changes: IndicatorChanges) -> None:
        """Other events move no indicator."""

    @process_event.register(event_class(Provider, "Registered"))
    def _(self, event: Any, position: int, changes: IndicatorChanges) -> None:
        pid, country, day, rec = event.originator_id, event.country, event.stamp.effective, recorded(event)
        changes.add(lambda t: t.provider_registered(pid, country, day, rec), pid)

    @process_event.register(event_class(Agency, "Registered"))
    def _(self, event: Any, position: int, changes: IndicatorChanges) -> None:
        change = agency_registered(event.country, event.stamp.effective)
        self.agency(event, changes, change)

    @process_event.register(event_class(Agency, "Suspended"))
    def _(self, event: Any, position: int, changes: IndicatorChanges) -> None:
        self.agency(event, changes, agency_suspended(event.stamp.effective))

    @process_event.register(event_class(Agency, "Reinstated"))
    def _(self, event: Any, position: int, changes: IndicatorChanges) -> None:
        self.agency(event, changes, agency_reinstated(event.stamp.effective))

    @process_event.register(event_class(Agency, "Deregistered"))
    def _(self, event: Any, position: int, changes: IndicatorChanges) -> None:
        self.agency(event, changes, agency_deregistered(event.stamp.effective))

    @staticmethod
    def agency(event: Any, changes: IndicatorChanges, change: Callable[[dict[str, Any]], None]) -> None:
        aid, rec = event.originator_id, recorded(event)
        changes.add(lambda t: t.agency_changed(aid, rec, change), aid)

    @process_event.register(event_class(Accreditation, "Granted"))
    def _(self, event: Any, position: int, changes: IndicatorChanges) -> None:
        basis = BasisState(
            kind=BasisKind.ACCREDITATION.value,
            provider_id=str(event.provider_id),
            start=min(event.stamp.effective, event.valid_from),  # a grant may be recorded after it took effect
            positive=event.outcome in QA_COVER,
            valid_from=event.valid_from,
            valid_to=event.valid_to,
        )
        bid, rec = event.originator_id, recorded(event)
        changes.add(lambda t: t.basis_opened(bid, basis, rec), bid, event.provider_id)

    @process_event.register(event_class(Review, "Opened"))
    def _(self, event: Any, position: int, changes: IndicatorChanges) -> None:
        basis = BasisState(
            kind=BasisKind.REVIEW.value, provider_id=str(event.provider_id), start=event.stamp.effective, positive=False
        )
        bid, rec = event.originator_id, recorded(event)
        changes.add(lambda t: t.basis_opened(bid, basis, rec), bid, event.provider_id)

    @process_event.register(event_class(Accreditation, "Renewed"))
    def _(self, event: Any, position: int, changes: IndicatorChanges) -> None:
        valid_to = event.valid_to

        def renew(basis: BasisState) -> None:
            basis.valid_to = valid_to

        self.basis(event, changes, renew)

    @process_event.register(event_class(Accreditation, "Suspended"))
    def _(self, event: Any, position: int, changes: IndicatorChanges) -> None:
        day = event.stamp.effective

        def suspend(basis: BasisState) -> None:
            basis.suspensions.append([day, None])

        self.basis(event, changes, suspend)

    @process_event.register(event_class(Accreditation, "Reinstated"))
    def _(self, event: Any, position: int, changes: IndicatorChanges) -> None:
        day = event.stamp.effective

        def reinstate(basis: BasisState) -> None:
            basis.suspensions[-1][1] = day

        self.basis(event, changes, reinstate)

    @process_event.register(event_class(Accreditation, "Withdrawn"))
    @process_event.register(event_class(Review, "Withdrawn"))
    def _(self, event: Any, position: int, changes: IndicatorChanges) -> None:
        day = event.stamp.effective

        def withdraw(basis: BasisState) -> None:
            basis.withdrawn_on = day

        self.basis(event, changes, withdraw)

    @process_event.register(event_class(Review, "Decided"))
    def _(self, event: Any, position: int, changes: IndicatorChanges) -> None:
        rid, decision, day, rec = (
            event.originator_id,
            event.decision.decision.value,
            event.stamp.effective,
            recorded(event),
        )
        changes.add(lambda t: t.review_decided(rid, decision, day, rec), rid)
        self.review_decision(event, changes, event.decision)

    @process_event.register(event_class(Review, "Appealed"))
    @process_event.register(event_class(Recognition, "Appealed"))
    def _(self, event: Any, position: int, changes: IndicatorChanges) -> None:
        subject = "review" if isinstance(event, event_class(Review, "Appealed")) else "recognition"
        sid, day, rec = event.originator_id, event.stamp.effective, recorded(event)
        changes.add(lambda t: t.appealed(subject, sid, day, rec), sid)

    @process_event.register(event_class(Review, "AppealDecided"))
    def _(self, event: Any, position: int, changes: IndicatorChanges) -> None:
        sid, outcome, day, rec = event.originator_id, str(event.outcome), event.stamp.effective, recorded(event)
        changes.add(lambda t: t.appeal_decided("review", sid, outcome, None, day, rec), sid)
        if event.decision is not None:
            self.review_decision(event, changes, event.decision)

    def review_decision(self, event: Any, changes: IndicatorChanges, decision: Decision) -> None:
        positive, valid_from, valid_to = decision.decision in QA_COVER, decision.valid_from, decision.valid_to

        def decide(basis: BasisState) -> None:
            basis.positive, basis.valid_from, basis.valid_to = positive, valid_from, valid_to

        self.basis(event, changes, decide)

    @staticmethod
    def basis(event: Any, changes: IndicatorChanges, change: Callable[[BasisState], None]) -> None:
        bid, rec = event.originator_id, recorded(event)
        changes.add(lambda t: t.basis_changed(bid, change, rec), bid)

    @process_event.register(event_class(MicroCredential, "Specified"))
    def _(self, event: Any, position: int, changes: IndicatorChanges) -> None:
        s = event.specification
        mc, pid, spec, day, rec = (
            event.originator_id,
            event.provider_id,
            Spec.of(s.eqf_level, s.isced_field, s.ects),
            event.stamp.effective,
            recorded(event),
        )
        changes.add(lambda t: t.specified(mc, pid, spec, day, rec), mc, pid)

    @process_event.register(event_class(MicroCredential, "Revised"))
    def _(self, event: Any, position: int, changes: IndicatorChanges) -> None:
        s = event.specification
        mc, spec, day, rec = (
            event.originator_id,
            Spec.of(s.eqf_level, s.isced_field, s.ects),
            event.stamp.effective,
            recorded(event),
        )
        changes.add(lambda t: t.specified(mc, None, spec, day, rec), mc)

    @process_event.register(event_class(MicroCredential, "Retired"))
    def _(self, event: Any, position: int, changes: IndicatorChanges) -> None:
        mc, day, rec = event.originator_id, event.stamp.effective, recorded(event)
        changes.add(lambda t: t.specified(mc, None, None, day, rec), mc)

    @process_event.register(event_class(Credential, "Issued"))
    def _(self, event: Any, position: int, changes: IndicatorChanges) -> None:
        cid, pid, bid, day, rec = (
            event.originator_id,
            event.provider_id,
            event.qa_basis.id,
            event.stamp.effective,
            recorded(event),
        )
        changes.add(lambda t: t.issued(cid, pid, bid, day, rec), pid, bid)

    @process_event.register(event_class(Credential, "Revoked"))
    def _(self, event: Any, position: int, changes: IndicatorChanges) -> None:
        cid, reason, day, rec = event.originator_id, str(event.reason), event.stamp.effective, recorded(event)
        changes.add(lambda t: t.credential_changed("revoked", cid, reason, day, rec), credential=cid)

    @process_event.register(event_class(Credential, "Suspended"))
    def _(self, event: Any, position: int, changes: IndicatorChanges) -> None:
        cid, day, rec = event.originator_id, event.stamp.effective, recorded(event)
        changes.add(lambda t: t.credential_changed("suspended", cid, "", day, rec), credential=cid)

    @process_event.register(event_class(Erasure, "LearnerForgotten"))
    def _(self, event: Any, position: int, changes: IndicatorChanges) -> None:
        day, rec = event.stamp.effective, recorded(event)
        changes.add(lambda t: t.erased(day, rec))

    @process_event.register(event_class(Recognition, "Requested"))
    def _(self, event: Any, position: int, changes: IndicatorChanges) -> None:
        rid, cid, iid, day, rec = (
            event.originator_id,
            event.credential_id,
            event.institution_id,
            event.stamp.effective,
            recorded(event),
        )
        changes.add(lambda t: t.requested(rid, cid, iid, day, rec), rid, iid, credential=cid)

    @process_event.register(event_class(Recognition, "Decided"))
    def _(self, event: Any, position: int, changes: IndicatorChanges) -> None:
        rid, outcome, day, rec = event.originator_id, str(event.verdict.outcome), event.stamp.effective, recorded(event)
        changes.add(lambda t: t.decided(rid, outcome, day, rec), rid)

    @process_event.register(event_class(Recognition, "AppealDecided"))
    def _(self, event: Any, position: int, changes: IndicatorChanges) -> None:
        new = str(event.verdict.outcome) if event.verdict is not None else None
        rid, outcome, day, rec = event.originator_id, str(event.outcome), event.stamp.effective, recorded(event)
        changes.add(lambda t: t.appeal_decided("recognition", rid, outcome, new, day, rec), rid)
