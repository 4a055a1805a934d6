"""The national dashboard, ``/dashboard``: every indicator as a chart, its table, and its CSV, for one country or the
whole registry, as of a day and as known at another.

The numbers are those of GraphQL's ``dashboard { indicators }``: both call ``read_indicators``. Each indicator is
listed once in ``INDICATORS``: its name (the CSV's address), its columns, its rows and its kind of chart.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

import pycountry
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from mcreg.api.deps import ReadSide, Registered, Visitor
from mcreg.api.graphql.indicators import IndicatorsObject, checked_days, read_indicators
from mcreg.api.pages import charts
from mcreg.api.pages.assets import templates
from mcreg.api.pages.errors import PageError
from mcreg.api.pages.languages import Language, PageLanguage
from mcreg.registry import validate as v
from mcreg.registry.errors import InvalidInput

router = APIRouter(include_in_schema=False)

Rows = list[tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class Indicator:
    """One indicator of the page: ``columns`` name the CSV's header row; the chart is drawn from the rows."""

    name: str
    columns: tuple[str, ...]
    rows: Callable[[IndicatorsObject], Rows]
    chart: Callable[[Rows], charts.BarChart | charts.Matrix]


def counted(rows: Sequence[Any]) -> Rows:
    return [(r.category, r.count) for r in rows]


def monthly(rows: Sequence[Any]) -> Rows:
    return [(r.month, r.count) for r in rows]


def by_month(rows: Sequence[Any]) -> Rows:
    return [(r.month, r.category, r.count) for r in rows]


def bars(rows: Rows) -> charts.BarChart:
    return charts.bars([(str(r[0]), r[-1]) for r in rows])


def stacked(rows: Rows) -> charts.BarChart:
    return charts.stacked([(str(r[0]), str(r[1]), r[-1]) for r in rows])


def by_result(rows: Rows) -> charts.BarChart:
    """Appeals: a bar per result (lodged, upheld, overturned), stacked by subject."""
    return charts.stacked([(str(r[1]), str(r[0]), r[-1]) for r in rows])


def heat(rows: Rows) -> charts.Matrix:
    return charts.matrix([(str(r[0]), str(r[1]), r[-1]) for r in rows])


INDICATORS = (
    Indicator("providers", ("status", "providers"), lambda i: counted(i.providers_by_status), bars),
    Indicator("agencies", ("status", "agencies"), lambda i: counted(i.agencies_by_status), bars),
    Indicator("reviews", ("month", "outcome", "reviews"), lambda i: by_month(i.reviews_by_month), stacked),
    Indicator(
        "specifications-eqf", ("eqf_level", "specifications"), lambda i: counted(i.specifications_by_eqf_level), bars
    ),
    Indicator(
        "specifications-field",
        ("isced_broad_field", "specifications"),
        lambda i: counted(i.specifications_by_field),
        bars,
    ),
    Indicator(
        "specifications-ects", ("ects_band", "specifications"), lambda i: counted(i.specifications_by_ects), bars
    ),
    Indicator("issued", ("month", "credentials"), lambda i: monthly(i.issued_by_month), bars),
    Indicator("revoked", ("month", "reason", "credentials"), lambda i: by_month(i.revoked_by_month), stacked),
    Indicator("suspended", ("month", "credentials"), lambda i: monthly(i.suspended_by_month), bars),
    Indicator("credentials-qa", ("qa_standing", "credentials"), lambda i: counted(i.credentials_by_qa_standing), bars),
    Indicator(
        "recognitions",
        ("recognising_country", "issuer_country", "outcome", "recognitions"),
        lambda i: [(f.recognising_country, f.issuer_country, f.outcome, f.count) for f in i.recognition_flows],
        heat,
    ),
    Indicator("recognition-outcomes", ("outcome", "recognitions"), lambda i: counted(i.recognition_outcomes), bars),
    Indicator("decision-time", ("days", "recognitions"), lambda i: counted(i.decision_time.by_band), bars),
    Indicator(
        "appeals",
        ("subject", "result", "appeals"),
        lambda i: [(a.subject, a.result, a.count) for a in i.appeals],
        stacked,
    ),
    Indicator("learners-erased", ("learners", "erased"), lambda i: [("erased", i.learners_erased)], bars),
)
BY_NAME = {indicator.name: indicator for indicator in INDICATORS}
COUNTRY_CHOICES = tuple(sorted(((c.alpha_2, c.name) for c in pycountry.countries), key=lambda choice: choice[1]))
"""The picker's countries: ISO 3166-1 code and name, by name."""


@dataclass(frozen=True, slots=True)
class Asked:
    """The page's arguments, checked: ``country`` None for the whole registry."""

    country: str | None
    as_of: date
    known_at: date | None

    def query(self) -> dict[str, str]:
        """The arguments as a query string's fields (for the CSV links)."""
        asked = {"country": self.country, "as_of": self.as_of.isoformat(), "known_at": self.known_at}
        return {k: str(value) for k, value in asked.items() if value is not None}


def bad_request(language: Language, field: str, detail: str) -> PageError:
    title = language.gettext("The dashboard cannot answer that")
    return PageError(400, title, language.gettext("%(field)s: ", field=field) + detail)


def asked(
    language: PageLanguage,
    registry: Registered,
    country: str | None = None,
    as_of: str | None = None,
    known_at: str | None = None,
) -> Asked:
    """The page's query arguments checked, or a 400 page, in the page's language, naming the field at fault."""
    gettext = language.gettext
    chosen = None
    if country:
        try:
            chosen = v.country("country", country)
        except InvalidInput:
            detail = gettext("not a country this registry knows (ISO 3166-1 alpha-2)")
            raise bad_request(language, "country", detail) from None
    days = {}
    for field, text in (("as_of", as_of), ("known_at", known_at)):
        try:
            days[field] = date.fromisoformat(text) if text else None
        except ValueError:
            raise bad_request(language, field, gettext("must be a date as YYYY-MM-DD")) from None
    try:
        day = checked_days(days["as_of"], days["known_at"], registry.today(), ("as_of", "known_at"))
    except InvalidInput as error:
        raise bad_request(language, error.field, gettext("must not be in the future")) from None
    return Asked(chosen, day, days["known_at"])


AskedFor = Annotated[Asked, Depends(asked)]
"""The dashboard's arguments, checked once for the page and its CSV downloads alike."""


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(
    request: Request,
    _: Visitor,
    read_models: ReadSide,
    registry: Registered,
    chosen: AskedFor,
) -> HTMLResponse:
    """The national dashboard: each indicator as a chart, a table of its numbers and a CSV download."""
    today = registry.today()
    figures = read_indicators(read_models, chosen.country, chosen.as_of, chosen.known_at)
    shown = []
    for indicator in INDICATORS:
        rows = indicator.rows(figures)
        shown.append({"indicator": indicator, "rows": rows, "chart": indicator.chart(rows)})
    context = {
        "asked": chosen,
        "today": today,
        "countries": COUNTRY_CHOICES,
        "figures": figures,
        "indicators": shown,
        "query": chosen.query(),
    }
    return templates.TemplateResponse(request, "dashboard.html", context)


@router.get("/dashboard/{name}.csv")
def indicator_csv(
    name: str,
    _: Visitor,
    read_models: ReadSide,
    language: PageLanguage,
    chosen: AskedFor,
) -> Response:
    """One indicator's numbers as CSV, with a header row; the same arguments as the page."""
    indicator = BY_NAME.get(name)
    if indicator is None:
        no_such = language.gettext("The dashboard has no indicator by that name.")
        raise PageError(404, language.gettext("No such indicator"), no_such)
    rows = indicator.rows(read_indicators(read_models, chosen.country, chosen.as_of, chosen.known_at))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(indicator.columns)
    writer.writerows(rows)
    disposition = f'attachment; filename="{name}-{chosen.country or "all"}-{chosen.as_of.isoformat()}.csv"'
    return Response(out.getvalue(), media_type="text/csv", headers={"Content-Disposition": disposition})
