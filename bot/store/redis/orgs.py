"""The Redis store's orgs (a hash, with the push-key index beside it) and their members (a
hash per org)."""

from __future__ import annotations

from typing import Any, cast

from bot.store import orgcache
from bot.store.records import Member, Org, from_json, to_json
from bot.store.redis.connection import RedisBase, translating, writing


class OrgsMixin(RedisBase):
    """Orgs (by id and by push key) and their members."""

    # orgs ------------------------------------------------------------------
    @translating
    async def get_org(self, org_id: str) -> Org | None:
        doc = await self._hget(self._key("orgs"), org_id)
        return None if doc is None else from_json(Org, doc)

    @translating
    async def get_org_by_key(self, org_key: str) -> Org | None:
        doc = await self._via(self._key("org_keys"), self._key("orgs"), org_key)
        if doc is None:
            return None
        org = from_json(Org, doc)
        return org if org.org_key == org_key else None

    def _org_ops(self, org: Org) -> list[list[Any]]:
        return [
            ["HSET", self._key("orgs"), org.org_id, to_json(org)],
            [
                "INDEX",
                self._key("org_keys"),
                self._key("org_key_of"),
                org.org_id,
                org.org_key or "",
            ],
        ]

    @writing
    async def put_org(self, org: Org) -> None:
        try:
            await self._run(self._org_ops(org))
        finally:
            orgcache.orgs_changed()

    @translating
    async def list_orgs(self) -> list[Org]:
        docs = cast("dict[str, str]", await self._r.hgetall(self._key("orgs")))
        return [from_json(Org, docs[org_id]) for org_id in sorted(docs)]

    # members ---------------------------------------------------------------
    @translating
    async def get_member(self, org_id: str, user_id: str) -> Member | None:
        doc = await self._hget(self._key("members", org_id), user_id)
        return None if doc is None else from_json(Member, doc)

    @writing
    async def put_member(self, member: Member) -> None:
        await self._r.hset(self._key("members", member.org_id), member.user_id, to_json(member))

    @writing
    async def delete_member(self, org_id: str, user_id: str) -> None:
        await self._r.hdel(self._key("members", org_id), user_id)

    @translating
    async def list_members(self, org_id: str) -> list[Member]:
        docs = cast("dict[str, str]", await self._r.hgetall(self._key("members", org_id)))
        return [from_json(Member, docs[user_id]) for user_id in sorted(docs)]
