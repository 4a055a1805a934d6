"""Recognition: an institution's decisions on recognising a credential, and their appeals."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any
from uuid import UUID

from mcreg.registry import validate as v
from mcreg.registry.aggregates.credential import Credential
from mcreg.registry.aggregates.learners import SealedText
from mcreg.registry.aggregates.microcredential import MicroCredential
from mcreg.registry.aggregates.provider import Provider
from mcreg.registry.aggregates.recognition import Recognition, SubstantialDifference, Verdict
from mcreg.registry.application.core import Context, command
from mcreg.registry.application.quality_assurance import QualityAssuranceCommands
from mcreg.registry.errors import InvalidInput
from mcreg.registry.permissions import require_owner
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import AppealOutcome, RecognitionOutcome, RecognitionPurpose, Requester, Role


def decides(actor: Actor, recognition: Recognition) -> None:
    """The recognising institution."""
    require_owner(actor, Role.INSTITUTION, recognition.institution_id, "recognition")


class RecognitionCommands(QualityAssuranceCommands):
    """Commands on recognitions."""

    def sealed_about(self, recognition: Recognition, field: str, text: str) -> SealedText:
        """Free text on a recognition, sealed under the key of the learner who holds the credential."""
        return self.sealed(self.get(Credential, recognition.credential_id).learner_id, recognition.id, field, text)

    def opened_differences(
        self, recognition_id: UUID, differences: Iterable[SubstantialDifference]
    ) -> list[tuple[str | None, str | None]]:
        """A verdict's substantial differences as (difference, reason), each None once the learner is forgotten."""
        texts = [
            text
            for i, d in enumerate(differences)
            for text in ((f"differences[{i}].difference", d.difference), (f"differences[{i}].reason", d.reason))
        ]
        opened = self.open_texts(recognition_id, texts)
        return list(zip(opened[::2], opened[1::2], strict=True))

    @command
    def request_recognition(
        self,
        ctx: Context,
        *,
        credential_id: UUID,
        institution_id: UUID,
        purpose: str,
        requested_by: str = Requester.LEARNER,
        requested_on: date | None = None,
    ) -> UUID:
        """Recorded by the recognising institution, on a learner's request or its own."""
        institution = self.get(Provider, institution_id)
        require_owner(ctx.actor, Role.INSTITUTION, institution.id, "institution")
        credential = self.get(Credential, credential_id)
        requested_on = ctx.past("requested_on", requested_on)
        if requested_on < credential.issued_on:
            raise InvalidInput("requested_on", "must be on or after the credential's issue date")
        recognition = Recognition(
            stamp=ctx.stamp(requested_on),
            credential_id=credential.id,
            institution_id=institution.id,
            purpose=v.choice("purpose", purpose, RecognitionPurpose),
            requested_by=v.choice("requested_by", requested_by, Requester),
        )
        ctx.save(recognition)
        return recognition.id

    def _verdict(
        self,
        ctx: Context,
        recognition: Recognition,
        day: date,
        outcome: str,
        ects_recognised: Any,
        differences: Iterable[tuple[str, str]],
    ) -> Verdict:
        """A decision as the institution makes it, recording the credential's status and QA standing that day."""
        credential = self.get(Credential, recognition.credential_id)
        ctx.rely_on(credential)  # a revocation or suspension meanwhile would make the recorded status wrong
        microcredential = self.get(MicroCredential, credential.microcredential_id)

        def sealed(field: str, text: Any, max_length: int) -> SealedText:
            return self.sealed(credential.learner_id, recognition.id, field, v.text(field, text, max_length=max_length))

        verdict = Verdict(
            outcome=v.choice("outcome", outcome, RecognitionOutcome),
            ects_recognised=v.ects("ects_recognised", ects_recognised),
            differences=tuple(
                SubstantialDifference(
                    sealed(f"differences[{i}].difference", d, 2000), sealed(f"differences[{i}].reason", r, 4000)
                )
                for i, (d, r) in enumerate(differences)
            ),
            credential_status=credential.status_on(day),
            qa_standing=self.qa_standing(credential.qa_basis, day),
        )
        verdict.check(microcredential.specification_at(credential.spec_version).ects)
        return verdict

    @command
    def decide_recognition(
        self,
        ctx: Context,
        recognition_id: UUID,
        *,
        outcome: str,
        ects_recognised: Any,
        differences: Iterable[tuple[str, str]] = (),
        decided_on: date | None = None,
    ) -> UUID:
        with self.changing(ctx, Recognition, recognition_id, decides) as recognition:
            decided_on = ctx.past("decided_on", decided_on)
            verdict = self._verdict(ctx, recognition, decided_on, outcome, ects_recognised, differences)
            recognition.decide(ctx.stamp(decided_on), verdict)
        return recognition.id

    @command
    def appeal_recognition(
        self, ctx: Context, recognition_id: UUID, *, grounds: str, effective: date | None = None
    ) -> UUID:
        """Recorded by the institution when the learner lodges an appeal."""
        with self.changing(ctx, Recognition, recognition_id, decides) as recognition:
            text = v.text("grounds", grounds, max_length=20000)
            recognition.appeal(ctx.stamp_on("effective", effective), self.sealed_about(recognition, "grounds", text))
        return recognition.id

    @command
    def decide_recognition_appeal(
        self,
        ctx: Context,
        recognition_id: UUID,
        *,
        outcome: str,
        recognition_outcome: str | None = None,
        ects_recognised: Any = None,
        differences: Iterable[tuple[str, str]] = (),
        decided_on: date | None = None,
    ) -> UUID:
        with self.changing(ctx, Recognition, recognition_id, decides) as recognition:
            decided_on = ctx.past("decided_on", decided_on)
            appeal = v.choice("outcome", outcome, AppealOutcome)
            verdict = None
            if appeal == AppealOutcome.OVERTURNED:
                if recognition_outcome is None:
                    raise InvalidInput("recognition_outcome", "is required when the appeal overturns the decision")
                verdict = self._verdict(ctx, recognition, decided_on, recognition_outcome, ects_recognised, differences)
            elif recognition_outcome is not None:
                raise InvalidInput("recognition_outcome", "must be empty when the appeal upholds the decision")
            recognition.decide_appeal(ctx.stamp(decided_on), appeal, verdict)
        return recognition.id

    @command
    def withdraw_recognition(
        self, ctx: Context, recognition_id: UUID, *, reason: str, effective: date | None = None
    ) -> UUID:
        with self.changing(ctx, Recognition, recognition_id, decides) as recognition:
            text = v.text("reason", reason)
            recognition.withdraw(ctx.stamp_on("effective", effective), self.sealed_about(recognition, "reason", text))
        return recognition.id
