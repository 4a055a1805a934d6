"""Chapters 1 to 3 of the demo's story: QA agencies, providers, and the accreditations agencies grant them.

The operator registers the agencies (one is suspended for a while, one
deregistered); national authorities register the providers; agencies, and for
some providers a national authority, accredit every provider, some with
conditions. Withdrawals and suspensions are decided here but recorded later
(``Story.later``), after the last credential the accreditation covered.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from functools import partial
from uuid import NAMESPACE_URL, UUID, uuid5

from mcreg.demo.story import Cover, KnownAgency, KnownProvider, Story, ascii_only, authority
from mcreg.demo.world import AGENCIES, PROVIDERS, TEXTS
from mcreg.registry.application import DEFAULT_VALIDITY
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import ProviderType, QADecision, Role

OPERATOR = Actor(org=uuid5(NAMESPACE_URL, "mcreg:demo:operator"), role=Role.OPERATOR, key_id="demo")


# 1. Agencies --------------------------------------------------------------------------


def register_agencies(story: Story) -> None:
    for number, agency in enumerate(AGENCIES, start=1):
        agency_id = story.registry.register_agency(
            OPERATOR,
            name=agency.name,
            country=agency.country,
            acronym=agency.acronym,
            deqar_id=f"DEMO-AG-{number:02d}",
            esg_activities=agency.esg_activities,
            registered_on=story.day_between(story.on(date(2012, 1, 1)), story.on(date(2016, 12, 31))),
        )
        slug = ascii_only(agency.acronym).lower()
        story.agencies.append(KnownAgency(agency_id, agency.country, slug, agency.esg_activities))
        story.counts["agencies"] += 1
    suspend_agency_for_a_while(story, story.agencies[4])
    deregister_agency(story, story.agencies.pop())


def suspend_agency_for_a_while(story: Story, agency: KnownAgency) -> None:
    """Before any accreditation it grants takes effect, so no credential depends on the gap."""
    national = authority(agency.country)
    suspended_on = story.day_between(story.on(date(2017, 2, 1)), story.on(date(2017, 6, 30)))
    reason = "Extraordinary review by EQAR after a complaint about the independence of review panels"
    story.registry.suspend_agency(national, agency.id, reason=reason, effective=suspended_on)
    story.registry.reinstate_agency(national, agency.id, effective=story.days_after(suspended_on, 150, 300))


def deregister_agency(story: Story, agency: KnownAgency) -> None:
    reason = "Registration on EQAR not renewed after the agency's external review"
    story.registry.deregister_agency(OPERATOR, agency.id, reason=reason, effective=story.on(date(2019, 6, 30)))


# 2. Providers --------------------------------------------------------------------------


def register_providers(story: Story) -> None:
    for number, provider in enumerate(PROVIDERS, start=1):
        provider_id = story.registry.register_provider(
            authority(provider.country),
            names={"en": provider.english_name, provider.language: provider.local_name},
            country=provider.country,
            provider_type=provider.profile.kind,
            deqar_id=f"DEMOINST{number:04d}",
            schac=f"{provider.schac_stem}.example",
            erasmus_code=provider.erasmus_code,
            legal_identifier=f"DEMOREG{number:06d}",
            registered_on=story.day_between(story.on(date(2005, 1, 1)), story.on(date(2012, 12, 31))),
        )
        story.providers.append(
            KnownProvider(
                provider_id,
                provider.country,
                provider.language,
                provider.profile,
                provider.english_name,
                provider.schac_stem,
            )
        )
        story.counts["providers"] += 1


# 3. Accreditations --------------------------------------------------------------------------


def accredit(story: Story, provider: KnownProvider) -> None:
    """One accreditation for every provider, a second one from another agency for some."""
    by_authority = story.rng.random() < (0.1 if provider.profile.kind == ProviderType.HIGHER_EDUCATION else 0.5)
    first = authority(provider.country) if by_authority else agency_for(story, provider).actor
    grant_accreditation(story, provider, first)
    if story.rng.random() < 0.25:
        others = [a for a in story.agencies if a.id != first.org]
        grant_accreditation(story, provider, story.rng.choice(others).actor)


def agency_for(story: Story, provider: KnownProvider) -> KnownAgency:
    at_home = [a for a in story.agencies if a.country == provider.country]
    return story.rng.choice(at_home if at_home and story.rng.random() < 0.75 else story.agencies)


def grant_accreditation(story: Story, provider: KnownProvider, granter: Actor) -> None:
    rng, profile = story.rng, provider.profile
    valid_from = story.day_between(story.on(date(2019, 1, 1)), story.on(date(2021, 6, 30)))
    if profile.isced_fields and rng.random() >= profile.comprehensive_share:
        isced_fields = tuple(sorted(rng.sample(profile.isced_fields, rng.randint(2, len(profile.isced_fields)))))
    else:
        isced_fields = ()
    conditions = (
        [
            (text, valid_from + timedelta(days=rng.randint(365, 730)))
            for text in rng.sample(TEXTS.accreditation_conditions, rng.randint(1, 2))
        ]
        if rng.random() < 0.25
        else []
    )
    if granter.role == Role.QA_AGENCY:
        agency = next(a for a in story.agencies if a.id == granter.org)
        prefix, site = agency.slug.upper(), f"{agency.slug}.example"
    else:
        prefix, site = f"{provider.country}-NA", f"education-authority-{provider.country.lower()}.example"
    local_identifier = story.local_identifier(f"{prefix}-ACC", valid_from.year)
    accreditation_id = story.registry.grant_accreditation(
        granter,
        provider_id=provider.id,
        outcome=QADecision.POSITIVE_WITH_CONDITIONS if conditions else QADecision.POSITIVE,
        valid_from=valid_from,
        local_identifier=local_identifier,
        eqf_levels=profile.eqf_levels,
        isced_fields=isced_fields,
        jurisdictions=(provider.country,),
        conditions=conditions,
        report_url=f"https://{site}/reports/{local_identifier.lower()}.pdf",
        decided_on=valid_from - timedelta(days=rng.randint(20, 90)),
    )
    story.counts["accreditations"] += 1
    first_day = max(valid_from, story.issuing_from)
    last_day = min(valid_from + DEFAULT_VALIDITY, story.issuing_until)
    unfulfilled = fulfil_conditions(story, granter, accreditation_id, valid_from, conditions)
    if unfulfilled is not None:
        withdrawn_on = max(story.days_after(unfulfilled, 30, 120), first_day + timedelta(days=180))
        reason = "Condition not fulfilled by its deadline"
        story.later.append(partial(withdraw_accreditation, story, granter, accreditation_id, reason, withdrawn_on))
        last_day = min(last_day, withdrawn_on - timedelta(days=1))
    elif rng.random() < 0.08 and (first_day + timedelta(days=540)) < last_day:
        disrupted_on = story.day_between(first_day + timedelta(days=540), last_day)
        if rng.random() < 0.5:
            reason = rng.choice(TEXTS.withdrawal_reasons)
            story.later.append(partial(withdraw_accreditation, story, granter, accreditation_id, reason, disrupted_on))
        else:
            story.later.append(partial(suspend_accreditation, story, granter, accreditation_id, disrupted_on))
        last_day = disrupted_on - timedelta(days=1)
    provider.covers.append(Cover(profile.eqf_levels, isced_fields, first_day, last_day))


def fulfil_conditions(
    story: Story, granter: Actor, accreditation_id: UUID, valid_from: date, conditions: Sequence[tuple[str, date]]
) -> date | None:
    """Most conditions are met before their deadline; the deadline of the first one missed, if any."""
    missed = None
    for index, (_, deadline) in enumerate(conditions):
        if story.rng.random() < 0.85:
            met_on = story.day_between(valid_from + timedelta(days=60), deadline)
            story.registry.fulfil_accreditation_condition(granter, accreditation_id, condition=index, effective=met_on)
        elif missed is None:
            missed = deadline
    return missed


def withdraw_accreditation(story: Story, granter: Actor, accreditation_id: UUID, reason: str, effective: date) -> None:
    story.registry.withdraw_accreditation(granter, accreditation_id, reason=reason, effective=effective)


def suspend_accreditation(story: Story, granter: Actor, accreditation_id: UUID, effective: date) -> None:
    reason = story.rng.choice(TEXTS.accreditation_suspension_reasons)
    story.registry.suspend_accreditation(granter, accreditation_id, reason=reason, effective=effective)
    if story.rng.random() < 0.6:
        reinstated_on = story.days_after(effective, 60, 240)
        story.registry.reinstate_accreditation(granter, accreditation_id, effective=reinstated_on)
