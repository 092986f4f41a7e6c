"""Durable timers: something to do at a given time, once, whatever happens to the processes.

A timer is an outbox job with a due time (`Job.not_before`) and a key (`Job.timer_key`), made
by its kind's `JobKind.timer`. So it is stored like every job (SQLite: the outbox table,
indexed by due time; Redis: the delayed sorted set, moved into the stream atomically by the
worker that claims it), survives restarts and SIGKILL, is fired by one worker among any
number of `serve` and `worker` processes, and is retried, dead-lettered and replayed like an
alert. The key makes it movable and cancellable: queueing a job with a key replaces the
pending job of that key (a rescheduled interview moves its reminder), and
`Store.cancel_timers` removes it (a cancelled one drops it). A timer a worker is sending at
that very moment is sent once at most; the old one's ack and retry then find nothing.

Late firing: a timer whose processes were all down at its due time fires when one comes
back. Each kind says until when its message is still of use (`Lateness`); past that the
handler drops it (`bot.outbox.jobs.dropped_late`) and the worker counts it (`slotbot_deliveries_total{result="late"}`).
How long due jobs wait for a worker is `/metrics`' `slotbot_outbox_due_lag_seconds`.

Keys are built here, one function per kind of timer, so that the code that sets a timer
and the code that cancels it agree on its name.
"""

from __future__ import annotations

from dataclasses import dataclass

KEY_SEPARATOR = "|"


def timer_key(kind: str, org_id: str, *parts: str) -> str:
    """The key of one timer: its kind, its org, and what it is about (booking, member)."""
    return KEY_SEPARATOR.join((kind, org_id, *parts))


def reminder_key(org_id: str, booking_id: str, user_id: str) -> str:
    return timer_key("reminder", org_id, booking_id, user_id)


def agenda_key(org_id: str, user_id: str) -> str:
    return timer_key("agenda", org_id, user_id)


def feedback_key(org_id: str, booking_id: str, user_id: str) -> str:
    return timer_key("feedback", org_id, booking_id, user_id)


@dataclass(frozen=True)
class Lateness:
    """When a timer's message stops being of use: fired at `due`, useful until `until`."""

    due: float
    until: float

    def too_late(self, now: float) -> bool:
        return now > self.until
