"""A store holding every kind of record, and a way to compare two stores record by record:
for the copy, backup and restore tests and the copy benchmark."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from bot.secrets import SecretBox
from bot.store.base import Store
from bot.store.records import (
    AlertRoute,
    AuditEntry,
    Booking,
    Candidate,
    CronofyConfig,
    EventWrite,
    Job,
    Member,
    MessageRef,
    OAuthState,
    Org,
    TimelineEntry,
    TrackedLink,
)
from bot.store.transfer import ClaimItem, DeadJob, TimelineItem, item_to_dict, kind_of

ORGS = ("slack:TCOPY1", "teams:tenant-copy-2")
CLIENT_SECRET = "CRN_copy_client_secret_0001"
ACCESS_TOKEN = "cronofy-access-token-copy-0001"
HOUR = 3600.0


def candidate_id(org: int, index: int) -> str:
    return f"cand-{org}-{index:05d}"


async def populate(
    store: Store,
    box: SecretBox,
    *,
    candidates: int = 3,
    events: int = 3,
    now: float = 1_790_000_000.0,
) -> None:
    """Two orgs, each with members, `candidates` candidates of `events` callbacks each
    (timeline, booking, alert jobs, audit), links, message refs, an OAuth state, claims, kv
    documents, a job held by a worker and dead letters of two reasons."""
    for o, org_id in enumerate(ORGS):
        await store.put_org(
            Org(
                org_id=org_id,
                platform=org_id.split(":")[0],
                name=f"Org {o}",
                org_key=f"pushkey-copy-{o}",
                cronofy=CronofyConfig(
                    client_id=f"cid-{o}",
                    client_secret_enc=box.encrypt(CLIENT_SECRET),
                    data_center="uk",
                    configured_by="UADMIN",
                    configured_at=now,
                ),
                admins=["UADMIN"],
                routes=[AlertRoute(conversation_id="C1", kinds=["booked"], name="#hiring")],
                created_at=now,
            )
        )
        for u in range(2):
            await store.put_member(
                Member(
                    org_id=org_id,
                    user_id=f"U{u}",
                    email=f"rec{u}@example.com",
                    access_token_enc=box.encrypt(ACCESS_TOKEN),
                    refresh_token_enc=box.encrypt("refresh-" + ACCESS_TOKEN),
                    connected=True,
                    dm_alerts=u == 0,
                )
            )
        for c in range(candidates):
            cid = candidate_id(o, c)
            candidate = Candidate(org_id, cid, f"c{c}@example.com", name=f"Cand {c}")
            for e in range(events):
                booking_id = f"book-{o}-{c}"
                await store.commit_event(
                    EventWrite(
                        dedupe_key=f"cb:{org_id}:{cid}:{e}",
                        dedupe_ttl=30 * 24 * HOUR,
                        org_id=org_id,
                        candidate=candidate,
                        timeline=TimelineEntry(
                            kind="booked" if e == 0 else "rescheduled",
                            at=now + e,
                            booking_id=booking_id,
                        ),
                        booking=Booking(
                            org_id,
                            booking_id,
                            cid,
                            "U0",
                            start=f"2031-01-{1 + c % 28:02d}T10:{e:02d}:00Z",
                            version=e + 1,
                        ),
                        jobs=[
                            Job(
                                job_id=f"job-{o}-{c}-{e}",
                                org_id=org_id,
                                kind="alert",
                                payload={"booking_id": booking_id, "seq": e + 1},
                                not_before=now + e,
                                created_at=now + e,
                            )
                        ]
                        if c == 0
                        else [],
                        audit=AuditEntry(
                            org_id, "system", "cronofy.callback", {"n": e}, at=now + e
                        ),
                    )
                )
            await store.put_tracked_link(
                TrackedLink(
                    f"corr-{o}-{c}",
                    org_id,
                    "U0",
                    cid,
                    now,
                    url=f"https://app.cronofy.com/pls/x?correlation_id=corr-{o}-{c}",
                )
            )
            await store.put_message_ref(
                org_id,
                f"book-{o}-{c}",
                "channel:C1",
                MessageRef("slack", "C1", f"1790000000.{c:06d}", seq=events),
            )
            await store.put_message_ref(
                org_id,
                f"book-{o}-{c}",
                "dm:U0",
                MessageRef("slack", "D1", f"1790000001.{c:06d}", thread_id="t", seq=events),
            )
        await store.append_audit(
            AuditEntry(org_id, "UADMIN", "cronofy.setup", {"data_center": "uk"}, at=now + 100)
        )
        await store.kv_put("org_activity", org_id, {"last_callback_at": now})
        await store.kv_put("teams_refs", f"tenant:{o}", {"service_url": "https://smba.example/"})
    await store.put_oauth_state(
        OAuthState("state-copy-1", "cronofy_connect", ORGS[0], "U1", expires_at=now + 10**9)
    )
    await store.claim_once("slack_request:copy-1", 24 * HOUR)
    # a job a worker holds (claimed, not acked): it travels as queued
    await store.enqueue(
        [
            Job(
                job_id="job-held",
                org_id=ORGS[0],
                kind="notice",
                payload={"text": "x"},
                created_at=now,
            )
        ]
    )
    held = await store.claim_jobs("worker-1", limit=100, visibility_timeout=60, now=now + 10**6)
    assert held, "there are jobs to hold"
    for job in held:
        if job.job_id != "job-held":
            await store.retry_job(job, at=job.not_before, error="", max_attempts=99)
    # dead letters of two reasons, in the order they died
    for d, reason in enumerate(("channel_not_found", "app_uninstalled", "channel_not_found")):
        job = Job(
            job_id=f"job-dead-{d}",
            org_id=ORGS[d % 2],
            kind="alert",
            payload={"d": d},
            attempts=3,
            created_at=now,
        )
        await store.enqueue([job])
        await store.dead_letter_job(job, reason)


async def snapshot(store: Store) -> dict[str, Any]:
    """Everything the store holds, comparable between stores: kinds whose order matters
    (timelines per candidate, audit per org, dead letters) keep it; others are sorted."""
    grouped: dict[str, Any] = defaultdict(list)
    timelines: dict[str, list[str]] = defaultdict(list)
    audits: dict[str, list[str]] = defaultdict(list)
    async for batch in store.export_records():
        for item in batch:
            kind = kind_of(item)
            data = item_to_dict(item)["record"]
            if isinstance(item, ClaimItem):
                data = {"key": item.key}  # when it lapses moves by the copy's own duration
            text = json.dumps(data, sort_keys=True)
            if isinstance(item, TimelineItem):
                timelines[f"{item.org_id}|{item.candidate_id}"].append(text)
            elif isinstance(item, AuditEntry):
                audits[item.org_id].append(text)
            elif isinstance(item, DeadJob):
                grouped[kind].append(text)
            else:
                grouped[kind].append(text)
    result = {
        kind: (items if kind == "dead_job" else sorted(items)) for kind, items in grouped.items()
    }
    result["timeline"] = dict(timelines)
    result["audit"] = dict(audits)
    return result
