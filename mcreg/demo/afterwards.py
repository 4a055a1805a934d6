"""Chapter 6 of the demo's story: what happens after issuance.

Providers revise or retire micro-credentials; some credentials are revoked or
suspended (most suspensions lifted); institutions abroad recognise some
credentials, in full or in part, and some learners appeal or withdraw.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from mcreg.demo.story import Issued, KnownMicroCredential, Story
from mcreg.demo.world import TEXTS
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import (
    AppealOutcome,
    Participation,
    ProviderType,
    RecognitionOutcome,
    RecognitionPurpose,
    Requester,
    Supervision,
)


def revise_and_retire_microcredentials(story: Story) -> None:
    """Some providers revise a micro-credential; a few retire one after its last credential."""
    for microcredential in story.microcredentials:
        actor, draw = microcredential.provider.actor, story.rng.random()
        if draw < 0.05 and microcredential.last_issued:
            retired_on = story.days_after(microcredential.last_issued, 14, 120)
            story.registry.retire_microcredential(actor, microcredential.id, effective=retired_on)
        elif draw < 0.2:
            revised_on = story.days_after(microcredential.last_issued or microcredential.first_day, 14, 120)
            story.registry.revise_microcredential(
                actor, microcredential.id, effective=revised_on, **revision(microcredential)
            )


def revision(microcredential: KnownMicroCredential) -> dict[str, object]:
    """The second edition moves between online and blended delivery; credentials issued so far keep edition one."""
    elements = dict(microcredential.elements)
    online = elements["participation"] == Participation.ONLINE
    elements["participation"] = Participation.BLENDED if online else Participation.ONLINE
    elements["supervision"] = Supervision.SUPERVISED_VERIFIED_ONLINE
    elements["further_information"] = f"{elements['further_information']}/edition-2"
    return elements


def revoke_credentials(story: Story, credentials: list[Issued]) -> None:
    weights = [revocation.weight for revocation in TEXTS.revocations]
    for credential in credentials:
        revocation = story.rng.choices(TEXTS.revocations, weights)[0]
        story.registry.revoke_credential(
            credential.microcredential.provider.actor,
            credential.id,
            reason=revocation.reason,
            note=revocation.note,
            effective=story.days_after(credential.issued_on, 7, 540),
        )
        story.counts["revoked"] += 1


def suspend_credentials(story: Story, credentials: list[Issued]) -> None:
    """Most suspensions are lifted once the investigation clears the learner."""
    for credential in credentials:
        actor = credential.microcredential.provider.actor
        suspended_on = story.days_after(credential.issued_on, 14, 400)
        reason = story.rng.choice(TEXTS.credential_suspensions)
        story.registry.suspend_credential(actor, credential.id, reason=reason, effective=suspended_on)
        story.counts["suspended"] += 1
        if story.rng.random() < 0.6:
            reinstated_on = story.days_after(suspended_on, 14, 120)
            story.registry.reinstate_credential(actor, credential.id, effective=reinstated_on)


def recognise_credentials(story: Story, credentials: list[Issued]) -> None:
    for credential in credentials:
        recognise(story, credential)


def recognise(story: Story, credential: Issued) -> None:
    """An institution abroad recognises the credential, or part of it; some learners appeal or withdraw."""
    rng = story.rng
    issuer = credential.microcredential.provider
    abroad = [
        p for p in story.providers if p.country != issuer.country and p.profile.kind == ProviderType.HIGHER_EDUCATION
    ]
    institution = rng.choice(abroad).institution
    requested_on = story.days_after(credential.issued_on, 20, 600)
    recognition_id = story.registry.request_recognition(
        institution,
        credential_id=credential.id,
        institution_id=institution.org,
        purpose=rng.choices(list(RecognitionPurpose), (30, 55, 15))[0],
        requested_by=Requester.LEARNER if rng.random() < 0.85 else Requester.INSTITUTION,
        requested_on=requested_on,
    )
    story.counts["recognitions"] += 1
    if rng.random() < 0.06:
        if rng.random() < 0.5:
            story.registry.withdraw_recognition(
                institution,
                recognition_id,
                reason="The learner withdrew the application",
                effective=story.days_after(requested_on, 5, 60),
            )
        return
    outcome = rng.choices(list(RecognitionOutcome), (62, 18, 8, 12))[0]
    decided_on = story.days_after(requested_on, 10, 90)
    story.registry.decide_recognition(
        institution, recognition_id, decided_on=decided_on, **verdict(story, credential, outcome)
    )
    if outcome != RecognitionOutcome.RECOGNISED and rng.random() < 0.3:
        appeal_recognition(story, institution, recognition_id, credential, decided_on)


def verdict(story: Story, credential: Issued, outcome: RecognitionOutcome) -> dict[str, object]:
    """Full recognition carries every credit; anything less names substantial differences."""
    microcredential = credential.microcredential
    ects = microcredential.ects
    if outcome == RecognitionOutcome.RECOGNISED:
        return {"outcome": outcome, "ects_recognised": ects}
    if outcome == RecognitionOutcome.REFUSED:
        recognised = Decimal(0)
    else:  # a whole number of half credits, fewer than the credential carries
        recognised = Decimal(story.rng.randint(1, int(ects * 2) - 1)) / 2
    formatted = {
        "eqf": microcredential.eqf_level,
        "higher": min(8, microcredential.eqf_level + 1),
        "ects": ects,
        "more": ects + story.rng.choice((1, 2, 3)),
    }
    differences = [
        (difference.format(**formatted), reason.format(**formatted))
        for difference, reason in story.rng.sample(TEXTS.differences, story.rng.randint(1, 2))
    ]
    return {"outcome": outcome, "ects_recognised": recognised, "differences": differences}


def appeal_recognition(
    story: Story, institution: Actor, recognition_id: UUID, credential: Issued, decided_on: date
) -> None:
    """Most appeals are decided, some in the learner's favour; a few learners give up."""
    rng = story.rng
    lodged_on = story.days_after(decided_on, 7, 40)
    story.registry.appeal_recognition(
        institution, recognition_id, grounds=rng.choice(TEXTS.appeal_grounds), effective=lodged_on
    )
    story.counts["appeals"] += 1
    draw = rng.random()
    if draw < 0.1:
        story.registry.withdraw_recognition(
            institution,
            recognition_id,
            reason="The learner withdrew the appeal",
            effective=story.days_after(lodged_on, 5, 30),
        )
    elif draw < 0.5:
        new = verdict(story, credential, RecognitionOutcome.RECOGNISED)
        story.registry.decide_recognition_appeal(
            institution,
            recognition_id,
            outcome=AppealOutcome.OVERTURNED,
            recognition_outcome=new.pop("outcome"),
            decided_on=story.days_after(lodged_on, 20, 90),
            **new,
        )
    elif draw < 0.9:
        story.registry.decide_recognition_appeal(
            institution,
            recognition_id,
            outcome=AppealOutcome.UPHELD,
            decided_on=story.days_after(lodged_on, 20, 90),
        )
