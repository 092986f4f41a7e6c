"""The payloads of the "alert_removed" and "retention" kinds: stored as plain dicts that hold
nothing about the candidate, read back equal, and refused (BadJob) when malformed."""

from __future__ import annotations

from typing import Any

import pytest

from bot.outbox.jobs import BadJob
from bot.outbox.kinds.alert_removed import AlertRemoved, removed_job
from bot.outbox.kinds.retention import Sweep
from bot.store.records import MessageRef

ORG = "slack:T1"


def test_a_removed_job_per_stored_reference_holds_only_where_the_message_is() -> None:
    ref = MessageRef("slack", "C1", "1.2", seq=3)
    channel = removed_job(ORG, "channel:C1", ref, now=5.0)
    assert channel.kind == "alert_removed" and channel.not_before == 5.0
    assert channel.payload == {
        "target": {
            "platform": "slack",
            "org_id": ORG,
            "kind": "channel",
            "conversation_id": "C1",
            "user_id": None,
        },
        "ref": {
            "platform": "slack",
            "conversation_id": "C1",
            "message_id": "1.2",
            "thread_id": None,
            "service_url": None,
            "seq": 3,
        },
    }
    assert AlertRemoved.from_dict(channel.payload).ref == ref
    dm = AlertRemoved.from_dict(removed_job(ORG, "dm:U1", ref, now=5.0).payload)
    assert dm.target.kind == "dm" and dm.target.user_id == "U1"


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"target": {"platform": "slack", "org_id": ORG, "kind": "channel", "conversation_id": "C"}},
        {
            "target": {
                "platform": "slack",
                "org_id": ORG,
                "kind": "channel",
                "conversation_id": "C",
            },
            "ref": {"platform": "slack"},
        },
    ],
)
def test_a_malformed_removed_job_is_bad(payload: dict[str, Any]) -> None:
    with pytest.raises(BadJob):
        AlertRemoved.from_dict(payload)


def test_a_sweep_payload() -> None:
    assert Sweep.from_dict(Sweep(30).to_dict()) == Sweep(30)
    assert Sweep(30).target is None
    for bad in ({}, {"days": "30"}, {"days": True}):
        with pytest.raises(BadJob):
            Sweep.from_dict(bad)
