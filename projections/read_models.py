"""The registry's read models on one database schema, and what an operator does with them."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from eventsourcing.application import Application
from eventsourcing.postgres import PostgresDatastore

from mcreg.projections import rebuild as rebuilding
from mcreg.projections.audit_timeline import AuditTimelineProjection, AuditTimelineView
from mcreg.projections.browsing import CatalogueBrowser
from mcreg.projections.catalogue import CatalogueProjection, CatalogueView
from mcreg.projections.credential_identifiers import CredentialIdentifiersProjection, CredentialIdentifiersView
from mcreg.projections.credential_status import CredentialStatusProjection, CredentialStatusView
from mcreg.projections.dashboard import DashboardProjection, DashboardView
from mcreg.projections.engine import (
    IDLE,
    PAGE_SIZE,
    Progress,
    Projection,
    Projector,
    View,
    catch_up,
    creates_tables,
    open_view,
)
from mcreg.projections.indicators import IndicatorsProjection, IndicatorsView
from mcreg.projections.provider_standing import ProviderStandingProjection, ProviderStandingView
from mcreg.projections.quarantine import Quarantine
from mcreg.projections.rebuild import Comparison
from mcreg.projections.recognitions import RecognitionsProjection, RecognitionsView
from mcreg.projections.status_lists import StatusListsProjection, StatusListsView
from mcreg.projections.worker import ProjectionWorker

AnyView = TypeVar("AnyView", bound=View[Any])

READ_MODELS: tuple[type[Projection[Any]], ...] = (
    CredentialStatusProjection,
    AuditTimelineProjection,
    ProviderStandingProjection,
    CatalogueProjection,
    RecognitionsProjection,
    DashboardProjection,
    IndicatorsProjection,
    StatusListsProjection,
    CredentialIdentifiersProjection,
)


@dataclass(frozen=True, slots=True)
class Check:
    """What a check read, and how each rebuilt projection compares with its live tables."""

    events: int
    comparisons: tuple[Comparison, ...]

    @property
    def equal(self) -> bool:
        return all(c.equal for c in self.comparisons)


class ReadModels:
    """Projections of one application into views on the database ``env`` names (the library's ``POSTGRES_*``), a
    pool each, or all on the pool of ``datastore`` (``engine.open_datastore``)."""

    def __init__(
        self,
        app: Application[Any],
        env: Mapping[str, str],
        projections: Iterable[type[Projection[Any]]] = READ_MODELS,
        *,
        datastore: PostgresDatastore | None = None,
    ) -> None:
        self.app = app
        self.env = dict(env)
        views = {p: open_view(p, self.env, datastore=datastore) for p in projections}
        self.quarantine = Quarantine(next(iter(views.values())).datastore, create=creates_tables(self.env))
        """The events held or skipped, of these read models and of every other projection in their schema."""
        self.projectors = {p.name: Projector(app, p.of(app), view, self.quarantine) for p, view in views.items()}

    @property
    def names(self) -> list[str]:
        return list(self.projectors)

    def __getitem__(self, name: str) -> Projector[Any]:
        return self.projectors[name]

    def view(self, projection: type[Projection[Any]], view_class: type[AnyView]) -> AnyView:
        """The view of one read model, as its own class; KeyError when it was not opened."""
        view = self.projectors[projection.name].view
        if not isinstance(view, view_class):
            raise TypeError(f"{projection.name} is kept in a {type(view).__name__}, not a {view_class.__name__}")
        return view

    # The typed accessor of each read model: what the API, GraphQL and the services query.

    @property
    def credential_status(self) -> CredentialStatusView:
        return self.view(CredentialStatusProjection, CredentialStatusView)

    @property
    def credential_identifiers(self) -> CredentialIdentifiersView:
        return self.view(CredentialIdentifiersProjection, CredentialIdentifiersView)

    @property
    def audit_timeline(self) -> AuditTimelineView:
        return self.view(AuditTimelineProjection, AuditTimelineView)

    @property
    def provider_standing(self) -> ProviderStandingView:
        return self.view(ProviderStandingProjection, ProviderStandingView)

    @property
    def catalogue(self) -> CatalogueView:
        return self.view(CatalogueProjection, CatalogueView)

    @property
    def browsing(self) -> CatalogueBrowser:
        """Faceted lists (``faceted.FacetedQueries``) of micro-credentials and providers, and of the registers
        (``registers``): over the catalogue, provider standing, credential status and recognitions tables."""
        for projection, view in (
            (ProviderStandingProjection, ProviderStandingView),
            (CredentialStatusProjection, CredentialStatusView),
            (RecognitionsProjection, RecognitionsView),
        ):
            self.view(projection, view)  # every table a list reads must be open: KeyError otherwise
        return CatalogueBrowser(self.catalogue.datastore)

    @property
    def recognitions(self) -> RecognitionsView:
        return self.view(RecognitionsProjection, RecognitionsView)

    @property
    def dashboard(self) -> DashboardView:
        return self.view(DashboardProjection, DashboardView)

    @property
    def indicators(self) -> IndicatorsView:
        return self.view(IndicatorsProjection, IndicatorsView)

    @property
    def status_lists(self) -> StatusListsView:
        return self.view(StatusListsProjection, StatusListsView)

    def select(self, names: Iterable[str] | None = None) -> list[Projector[Any]]:
        """The named projectors, all by default; KeyError for a name that is not a read model."""
        return [self.projectors[name] for name in names] if names is not None else list(self.projectors.values())

    def lag(self, names: Iterable[str] | None = None) -> dict[str, int]:
        """Notifications each projection has still to process."""
        return {p.name: p.lag() for p in self.select(names)}

    def position(self) -> int:
        """The position every read model has got to."""
        return min(p.tracked_position() for p in self.select())

    def stopped(self) -> dict[str, int]:
        """The position of the event each stopped projection of the schema (the transparency log's too) holds."""
        return {name: held.position for name, held in self.quarantine.held().items()}

    def catch_up(
        self,
        names: Iterable[str] | None = None,
        *,
        page_size: int = PAGE_SIZE,
        progress: Progress | None = None,
        stop: threading.Event | None = None,
    ) -> int:
        """Bring the projections to the head of the log in one read; the number of notifications read."""
        return catch_up(self.app, self.select(names), page_size=page_size, progress=progress, stop=stop)

    def worker(
        self,
        names: Iterable[str] | None = None,
        *,
        stop: threading.Event | None = None,
        page_size: int = PAGE_SIZE,
        idle: float = IDLE,
    ) -> ProjectionWorker:
        """A worker that catches the projections up and then follows the log."""
        return ProjectionWorker(self.select(names), stop=stop, page_size=page_size, idle=idle)

    def rebuild(
        self, names: Iterable[str] | None = None, *, page_size: int = PAGE_SIZE, progress: Progress | None = None
    ) -> int:
        """Rebuild the projections from position 0 and swap them in; the number of notifications read."""
        return rebuilding.rebuild(self.app, self.select(names), self.env, page_size=page_size, progress=progress)

    def check(
        self, names: Iterable[str] | None = None, *, page_size: int = PAGE_SIZE, progress: Progress | None = None
    ) -> Check:
        """Rebuild the projections aside and compare them with the live tables, which stay as they are."""
        events, comparisons = rebuilding.check(
            self.app, self.select(names), self.env, page_size=page_size, progress=progress
        )
        return Check(events, tuple(comparisons))

    def close(self) -> None:
        for projector in self.projectors.values():
            projector.view.close()
