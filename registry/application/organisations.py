"""Organisations: registering and governing QA agencies and providers, and the identifiers that name providers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from uuid import UUID

from mcreg.registry import validate as v
from mcreg.registry.aggregates.agency import Agency
from mcreg.registry.aggregates.identifiers import ProviderIdentifier, ProviderName, Scheme, normalised
from mcreg.registry.aggregates.provider import Provider, ProviderIdentifiers
from mcreg.registry.application.core import Context, RegistryCore, command
from mcreg.registry.errors import InvalidInput, StateConflict
from mcreg.registry.permissions import require_governs, require_role
from mcreg.registry.schemes import RULES, IdentifierScheme, identifier_value, must_name
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import ESGActivity, ProviderType, Role


def governs(actor: Actor, organisation: Agency | Provider) -> None:
    """The operator, or the national authority of the organisation's country."""
    require_governs(actor, organisation.country)


def manages(actor: Actor, provider: Provider) -> None:
    """The provider itself, or whoever governs its country."""
    if not (actor.role == Role.PROVIDER and actor.org == provider.id):
        governs(actor, provider)


class OrganisationCommands(RegistryCore):
    """Commands on agencies and providers, and lookups of providers by what names them."""

    # Agencies ---------------------------------------------------------------

    @command
    def register_agency(
        self,
        ctx: Context,
        *,
        name: str,
        country: str,
        acronym: str | None = None,
        deqar_id: str | None = None,
        esg_activities: Iterable[str] = (),
        registered_on: date | None = None,
    ) -> UUID:
        country = v.country("country", country)
        require_governs(ctx.actor, country)
        deqar_id = v.identifier("deqar_id", deqar_id)
        agency = Agency(
            stamp=ctx.stamp_on("registered_on", registered_on),
            name=v.text("name", name, max_length=300),
            acronym=v.optional_text("acronym", acronym, max_length=50),
            country=country,
            deqar_id=deqar_id,
            esg_activities=tuple(dict.fromkeys(v.choice("esg_activities", a, ESGActivity) for a in esg_activities)),
        )
        if self._exists(agency.id):
            raise StateConflict(f"an agency with DEQAR id {deqar_id} is already registered", id=str(agency.id))
        ctx.save(agency)
        return agency.id

    @command
    def suspend_agency(self, ctx: Context, agency_id: UUID, *, reason: str, effective: date | None = None) -> UUID:
        with self.changing(ctx, Agency, agency_id, governs) as agency:
            agency.suspend(ctx.stamp_on("effective", effective), v.text("reason", reason))
        return agency.id

    @command
    def reinstate_agency(self, ctx: Context, agency_id: UUID, *, effective: date | None = None) -> UUID:
        with self.changing(ctx, Agency, agency_id, governs) as agency:
            agency.reinstate(ctx.stamp_on("effective", effective))
        return agency.id

    @command
    def deregister_agency(self, ctx: Context, agency_id: UUID, *, reason: str, effective: date | None = None) -> UUID:
        with self.changing(ctx, Agency, agency_id, governs) as agency:
            agency.deregister(ctx.stamp_on("effective", effective), v.text("reason", reason))
        return agency.id

    # Providers --------------------------------------------------------------

    @command
    def register_provider(
        self,
        ctx: Context,
        *,
        names: Mapping[str, str],
        country: str,
        provider_type: str = ProviderType.HIGHER_EDUCATION,
        deqar_id: str | None = None,
        eter_id: str | None = None,
        schac: str | None = None,
        erasmus_code: str | None = None,
        registered_on: date | None = None,
        legal_identifier: str | None = None,
    ) -> UUID:
        """Registered by the operator, the country's national authority, or a registered QA agency
        (which, as in DEQAR, may report on an institution the registry does not hold yet)."""
        country = v.country("country", country)
        if ctx.actor.role == Role.QA_AGENCY:
            self.get(Agency, ctx.actor.org).check_registered()
        else:
            require_governs(ctx.actor, country)
        identifiers = ProviderIdentifiers(
            deqar_id=v.identifier("deqar_id", deqar_id),
            eter_id=v.identifier("eter_id", eter_id),
            schac=v.identifier("schac", schac),
            erasmus_code=v.identifier("erasmus_code", erasmus_code),
            legal_identifier=v.identifier("legal_identifier", legal_identifier),
        )
        provider = Provider(
            stamp=ctx.stamp_on("registered_on", registered_on),
            names=v.multilingual("names", names, max_length=300),
            country=country,
            provider_type=v.choice("provider_type", provider_type, ProviderType),
            identifiers=identifiers,
        )
        if self._exists(provider.id):
            raise StateConflict(
                f"a provider with DEQAR id {identifiers.deqar_id} is already registered", id=str(provider.id)
            )
        ctx.save(provider)  # first: events are saved in the order they happened
        for field_name, scheme, value in (
            ("eter_id", Scheme.ETER, identifiers.eter_id),
            ("schac", Scheme.SCHAC, identifiers.schac),
            ("erasmus_code", Scheme.ERASMUS, identifiers.erasmus_code),
        ):
            if value:
                self._claim(ctx, provider.id, scheme, value, None, field_name)
        self._list_names(ctx, provider)
        return provider.id

    def _claim(
        self, ctx: Context, provider_id: UUID, scheme: Scheme, value: str, issuer: UUID | None, field_name: str
    ) -> None:
        claim_id = ProviderIdentifier.create_id(scheme, value, issuer)
        if self._exists(claim_id):
            held = self.get(ProviderIdentifier, claim_id).provider_id
            if held != provider_id:
                raise StateConflict(f"{field_name} {value} already names another provider", id=str(held))
            return
        ctx.save(ProviderIdentifier(ctx.stamp(), scheme, value, issuer, provider_id))

    def _list_names(self, ctx: Context, provider: Provider) -> None:
        """List the provider under each of its names that it is not listed under yet."""
        for name in dict.fromkeys(normalised(n) for n in provider.names.values()):
            listing_id = ProviderName.create_id(provider.country, name)
            listing = self.get(ProviderName, listing_id) if self._exists(listing_id) else None
            if listing is None:
                listing = ProviderName(ctx.stamp(), provider.country, name)
            if provider.id not in listing.provider_ids:
                listing.add(ctx.stamp(), provider.id)
                ctx.save(listing)

    def provider_by(self, scheme: Scheme, value: str, issuer: UUID | None = None) -> UUID | None:
        """The provider an outside identifier names, if any (``issuer``: the agency of an agency-local one)."""
        claim_id = ProviderIdentifier.create_id(scheme, value, issuer)
        return self.get(ProviderIdentifier, claim_id).provider_id if self._exists(claim_id) else None

    def providers_named(self, country: str, name: str) -> list[UUID]:
        """Every provider registered or renamed under ``name`` in ``country`` (case and spacing ignored)."""
        listing_id = ProviderName.create_id(country, name)
        return list(self.get(ProviderName, listing_id).provider_ids) if self._exists(listing_id) else []

    @command
    def claim_local_identifier(self, ctx: Context, provider_id: UUID, *, identifier: str) -> UUID:
        """A QA agency records its own identifier for a provider (as DEQAR keeps them), to name it by in reports."""
        require_role(ctx.actor, Role.QA_AGENCY)
        self.get(Agency, ctx.actor.org).check_registered()
        provider = self.get(Provider, provider_id)
        value = v.identifier("identifier", identifier)
        if value is None:
            raise InvalidInput("identifier", "is required")
        self._claim(ctx, provider.id, Scheme.AGENCY_LOCAL, value, ctx.actor.org, "identifier")
        return provider.id

    @command
    def add_provider_identifier(self, ctx: Context, provider_id: UUID, *, scheme: str, value: str) -> UUID:
        """Record an identifier another register gives the provider (SCHAC, Erasmus, ETER, DEQAR), by the provider
        or whoever governs its country. One value per scheme; a value another provider holds is a conflict."""
        found = v.choice("scheme", scheme, IdentifierScheme)
        if RULES[found].names != "organisation":
            raise InvalidInput("scheme", must_name("organisation"))
        value = identifier_value("value", found, value)
        field_name, claim_scheme = ORGANISATION_FIELDS[found]
        with self.changing(ctx, Provider, provider_id, manages) as provider:
            held = getattr(provider.identifiers, field_name)
            if held is not None and held.strip().upper() != value.upper():
                raise StateConflict(f"the provider already has {field_name} {held}")
            derived = Provider.create_id(ProviderIdentifiers(deqar_id=value))
            if found == IdentifierScheme.DEQAR and derived != provider.id and self._exists(derived):
                raise StateConflict(f"deqar_id {value} already names another provider", id=str(derived))
            self._claim(ctx, provider.id, claim_scheme, value, None, field_name)
            if held is None:
                provider.add_identifiers(ctx.stamp(), ProviderIdentifiers(**{field_name: value}))
        return provider.id

    def organisation_by(self, scheme: IdentifierScheme, value: str) -> tuple[type[Agency | Provider], UUID] | None:
        """The agency or provider an outside identifier (checked with ``identifier_value``) names, if any."""
        if scheme == IdentifierScheme.DEQAR:
            for cls, candidate in (
                (Provider, Provider.create_id(ProviderIdentifiers(deqar_id=value))),
                (Agency, Agency.create_id(value)),
            ):
                if self._exists(candidate):
                    return cls, candidate
        if scheme not in ORGANISATION_FIELDS:
            return None
        provider_id = self.provider_by(ORGANISATION_FIELDS[scheme][1], value)
        return (Provider, provider_id) if provider_id else None

    @command
    def rename_provider(self, ctx: Context, provider_id: UUID, *, names: Mapping[str, str]) -> UUID:
        with self.changing(ctx, Provider, provider_id, manages) as provider:
            provider.rename(ctx.stamp(), v.multilingual("names", names, max_length=300))
        self._list_names(ctx, provider)
        return provider.id

    @command
    def close_provider(self, ctx: Context, provider_id: UUID, *, effective: date | None = None) -> UUID:
        with self.changing(ctx, Provider, provider_id, governs) as provider:
            provider.close(ctx.stamp_on("effective", effective))
        return provider.id


ORGANISATION_FIELDS: dict[IdentifierScheme, tuple[str, Scheme]] = {
    IdentifierScheme.SCHAC: ("schac", Scheme.SCHAC),
    IdentifierScheme.ERASMUS: ("erasmus_code", Scheme.ERASMUS),
    IdentifierScheme.ETER: ("eter_id", Scheme.ETER),
    IdentifierScheme.DEQAR: ("deqar_id", Scheme.DEQAR),
}
"""Where a provider keeps each organisation scheme's value, and the claim that makes it unique."""
