"""`python -m bot export --org <org> [--format jsonl|csv] [--out FILE]`: every candidate of
an org with their timeline, read from the store named by BOT_STORE_URL.

Read-only: the store is opened without migrating, a SQLite store that does not exist is an
error (nothing is created), and nothing is written to it. The output holds personal data:
a file is created readable by its owner only.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import logging
import os
import sys
from collections.abc import Iterable
from typing import Any, TextIO

from bot import logs
from bot.candidates.export import candidate_record
from bot.errors import SlotbotError
from bot.store import open_store, sqlite_path_of
from bot.store.base import Store
from bot.store.records import Candidate, TimelineEntry
from bot.store.transfer import TimelineItem

log = logging.getLogger(__name__)

FORMATS = ("jsonl", "csv")
CSV_COLUMNS = (
    "candidate_id",
    "email",
    "name",
    "recruiter_id",
    "created_at",
    "kind",
    "at",
    "booking_id",
    "start",
    "end",
    "zone",
    "previous_start",
    "entry_recruiter_id",
    "meeting_url",
    "raw_type",
    "note",
)
# a cell a spreadsheet would run as a formula: kept as text (OWASP's CSV injection advice)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


async def org_records(store: Store, org_id: str) -> list[dict[str, Any]]:
    """Every candidate of the org with their timeline (oldest first), by candidate id."""
    candidates: dict[str, Candidate] = {}
    timelines: dict[str, list[TimelineEntry]] = {}
    async for batch in store.export_records():
        for item in batch:
            if isinstance(item, Candidate) and item.org_id == org_id:
                candidates[item.candidate_id] = item
            elif isinstance(item, TimelineItem) and item.org_id == org_id:
                timelines.setdefault(item.candidate_id, []).append(item.entry)
    return [candidate_record(candidates[cid], timelines.get(cid, [])) for cid in sorted(candidates)]


def write_jsonl(records: Iterable[dict[str, Any]], out: TextIO) -> None:
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_csv(records: Iterable[dict[str, Any]], out: TextIO) -> None:
    """One row per timeline entry; a candidate with no entry gets one row of its own."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for record in records:
        person = [record[k] for k in ("candidate_id", "email", "name", "recruiter_id")]
        person.append(record["created_at"])
        for entry in record["timeline"] or [{}]:
            event = [
                entry.get(k)
                for k in ("kind", "at", "booking_id", "start", "end", "zone", "previous_start")
            ]
            event += [entry.get(k) for k in ("recruiter_id", "meeting_url", "raw_type", "note")]
            writer.writerow([_cell(v) for v in person + event])


def export_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="slotbot export",
        description="Every candidate of an org with their timeline (read-only).",
    )
    parser.add_argument("--org", required=True, help="the org's id as the store keeps it")
    parser.add_argument("--format", choices=FORMATS, default="jsonl")
    parser.add_argument("--out", help="write to this file (created mode 0600) instead of stdout")
    args = parser.parse_args(argv)
    from bot.cli import settings_or_exit

    settings = settings_or_exit()
    path = sqlite_path_of(settings.store_url)
    if path is not None and not path.exists():
        print(f"error: there is no SQLite store at {path}", file=sys.stderr)
        return 1

    async def read() -> list[dict[str, Any]]:
        store = open_store(settings)
        await store.open(migrate=False)
        try:
            status = await store.schema_status()
            if status.too_new:
                raise SlotbotError(
                    f"{store.where} was written by a newer Slotbot (schema version "
                    f"{status.store_version}): export it with that version"
                )
            return await org_records(store, args.org)
        finally:
            await store.close()

    try:
        records = asyncio.run(read())
    except (SlotbotError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    buffer = io.StringIO(newline="")
    (write_csv if args.format == "csv" else write_jsonl)(records, buffer)
    if args.out:
        try:
            fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
                out.write(buffer.getvalue())
        except OSError as exc:
            print(f"error: cannot write {args.out}: {exc}", file=sys.stderr)
            return 1
    else:
        sys.stdout.write(buffer.getvalue())
    entries = sum(len(r["timeline"]) for r in records)
    log.info(logs.ORG_EXPORTED, args.org, len(records), entries)
    return 0
