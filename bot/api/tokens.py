"""API tokens: an admin makes one in chat, it is shown once, and Slotbot keeps only its hash.

A token is `slotbot_` and 32 random bytes in hex: the prefix lets secret scanners
and people recognise one. The store holds its SHA-256 (a token is random and long, so a plain
hash cannot be reversed or guessed; no salt or slow hash is needed), in two kv namespaces:

    api_tokens        "<org>:<name>" -> the token's record (ApiToken.to_dict)
    api_token_hashes  "<sha-256 hex>" -> {"org_id", "name"}: how a presented token is found
    api_token_used    "<org>:<name>" -> {"token_hash", "at"}: when it was last used, apart
                      from the record so that writing it can never undo a revocation

A revoked token keeps both, so it is told apart from one never issued (403, not 401). A new
token may take a revoked one's name: the name's record then holds the new hash, and the old
token, still found by its hash, no longer matches it, so it stays refused. Both namespaces
are kv documents, so copies and backups carry them as they are.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Literal

from bot.store.base import Store
from bot.store.records import AuditEntry

PREFIX = "slotbot_"
TOKENS = "api_tokens"
BY_HASH = "api_token_hashes"
LAST_USED = "api_token_used"
NAME = re.compile(r"[a-z0-9_-]{1,40}")
# last use is written at most this often per token (a busy sync would otherwise write once
# per request)
LAST_USED_EVERY = 60.0


class TokenError(ValueError):
    """A token command that cannot be done: `problem` says which."""

    def __init__(self, problem: Literal["taken", "unknown", "revoked"]) -> None:
        super().__init__(problem)
        self.problem = problem


@dataclass
class ApiToken:
    org_id: str
    name: str
    token_hash: str
    created_at: float
    created_by: str
    last_used_at: float | None = None
    revoked_at: float | None = None
    revoked_by: str | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def to_dict(self) -> dict[str, object]:
        return {
            "org_id": self.org_id,
            "name": self.name,
            "token_hash": self.token_hash,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "last_used_at": self.last_used_at,
            "revoked_at": self.revoked_at,
            "revoked_by": self.revoked_by,
        }

    @classmethod
    def from_dict(cls, doc: dict[str, object]) -> ApiToken:
        def text(key: str) -> str:
            value = doc.get(key)
            return value if isinstance(value, str) else ""

        def moment(key: str) -> float | None:
            value = doc.get(key)
            return float(value) if isinstance(value, int | float) else None

        revoked_by = doc.get("revoked_by")
        return cls(
            org_id=text("org_id"),
            name=text("name"),
            token_hash=text("token_hash"),
            created_at=moment("created_at") or 0.0,
            created_by=text("created_by"),
            last_used_at=moment("last_used_at"),
            revoked_at=moment("revoked_at"),
            revoked_by=revoked_by if isinstance(revoked_by, str) else None,
        )


def valid_name(name: str) -> bool:
    return NAME.fullmatch(name) is not None


def hash_of(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _key(org_id: str, name: str) -> str:
    return f"{org_id}:{name}"


async def get(store: Store, org_id: str, name: str) -> ApiToken | None:
    doc = await store.kv_get(TOKENS, _key(org_id, name))
    return None if doc is None else ApiToken.from_dict(doc)


async def create(store: Store, org_id: str, name: str, *, actor: str, now: float) -> str:
    """A new token (returned: the only time it exists in clear); TokenError("taken") when a
    token of that name is in use. Audited without the token."""
    if not valid_name(name):
        raise ValueError(f"not a token name: {name!r}")
    current = await get(store, org_id, name)
    if current is not None and not current.revoked:
        raise TokenError("taken")
    # hex: no second "_" or "-" that chat markup could take for formatting
    token = PREFIX + secrets.token_hex(32)
    digest = hash_of(token)
    # the hash's entry first: a record is never there without a way to find it
    await store.kv_put(BY_HASH, digest, {"org_id": org_id, "name": name})
    record = ApiToken(org_id, name, digest, created_at=now, created_by=actor)
    await store.kv_put(TOKENS, _key(org_id, name), record.to_dict())
    await store.append_audit(AuditEntry(org_id, actor, "api_token.create", {"name": name}, at=now))
    return token


async def list_tokens(store: Store, org_id: str) -> list[ApiToken]:
    """The org's tokens, in use first, each group by name, with when each was last used."""
    docs = await store.kv_list(TOKENS, prefix=f"{org_id}:")
    used = await store.kv_list(LAST_USED, prefix=f"{org_id}:")
    found = [ApiToken.from_dict(doc) for doc in docs.values()]
    mine = [token for token in found if token.org_id == org_id]
    for token in mine:
        seen = used.get(_key(org_id, token.name), {})
        at = seen.get("at")
        if seen.get("token_hash") == token.token_hash and isinstance(at, int | float):
            token.last_used_at = float(at)
    return sorted(mine, key=lambda t: (t.revoked, t.name))


async def revoke(store: Store, org_id: str, name: str, *, actor: str, now: float) -> ApiToken:
    """Revoke the token of that name: TokenError("unknown") when there is none,
    ("revoked") when it already is. Audited."""
    record = await get(store, org_id, name) if valid_name(name) else None
    if record is None:
        raise TokenError("unknown")
    if record.revoked:
        raise TokenError("revoked")
    record.revoked_at, record.revoked_by = now, actor
    await store.kv_put(TOKENS, _key(org_id, name), record.to_dict())
    await store.append_audit(AuditEntry(org_id, actor, "api_token.revoke", {"name": name}, at=now))
    return record


@dataclass(frozen=True)
class Checked:
    """What a presented token turned out to be."""

    outcome: Literal["ok", "unknown", "revoked"]
    token: ApiToken | None = None


async def check(store: Store, presented: str) -> Checked:
    """Find the token a request presents. Its hash is looked up, then compared in constant
    time with the record's, so nothing about a stored hash leaks through timing."""
    if not presented.startswith(PREFIX) or len(presented) > 200:
        return Checked("unknown")
    digest = hash_of(presented)
    owner = await store.kv_get(BY_HASH, digest)
    if owner is None:
        return Checked("unknown")
    org_id, name = owner.get("org_id"), owner.get("name")
    if not isinstance(org_id, str) or not isinstance(name, str):
        return Checked("unknown")
    record = await get(store, org_id, name)
    if record is None:
        return Checked("unknown")
    if not hmac.compare_digest(record.token_hash, digest) or record.revoked:
        # revoked, or its name since given to a newer token
        return Checked("revoked", record)
    return Checked("ok", record)


class LastUsed:
    """Records when each token was last used, at most once a minute per token (in this
    process; each replica writes its own, the latest wins)."""

    def __init__(self, every: float = LAST_USED_EVERY) -> None:
        self._every = every
        self._written: dict[str, float] = {}

    async def touch(self, store: Store, token: ApiToken, now: float) -> bool:
        key = _key(token.org_id, token.name)
        if now - self._written.get(key, float("-inf")) < self._every:
            return False
        self._written[key] = now
        if len(self._written) > 10_000:  # bounded: forget the oldest half
            for old in sorted(self._written, key=self._written.__getitem__)[:5_000]:
                del self._written[old]
        token.last_used_at = now
        await store.kv_put(LAST_USED, key, {"token_hash": token.token_hash, "at": now})
        return True
