"""Generated payloads and headers at the push URL: never a 500, nothing stored unsigned.

SLOTBOT_FUZZ_EXAMPLES scales the run (`make fuzz` sets 10,000).
"""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.alerts.hmac import HEADER, compute_push_hmac
from bot.runtime import METRICS
from bot.store.base import Store
from tests.bot.alerts import payloads
from tests.bot.alerts.pipeline import CLIENT_SECRET, ORG_ID, ORG_KEY, start_pipeline

EXAMPLES = int(os.environ.get("SLOTBOT_FUZZ_EXAMPLES", "200"))

KEYS = st.sampled_from(
    [
        "notification",
        "type",
        "triggered_at",
        "scheduling_request",
        "scheduling_request_id",
        "event",
        "start",
        "end",
        "time",
        "tzid",
        "recipients",
        "email",
        "display_name",
        "slot_selector",
        "metadata",
        "scheduler",
        "correlation_id",
        "channel",
        "channel_id",
        "callback_url",
        "participants",
        "sub",
        "recipient_operations",
        "reschedule_url",
        "x",
    ]
)
TYPES = st.sampled_from(
    [
        "scheduling_request_time_chosen",
        "scheduling_request_cancelled",
        "verification",
        "change",
        "profile_disconnected",
        "gdpr_requested",
        "zzz",
        "",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | TYPES
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=5),
    max_leaves=25,
)
DOCUMENTED = st.sampled_from(
    [
        payloads.time_chosen(),
        payloads.RTS_COMPLETED,
        payloads.channel("change"),
        payloads.channel("profile_disconnected"),
        payloads.channel("gdpr_requested"),
    ]
)


@st.composite
def requests(draw: st.DrawFn) -> tuple[bytes, dict[str, str], bool]:
    """(body, headers, signed with the org's secret?)"""
    shape = draw(st.sampled_from(["json", "documented", "bytes"]))
    if shape == "json":
        body = json.dumps(draw(JSON)).encode()
    elif shape == "documented":
        body = json.dumps(draw(DOCUMENTED)).encode()
    else:
        body = draw(st.binary(max_size=300))
    headers: dict[str, str] = {}
    signing = draw(st.sampled_from(["valid", "valid-among-others", "wrong", "garbage", "none"]))
    good = compute_push_hmac(CLIENT_SECRET, body)
    if signing == "valid":
        headers[HEADER] = good
    elif signing == "valid-among-others":
        headers[HEADER] = f"{compute_push_hmac('other', body)}, {good}"
    elif signing == "wrong":
        headers[HEADER] = compute_push_hmac(CLIENT_SECRET, body + b" ")
    elif signing == "garbage":
        headers[HEADER] = draw(
            st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80)
        )
    headers["Content-Type"] = draw(
        st.sampled_from(
            [
                "application/json",
                "application/json; charset=utf-8",
                "text/plain",
                "multipart/form-data",
                "application/xml",
                "application/octet-stream",
            ]
        )
    )
    return body, headers, signing in ("valid", "valid-among-others")


def _examples() -> list[tuple[bytes, dict[str, str], bool]]:
    drawn: list[tuple[bytes, dict[str, str], bool]] = []

    # hypothesis draws the cases; the async client sends them afterwards
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(requests())
    def collect(case: tuple[bytes, dict[str, str], bool]) -> None:
        drawn.append(case)

    collect()
    return drawn


async def test_fuzz_push_never_500_and_nothing_stored_unsigned(
    aiohttp_client: Any, store: Store
) -> None:
    p = await start_pipeline(aiohttp_client, store, run_worker=False)
    accepted_signed = 0
    for body, headers, signed in _examples():
        response = await p.client.post(f"/cronofy/push/{ORG_KEY}", data=body, headers=headers)
        assert response.status < 500, (response.status, await response.text())
        if not signed:
            assert response.status == 401, body
        elif response.status == 200 and (await response.json())["status"] == "accepted":
            accepted_signed += 1
    metrics = p.client.app[METRICS]
    # every stored event came from a correctly signed request
    assert metrics.callbacks.labels("accepted")._value.get() == accepted_signed
    if accepted_signed == 0:
        assert await store.outbox_depth() == 0
        assert await store.list_audit(ORG_ID) == []
