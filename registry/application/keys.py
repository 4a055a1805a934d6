"""Issuer keys: the public halves of the keys each issuer (a provider, or the registry itself) signs with.

The private half stays outside the event store, in the ``IssuerKeyVault`` (``mcreg.stores.issuer_keys``). The
registry holds every issuer's private keys, so the operator, as their custodian, may rotate and report
compromised any issuer's keys, e.g. after a leak.

Keys are made by commands only, never by a read: a provider gets its first key when it is accredited, or at
the latest with its first credential, in that command's transaction; a report of compromise makes the
replacement. So every credential's provider has a key valid now, and verification checks it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from mcreg.registry.aggregates.issuer_keys import MAX_LEAD, REGISTRY_ISSUER_ID, IssuerKeys, whole_second
from mcreg.registry.aggregates.provider import Provider
from mcreg.registry.application.core import Context, RegistryCore, command
from mcreg.registry.errors import InvalidInput, NotFound
from mcreg.registry.permissions import require_owner, require_role
from mcreg.registry.stamp import Actor
from mcreg.registry.trust.data_integrity import MultikeyError, decode_public_multikey
from mcreg.registry.vocabulary import Role


class IssuerKeyCommands(RegistryCore):
    """Rotating an issuer's signing keys, and reporting one compromised."""

    def check_manages_issuer_keys(self, actor: Actor, issuer_id: UUID) -> None:
        """The issuer itself (a provider) or the operator; NotFound for an issuer the registry does not hold.
        Checked before a new key pair is made, so a refused caller leaves no key behind."""
        if issuer_id == REGISTRY_ISSUER_ID:
            require_role(actor, Role.OPERATOR)
            return
        self.get(Provider, issuer_id)
        if actor.role != Role.OPERATOR:
            require_owner(actor, Role.PROVIDER, issuer_id, "issuer keys")

    def _issuer_keys(self, ctx: Context, issuer_id: UUID) -> IssuerKeys | None:
        """The issuer's keys (None before its first), for the issuer itself (a provider) or the operator."""
        self.check_manages_issuer_keys(ctx.actor, issuer_id)
        return self.issuer_keys(issuer_id)

    def issuer_keys(self, issuer_id: UUID) -> IssuerKeys | None:
        """The issuer's keys as recorded now; None if it has none yet. One query (the aggregate is cached)."""
        try:
            return self.get(IssuerKeys, IssuerKeys.create_id(issuer_id))
        except NotFound:
            return None

    def provide_issuer_key(self, ctx: Context, issuer_id: UUID) -> bool:
        """Within a command: a key for the issuer, valid from now, if it has no valid key now (True if made).
        The private half is sealed (and committed) first; the command saves the public half with its events."""
        keys = self.issuer_keys(issuer_id)
        now = self.clock()
        if keys is not None and keys.current(now) is not None:
            ctx.rely_on(keys)  # the decision "it has a key now" rests on them (and so they are kept as reference data)
            return False
        if keys is None:
            keys = IssuerKeys(ctx.stamp(), issuer_id)
        keys.add(ctx.stamp(), self.issuer_key_vault.new_key(issuer_id), whole_second(now))
        ctx.save(keys)
        return True

    @command
    def provide_issuer_keys(self, ctx: Context, issuer_ids: Iterable[UUID]) -> list[UUID]:
        """For the operator: a key for each of these issuers that has no valid key now (registries made before
        keys came with accreditation). Returns the issuers keyed."""
        require_role(ctx.actor, Role.OPERATOR)
        keyed = []
        for issuer_id in issuer_ids:
            self.check_manages_issuer_keys(ctx.actor, issuer_id)
            if self.provide_issuer_key(ctx, issuer_id):
                keyed.append(issuer_id)
        return keyed

    @command
    def rotate_issuer_key(
        self, ctx: Context, issuer_id: UUID, *, public_key_multibase: str, valid_from: datetime | None = None
    ) -> str:
        """Add a signing key, valid from ``valid_from`` (now if None, at most 90 days ahead, never in the past);
        the keys in use then retire. Returns the new key's id (``key-<n>``)."""
        keys = self._issuer_keys(ctx, issuer_id)
        try:
            decode_public_multikey(public_key_multibase)
        except (MultikeyError, TypeError):
            raise InvalidInput("public_key_multibase", "must be an Ed25519 public Multikey (z6Mk…)") from None
        # A key in use retires when the new one becomes valid: at a whole second after every proof it made so
        # far (proofs are dated to the second). With none in use, the new key is valid from the current second.
        clock = self.clock()
        in_use = keys is not None and any(k.in_use_after(clock) for k in keys.keys)
        now = whole_second(clock, up=in_use)
        moment = now if valid_from is None else whole_second(valid_from, up=True)
        if moment < now:
            raise InvalidInput("valid_from", "may not be in the past")
        if moment > now + MAX_LEAD:
            raise InvalidInput("valid_from", f"may be at most {MAX_LEAD.days} days ahead")
        if keys is None:
            keys = IssuerKeys(ctx.stamp(), issuer_id)
        key_id = keys.add(ctx.stamp(), public_key_multibase, moment)
        ctx.save(keys)
        return key_id

    @command
    def report_key_compromised(self, ctx: Context, issuer_id: UUID, *, key_id: str, since: datetime) -> str:
        """No proof by the key made at or after ``since`` (which must have happened) is trusted any more."""
        keys = self._issuer_keys(ctx, issuer_id)
        if keys is None or keys.key(key_id) is None:
            raise NotFound("issuer key", f"{issuer_id}#{key_id}")
        moment = whole_second(since)
        if moment > self.clock():
            raise InvalidInput("since", "may not be in the future")
        keys.report_compromised(ctx.stamp(), key_id, moment)
        ctx.save(keys)
        self.provide_issuer_key(ctx, issuer_id)  # the replacement, when the compromised key was the one in use
        return key_id
