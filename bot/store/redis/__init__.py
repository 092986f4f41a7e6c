"""The shared store: Redis, for several Slotbot replicas behind one load balancer.

Every key lives under one prefix (default ``slotbot:``). Records are JSON text in hashes;
the few multi-key changes (an accepted event, a record and its index, every outbox move) run
as Lua scripts, which Redis executes as one step: no other client sees a half-done change,
and a Slotbot replica that dies mid-request cannot leave one behind either.

Key layout (``<p>`` = prefix; ``<a>|<b>`` joins two ids, each with ``%`` and ``|`` escaped).
Names are snake_case words and ids joined with ``:``, the general before the particular; the
kv namespaces and claim keys inside them follow the store's key style (`bot.store`):

    <p>orgs                        hash    org_id -> Org JSON
    <p>org_keys                    hash    org_key -> org_id
    <p>org_key_of                  hash    org_id -> org_key (to release the old key)
    <p>members:<org>               hash    user_id -> Member JSON
    <p>candidates:<org>            hash    candidate_id -> Candidate JSON
    <p>candidate_emails:<org>      hash    lower-cased email -> candidate_id
    <p>candidate_email_of:<org>    hash    candidate_id -> lower-cased email
    <p>timeline:<org>|<candidate>  list    TimelineEntry JSON, oldest first (RPUSH)
    <p>bookings:<org>              hash    booking_id -> Booking JSON
    <p>booking_starts:<org>        zset    all scores 0, members "<start>\\x1f<booking_id>"
                                           (lexicographic = ISO order), "~<booking_id>" if
                                           no start yet (sorts after every date)
    <p>booking_start_of:<org>      hash    booking_id -> its member in booking_starts
    <p>links                       hash    correlation_id -> TrackedLink JSON
    <p>oauth_state:<state>         string  OAuthState JSON (expires a day after expires_at)
    <p>once:<claim key>            string  dedupe claim, SET NX PX ttl (claim key:
                                           "<namespace>:<id parts>", e.g. once:slack_event:Ev1)
    <p>message_refs:<org>|<booking> hash   target -> MessageRef JSON
    <p>events:<org>                stream  the org's timeline entries in order, as references
                                           only: c (candidate id), p (place in its timeline
                                           list), a (the entry's `at`) (`feeds`, version 4)
    <p>audit:<org>                 list    AuditEntry JSON, newest first (LPUSH)
    <p>kv:<namespace>              hash    key -> JSON document (e.g. kv:teams_refs)
    <p>outbox                      stream  field job_id; consumer group "workers"
    <p>outbox:delayed              zset    job_id scored by not_before (every job waits here
                                           until due; claim moves due ones to the stream)
    <p>outbox:dead                 stream  field job_id: dead letters, in the order they died
    <p>outbox:job:<job_id>         hash    doc (Job JSON), attempts, not_before, org, state
                                           (delayed / queued / dead), entry (stream id while
                                           queued), dead_entry, dead_reason
    <p>outbox:org:<org>            set     job ids of the org that are not dead yet
    <p>schema_version              string  the schema version of what the prefix holds
    <p>migration_lock              string  held by the one process migrating (`schema`)
    <p>durability_mark             string  set and deleted in one script before WAITAOF, so
                                           never seen (`durability`, Redis 7.2+ only)

Where things are:

    connection    the client, key names, open / migrate / close, pipelines, the decorators
                  (`translating` errors; `writing`: a write returns once it is on disk)
    durability    whether what Redis acknowledges survives a crash: checked at open, and
                  each write waited for with WAITAOF on Redis 7.2+ when Redis does not fsync
    scripts       the Lua scripts: accepted events, every outbox move, indexed reads
    schema        the schema version, the numbered migration steps and their runner
    orgs          orgs and members
    profiles      candidates, timelines, bookings, tracked links, message references
    events        accepted callbacks, in one script
    outbox        jobs, dead letters, claims (dedupe)
    housekeeping  audit, kv, OAuth states; export / import / count / clear for copies
    feeds         an org's timeline events (through its event index) and audit log in pages
    erasure       a candidate erased, data past retention erased (one APPLY each)
    transfer      copies and backups: every key under the prefix read, written, counted
"""

from __future__ import annotations

from bot.store.redis.erasure import ErasureMixin
from bot.store.redis.events import EventsMixin
from bot.store.redis.feeds import FeedsMixin
from bot.store.redis.housekeeping import HousekeepingMixin
from bot.store.redis.orgs import OrgsMixin
from bot.store.redis.outbox import OutboxMixin
from bot.store.redis.profiles import ProfilesMixin


class RedisStore(
    ErasureMixin, OrgsMixin, EventsMixin, ProfilesMixin, OutboxMixin, HousekeepingMixin, FeedsMixin
):
    """The Store protocol (`bot.store.base`) on Redis, every key under one prefix."""


__all__ = ["RedisStore"]
