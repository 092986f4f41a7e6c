"""The Redis store's outbox (a stream with a consumer group, a delayed set, a dead-letter
stream, a hash per job; every move between them one Lua script) and its claims (`claim_once`:
a key per claim, SET NX with a time to live)."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence
from typing import Any, cast

from bot.store.lease import Lease, claim_prefix
from bot.store.records import BookingMessage, Job, from_json, to_json
from bot.store.redis.connection import RedisBase, json_object, ms, translating, writing

CONSUMER_GROUP = "workers"
MOVE_DUE_BATCH = 1000  # at most this many delayed jobs move to the stream per claim


class OutboxMixin(RedisBase):
    """Jobs, dead letters, and claims."""

    # outbox ----------------------------------------------------------------
    def _untimer_op(self, timer_key: str, keep: str = "") -> list[Any]:
        """The APPLY operation that removes a timer key's pending job (see scripts.APPLY)."""
        return [
            "UNTIMER",
            self._timers,
            timer_key,
            self._job_prefix,
            self._stream,
            CONSUMER_GROUP,
            self._delayed,
            self._org_jobs_prefix,
            keep,
        ]

    def _enqueue_ops(self, jobs: list[Job]) -> list[list[Any]]:
        ops: list[list[Any]] = []
        for job in jobs:
            key = self._job_key(job.job_id)
            if job.timer_key:
                # a timer's job replaces the pending job of its key
                ops.append(self._untimer_op(job.timer_key, keep=job.job_id))
            ops += [
                ["DEL", key],
                [
                    "HSET",
                    key,
                    "doc",
                    to_json(job),
                    "attempts",
                    job.attempts,
                    "not_before",
                    repr(job.not_before),
                    "org",
                    job.org_id,
                    "state",
                    "delayed",
                ],
                ["ZADD", self._delayed, repr(job.not_before), job.job_id],
                ["SADD", self._org_jobs_prefix + job.org_id, job.job_id],
            ]
            if job.timer_key:
                ops += [
                    ["HSET", key, "timer", job.timer_key],
                    ["HSET", self._timers, job.timer_key, job.job_id],
                ]
        return ops

    @writing
    async def enqueue(self, jobs: list[Job]) -> None:
        if jobs:
            await self._run(self._enqueue_ops(jobs))

    @writing
    async def cancel_timers(self, keys: list[str]) -> int:
        if not keys:
            return 0
        pending = [key for key in keys if await self._pending_timer(key) is not None]
        await self._run([self._untimer_op(key) for key in keys])
        return len(pending)

    @translating
    async def get_timer(self, key: str) -> Job | None:
        return await self._pending_timer(key)

    async def _pending_timer(self, key: str) -> Job | None:
        job_id = await self._hget(self._timers, key)
        if job_id is None:
            return None
        state = await self._hget(self._job_key(job_id), "state")
        doc = await self._hget(self._job_key(job_id), "doc")
        if state is None or state == "dead" or doc is None:
            return None
        job = from_json(Job, doc)
        attempts = await self._hget(self._job_key(job_id), "attempts")
        job.attempts = int(attempts) if attempts is not None else job.attempts
        return job

    @translating
    async def due_lag(self, now: float) -> float:
        # the oldest delayed job that is due: no worker has moved it into the stream yet
        reply: list[Any] = await self._send("ZRANGE", self._delayed, 0, 0, "WITHSCORES")
        if not reply:
            return 0.0
        # [member, score] as Redis sends it, or [(member, score)] once the client parsed it
        score = reply[0][1] if isinstance(reply[0], list | tuple) else reply[1]
        return max(0.0, now - float(score))

    # Not `writing`: workers poll it many times a second, and a claim (or its attempt count)
    # lost in a crash of Redis only hands the job out again, which at-least-once allows.
    @translating
    async def claim_jobs(
        self, consumer: str, *, limit: int, visibility_timeout: float, now: float | None = None
    ) -> list[Job]:
        if limit <= 0:
            return []
        at = time.time() if now is None else now
        self._r  # noqa: B018 - raises StoreUnavailable when closed
        rows: list[list[Any]] = await self._claim(
            keys=[self._stream, self._delayed],
            args=[
                CONSUMER_GROUP,
                consumer,
                repr(at),
                limit,
                ms(visibility_timeout),
                self._job_prefix,
                MOVE_DUE_BATCH,
            ],
        )
        claimed: list[Job] = []
        for _job_id, doc, attempts in rows:
            job = from_json(Job, doc)
            job.attempts = int(attempts)
            claimed.append(job)
        return claimed

    # Not `writing`, like claim_jobs: a reset lost in a crash of Redis only lets the job be
    # handed out again, which at-least-once allows.
    @translating
    async def extend_claims(self, consumer: str, job_ids: list[str], *, now: float) -> None:
        if not job_ids:
            return
        self._r  # noqa: B018 - raises StoreUnavailable when closed
        await self._extend(
            keys=[self._stream], args=[CONSUMER_GROUP, consumer, self._job_prefix, *job_ids]
        )

    @writing
    async def ack_job(
        self,
        job_id: str,
        *,
        kv_deletes: Sequence[tuple[str, str]] = (),
        kv_puts: Sequence[tuple[str, str, dict[str, object]]] = (),
        messages: Sequence[BookingMessage] = (),
    ) -> None:
        self._r  # noqa: B018 - raises StoreUnavailable when closed
        also: list[Any] = []
        for namespace, key in kv_deletes:
            also += ["DEL", self._key("kv", namespace), key]
        for namespace, key, value in kv_puts:
            doc = json.dumps(value, separators=(",", ":"), sort_keys=True)
            also += ["PUT", self._key("kv", namespace), key, doc]
        for message in messages:
            refs = self._message_refs_key(message.org_id, message.booking_id)
            also += ["PUT", refs, message.target, to_json(message.ref)]
        await self._eval(
            self._ack,
            [self._stream, self._delayed],
            [
                CONSUMER_GROUP,
                self._job_key(job_id),
                job_id,
                self._org_jobs_prefix,
                self._timers,
                *also,
            ],
        )

    @writing
    async def retry_job(self, job: Job, *, at: float, error: str, max_attempts: int) -> bool:
        if job.attempts >= max_attempts:
            await self._dead_letter([job], error)
            return False
        retried = dataclasses.replace(job, not_before=at, last_error=error)
        self._r  # noqa: B018 - raises StoreUnavailable when closed
        await self._retry(
            keys=[self._stream, self._delayed],
            args=[
                CONSUMER_GROUP,
                self._job_key(job.job_id),
                job.job_id,
                to_json(retried),
                repr(at),
            ],
        )
        return True

    @writing
    async def dead_letter_job(self, job: Job, reason: str) -> None:
        await self._dead_letter([job], reason)

    async def _dead_letter(self, jobs: list[Job], reason: str) -> int:
        args: list[Any] = [CONSUMER_GROUP, self._job_prefix, self._org_jobs_prefix, reason]
        for job in jobs:
            dead = dataclasses.replace(job, last_error=job.last_error or reason, dead_reason="")
            args += [
                "JOB",
                job.job_id,
                job.org_id,
                to_json(dead),
                job.attempts,
                repr(job.not_before),
            ]
        self._r  # noqa: B018 - raises StoreUnavailable when closed
        count = await self._dead_script(keys=[self._stream, self._delayed, self._dead], args=args)
        return int(count)

    @writing
    async def dead_letter_org_jobs(self, org_id: str, reason: str) -> int:
        args = [CONSUMER_GROUP, self._job_prefix, self._org_jobs_prefix, reason, "ORG", org_id]
        self._r  # noqa: B018 - raises StoreUnavailable when closed
        count = await self._dead_script(keys=[self._stream, self._delayed, self._dead], args=args)
        return int(count)

    async def _load_jobs(self, job_ids: list[str]) -> list[Job]:
        pipe = self._r.pipeline(transaction=False)
        for job_id in job_ids:
            pipe.hgetall(self._job_key(job_id))
        rows: list[dict[str, str]] = await pipe.execute()
        jobs: list[Job] = []
        for row in rows:
            if "doc" not in row:
                continue
            job = from_json(Job, row["doc"])
            job.attempts = int(row.get("attempts", job.attempts))
            job.dead_reason = row.get("dead_reason", "")
            jobs.append(job)
        return jobs

    @translating
    async def list_dead_letters(self, org_id: str | None = None, limit: int = 100) -> list[Job]:
        # newest dead letter first: the one someone is most likely asking about
        found: list[Job] = []
        end = "+"
        while len(found) < limit:
            entries = cast(
                "list[tuple[str, dict[str, str]]]",
                await self._r.xrevrange(self._dead, max=end, min="-", count=max(limit, 100)),
            )
            if not entries:
                break
            jobs = await self._load_jobs([fields["job_id"] for _, fields in entries])
            found += [job for job in jobs if org_id is None or job.org_id == org_id]
            end = "(" + entries[-1][0]
        return found[:limit]

    @writing
    async def requeue_dead_letters(self, job_ids: list[str] | None = None) -> int:
        if job_ids is None:
            entries = cast("list[tuple[str, dict[str, str]]]", await self._r.xrange(self._dead))
            job_ids = [fields["job_id"] for _, fields in entries]
        if not job_ids:
            return 0
        count = await self._requeue(
            keys=[self._delayed, self._dead],
            args=[self._job_prefix, self._org_jobs_prefix, *job_ids],
        )
        return int(count)

    @translating
    async def outbox_depth(self) -> int:
        pipe = self._r.pipeline(transaction=False)
        pipe.xlen(self._stream)
        pipe.zcard(self._delayed)
        in_stream, delayed = await pipe.execute()
        return int(in_stream) + int(delayed)

    # dedupe ----------------------------------------------------------------
    # Not `writing`: a claim lost in a crash of Redis lets one replay through again (what the
    # claimed work wrote was confirmed by its own writes); it never loses anything.
    @translating
    async def claim_once(self, key: str, ttl: float) -> bool:
        # sent with the commands of the same turn of the event loop (`_send`)
        claimed = await self._send("SET", self._key("once", key), "1", "NX", "PX", ms(ttl))
        return bool(claimed)

    # Not `writing`, as `claim_once`: a lease lost in a crash of Redis is taken again
    @translating
    async def take_lease(self, namespace: str, key: str, ttl: float) -> Lease:
        prefix = self._key("once", claim_prefix(namespace, key))
        doc, taken = await self._eval(
            self._lease, [self._key("kv", namespace)], [key, prefix, ms(ttl)]
        )
        return Lease(json_object(str(doc)) if doc is not None else {}, bool(taken))

    @writing
    async def release_claim(self, key: str) -> None:
        await self._r.delete(self._key("once", key))
