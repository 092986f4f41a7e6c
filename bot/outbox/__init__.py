"""The outbox: jobs stored with the change that made them, done later, at least once.

- `jobs`: what a job kind is (payload, handler, `JobKind`), sent markers, bad jobs;
- `kinds/`: one module per kind — "alert", "notice", "profile_disconnected" — each holding its
  payload dataclass, its handler and its `KIND`; adding a kind is adding a module there;
- `worker`: the worker that claims, orders, retries, dead-letters and acks jobs of any kind;
- `lifecycle`: the worker running with the app (`serve`, `python -m bot worker`).

`notice_job` is here for the many places that tell someone something.
"""

from bot.outbox.kinds.notice import notice_job

__all__ = ["notice_job"]
