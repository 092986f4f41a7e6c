"""The SQLite store's orgs and their members."""

from __future__ import annotations

from bot.store import orgcache
from bot.store.records import Member, Org, from_json, to_json
from bot.store.sqlite import rows as stmt
from bot.store.sqlite.connection import SQLiteBase, translating


class OrgsMixin(SQLiteBase):
    """Orgs (by id and by push key) and their members."""

    # orgs ------------------------------------------------------------------
    @translating
    async def get_org(self, org_id: str) -> Org | None:
        row = await self._fetchone("SELECT doc FROM orgs WHERE org_id = ?", (org_id,))
        return None if row is None else from_json(Org, row[0])

    @translating
    async def get_org_by_key(self, org_key: str) -> Org | None:
        row = await self._fetchone("SELECT doc FROM orgs WHERE org_key = ?", (org_key,))
        return None if row is None else from_json(Org, row[0])

    @translating
    async def put_org(self, org: Org) -> None:
        doc = to_json(org)
        try:
            await self._write(lambda db: stmt.write_org(db, org.org_id, org.org_key, doc))
        finally:
            orgcache.orgs_changed()

    @translating
    async def list_orgs(self) -> list[Org]:
        rows = await self._fetchall("SELECT doc FROM orgs ORDER BY org_id")
        return [from_json(Org, row[0]) for row in rows]

    # members ---------------------------------------------------------------
    @translating
    async def get_member(self, org_id: str, user_id: str) -> Member | None:
        row = await self._fetchone(
            "SELECT doc FROM members WHERE org_id = ? AND user_id = ?", (org_id, user_id)
        )
        return None if row is None else from_json(Member, row[0])

    @translating
    async def put_member(self, member: Member) -> None:
        await self._execute(
            stmt.INSERT_MEMBER,
            (member.org_id, member.user_id, to_json(member)),
        )

    @translating
    async def delete_member(self, org_id: str, user_id: str) -> None:
        await self._execute(
            "DELETE FROM members WHERE org_id = ? AND user_id = ?", (org_id, user_id)
        )

    @translating
    async def list_members(self, org_id: str) -> list[Member]:
        rows = await self._fetchall(
            "SELECT doc FROM members WHERE org_id = ? ORDER BY user_id", (org_id,)
        )
        return [from_json(Member, row[0]) for row in rows]
