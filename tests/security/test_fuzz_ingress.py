"""Generated requests at the Slack and Teams endpoints: never a 5xx, never an unhandled
exception, and an unverifiable request is always a 401.

Slack: slash commands with any text, interactivity payloads (Enterprise Grid ones whose team
is null among them, views with or without their type, workflow steps with or without theirs),
events and raw bytes, signed, unsigned, wrongly signed or stale, under any content type; and
all of it again while Slack's Web API cannot be reached. Teams: activities of any type and
shape with a valid token, and the same with a token for another app; among them mention
entities of any shape, ids of absurd length, every invoke Teams sends (and names it does not),
and activities of other Bot Framework channels, which are refused.

SLOTBOT_FUZZ_EXAMPLES scales the run (`make fuzz` sets 10,000 per target). The Cronofy
push URL is fuzzed in tests/scenarios/test_alerts_fuzz.py, the command parser in
tests/bot/commands/test_parser.py.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import strategies as st

from adapters.teams.log_lines import TEAMS_TURN_ERROR
from bot import logs
from bot.store.base import Store
from cards.actions import RESET_CONFIRM
from tests.adapters.slack.support import FORM, make_app, signed_headers, slack_settings
from tests.adapters.teams import support as teams
from tests.fakes.botframework import FakeConnector
from tests.fakes.slack import FakeSlack
from tests.support.fuzzing import JSON_VALUES, drawn, fuzz_examples
from tests.support.redis_server import free_port

EXAMPLES = fuzz_examples(60)

TEXT = st.text(max_size=120)
CONTENT_TYPES = st.sampled_from(
    [FORM, "application/json", "text/plain", "application/xml", "", "multipart/form-data"]
)


ACTION_IDS = st.sampled_from(["link.share", "setup.open", "confirm", "x", ""])
CALLBACK_IDS = st.sampled_from(["cronofy.setup", "x", ""])
# view.state.values: block id -> action id -> the input's state, as Slack sends it
STATE_VALUES = st.dictionaries(
    st.sampled_from(["client_id", "client_secret", "data_center", "b"]),
    st.dictionaries(
        st.sampled_from(["client_id", "client_secret", "data_center", "a"]),
        st.fixed_dictionaries(
            {"type": st.sampled_from(["plain_text_input", "static_select"]), "value": TEXT}
        ),
        max_size=2,
    ),
    max_size=3,
)


@st.composite
def interactive_payloads(draw: st.DrawFn) -> dict[str, Any]:
    """Interactivity payloads in the shapes Slack sends, with any values inside them, and
    one in ten with a field of any JSON shape at all."""
    kind = draw(
        st.sampled_from(
            [
                "block_actions",
                "view_submission",
                "view_closed",
                "shortcut",
                "workflow_step_edit",
                "zzz",
            ]
        )
    )
    team = draw(st.sampled_from(["T1", "T2"]))
    payload: dict[str, Any] = {
        "type": kind,
        "team": {"id": team},
        "user": {"id": draw(st.sampled_from(["U1", "UADMIN"]))},
        "trigger_id": "t.1",
    }
    if draw(st.integers(0, 4)) == 0:  # Enterprise Grid: no team, the workspace elsewhere
        payload["team"] = None
        if draw(st.booleans()):
            payload["user"]["team_id"] = team
    view: dict[str, Any] = {
        "id": "V1",
        "type": draw(st.sampled_from(["modal", "modal", "workflow_step", "home"])),
        "callback_id": draw(CALLBACK_IDS),
        "private_metadata": draw(TEXT),
        "state": {"values": draw(STATE_VALUES)},
    }
    if draw(st.integers(0, 4)) == 0:  # a view without its type or callback id
        del view[draw(st.sampled_from(["type", "callback_id"]))]
    if draw(st.integers(0, 4)) == 0 and payload["team"] is not None:
        view["app_installed_team_id"] = team
    if draw(st.booleans()):
        payload["workflow_step"] = {"workflow_step_edit_id": "1", "inputs": {}}
    if kind == "block_actions":
        payload["actions"] = draw(
            st.lists(
                st.fixed_dictionaries(
                    {"action_id": ACTION_IDS, "block_id": st.just("b"), "value": TEXT}
                ),
                min_size=1,
                max_size=2,
            )
        )
        if draw(st.booleans()):
            payload["view"] = view
    elif kind in ("view_submission", "view_closed"):
        payload["view"] = view
    elif kind in ("shortcut", "workflow_step_edit"):
        payload["callback_id"] = draw(CALLBACK_IDS)
    elif draw(st.booleans()):  # a type Slotbot does not know, as Slack would shape it
        payload["view"] = view
    if draw(st.integers(0, 9)) == 0:  # now and then, a shape Slack never sends
        field = draw(
            st.sampled_from(
                ["view", "actions", "team", "user", "callback_id", "response_urls", "enterprise"]
            )
        )
        payload[field] = draw(JSON_VALUES)
    return payload


@st.composite
def slack_requests(draw: st.DrawFn) -> tuple[bytes, dict[str, str], str]:
    """(body, headers, how it is signed)."""
    shape = draw(st.sampled_from(["command", "interactive", "event", "raw"]))
    if shape == "command":
        body = urlencode(
            {
                "team_id": draw(st.sampled_from(["T1", "T2", ""])),
                "user_id": draw(st.sampled_from(["U1", "UADMIN", ""])),
                "channel_id": draw(st.sampled_from(["C1", "D1", ""])),
                "command": draw(st.sampled_from(["/schedule", "/cronofy", "/other", ""])),
                "text": draw(TEXT),
                "trigger_id": "t.1",
            }
        )
    elif shape == "interactive":
        body = urlencode({"payload": json.dumps(draw(interactive_payloads()))})
    elif shape == "event":
        event = draw(
            st.dictionaries(
                st.sampled_from(["type", "user", "channel", "text", "tab", "bot_id", "subtype"]),
                st.one_of(
                    st.sampled_from(
                        [
                            "app_home_opened",
                            "message",
                            "app_uninstalled",
                            "tokens_revoked",
                            "user_change",
                        ]
                    ),
                    TEXT,
                ),
                max_size=6,
            )
        )
        envelope: dict[str, Any] = {
            "type": draw(st.sampled_from(["event_callback", "url_verification", "zzz"])),
            "team_id": "T1",
            "event_id": f"Ev{draw(st.integers(0, 10**9))}",
            "event": event,
            "challenge": draw(TEXT),
        }
        if draw(st.integers(0, 3)) == 0:  # an org-level event: the enterprise, no workspace
            del envelope["team_id"]
            envelope["enterprise_id"] = "E1"
        if draw(st.integers(0, 9)) == 0:  # a shape Slack never sends, in the event or around it
            part = draw(st.sampled_from([envelope, event]))
            part[draw(st.sampled_from(["team", "user", "channel", "enterprise"]))] = draw(
                JSON_VALUES
            )
        if draw(st.booleans()):
            envelope["authorizations"] = draw(
                st.one_of(
                    st.just([{"team_id": "T1", "user_id": "UBOT", "is_bot": True}]),
                    JSON_VALUES,
                )
            )
        body = json.dumps(envelope)
    else:
        body = draw(st.binary(max_size=300)).decode("utf-8", "replace")
    content_type = draw(CONTENT_TYPES)
    signing = draw(st.sampled_from(["valid", "valid", "none", "wrong", "stale"]))
    if signing == "none":
        headers = {"Content-Type": content_type}
    elif signing == "stale":
        headers = signed_headers(body, content_type, ts=int(time.time()) - 3600)
    elif signing == "wrong":
        headers = signed_headers(body, content_type, secret="not-the-signing-secret")
    else:
        headers = signed_headers(body, content_type)
    return body.encode(), headers, signing


def unhandled(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What reached the app's last-resort handler (bot.app logs UNHANDLED there). A Teams
    turn that fails inside botbuilder is caught by the adapter's turn-error handler instead
    and answered without a 5xx; the assertions on status codes cover it."""
    prefix = logs.UNHANDLED.split("%", 1)[0]
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(prefix)]


def turn_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Teams turns that failed inside botbuilder (answered 500, so Teams sends them again)."""
    prefix = TEAMS_TURN_ERROR.split("%", 1)[0]
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(prefix)]


@pytest.mark.parametrize("slack_api", ["answers", "unreachable"])
async def test_fuzz_slack_ingress_never_5xx(
    aiohttp_client: Any,
    store: Store,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    slack_api: str,
) -> None:
    caplog.set_level(logging.WARNING)
    extra = {}
    if slack_api == "unreachable":  # Slack reaches Slotbot, Slotbot cannot reach Slack
        extra["SLACK_API_URL"] = f"http://127.0.0.1:{free_port()}/api/"
    client = await aiohttp_client(make_app(slack_settings(fake_slack, **extra), store))
    for body, headers, signing in drawn(slack_requests(), EXAMPLES):
        response = await client.post("/slack/events", data=body, headers=headers)
        assert response.status < 500, (response.status, await response.text(), body)
        if signing != "valid":
            assert response.status == 401, (signing, body)
    assert unhandled(caplog) == []


# the invokes Teams sends (Slotbot handles adaptiveCard/action only), and names it never does
INVOKE_NAMES = st.one_of(
    st.sampled_from(
        [
            "adaptiveCard/action",
            "task/fetch",
            "task/submit",
            "composeExtension/query",
            "composeExtension/submitAction",
            "composeExtension/fetchTask",
            "composeExtension/querySettingUrl",
            "config/fetch",
            "config/submit",
            "tab/fetch",
            "fileConsent/invoke",
            "signin/verifyState",
            "signin/tokenExchange",
            "actionableMessage/executeAction",
            "zzz",
            "",
        ]
    ),
    st.text(max_size=30),
)
# Bot Framework channels other than Teams, and none at all
CHANNEL_IDS = st.sampled_from(
    ["msteams"] * 6 + ["webchat", "directline", "emulator", "slack", "", None]
)
# ids of every length, Teams' own and absurd ones
IDS = st.one_of(
    st.text(min_size=1, max_size=40),
    st.sampled_from([400, 513, 1025, 20_000]).map(lambda n: "a:" + "x" * n),
)


@st.composite
def entities(draw: st.DrawFn, fake_bot_id: str) -> list[Any]:
    """Mention and client-info entities, well and badly formed."""
    mentioned = st.one_of(
        st.fixed_dictionaries(
            {"id": st.sampled_from([fake_bot_id, "29:grace", "19:channel"]) | TEXT},
            optional={"name": TEXT, "aadObjectId": TEXT},
        ),
        JSON_VALUES,
    )
    mention = st.fixed_dictionaries(
        {"type": st.sampled_from(["mention", "Mention"])},
        optional={
            "mentioned": mentioned,
            "text": st.one_of(
                st.sampled_from(["<at>Slotbot</at>", "<at>Test (*.[]$%#^&?)</at>"]),
                TEXT,
                JSON_VALUES,
            ),
        },
    )
    client_info = st.fixed_dictionaries(
        {"type": st.just("clientInfo")}, optional={"timezone": JSON_VALUES, "locale": TEXT}
    )
    return draw(st.lists(st.one_of(mention, client_info, JSON_VALUES), max_size=3))


@st.composite
def activities(draw: st.DrawFn, fake: FakeConnector) -> dict[str, Any]:
    where = draw(st.sampled_from(["personal", "channel"]))
    base = teams.personal(fake) if where == "personal" else teams.channel(fake)
    activity: dict[str, Any] = json.loads(json.dumps(base))
    activity["type"] = draw(
        st.sampled_from(
            ["message", "invoke", "conversationUpdate", "installationUpdate", "typing", "zzz"]
        )
    )
    activity["id"] = f"f-{draw(st.integers(0, 10**9))}"
    if draw(st.booleans()):
        activity["text"] = draw(
            st.one_of(
                TEXT,
                st.sampled_from(
                    [
                        "help",
                        "schedule link",
                        "cronofy setup",
                        "<at>Slotbot</at> help",
                        "<at>Test (*.[]$%#^&?)</at> help",
                    ]
                ),
            )
        )
    if draw(st.booleans()):
        activity["entities"] = draw(entities(teams.BOT["id"]))
    if draw(st.booleans()):
        activity["value"] = draw(JSON_VALUES)
    if activity["type"] == "invoke" or draw(st.booleans()):
        activity["name"] = draw(INVOKE_NAMES)
    channel_id = draw(CHANNEL_IDS)
    if channel_id is None:
        del activity["channelId"]
    else:
        activity["channelId"] = channel_id
    if draw(st.integers(0, 4)) == 0:  # an id Teams would never send
        field = draw(st.sampled_from(["id", "conversation", "from", "aadObjectId", "tenant"]))
        value = draw(IDS)
        if field == "id":
            activity["id"] = value
        elif field == "conversation":
            activity["conversation"]["id"] = value
        elif field == "from":
            activity["from"]["id"] = value
        elif field == "aadObjectId":
            activity["from"]["aadObjectId"] = value
        else:
            activity["channelData"]["tenant"]["id"] = value
    for field in draw(
        st.sets(st.sampled_from(["from", "conversation", "channelData", "recipient"]))
    ):
        activity[field] = draw(JSON_VALUES)
    if draw(st.booleans()):
        activity["action"] = draw(st.sampled_from(["add", "remove", "zzz"]))
    return activity


async def test_fuzz_teams_ingress_never_5xx(
    aiohttp_client: Any,
    store: Store,
    fake_connector: FakeConnector,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    fake_connector.add_app(teams.APP_ID, teams.APP_PASSWORD)
    app = teams.make_app(
        teams.auth_settings(), store, endpoints=teams.fake_endpoints(fake_connector)
    )
    client = await aiohttp_client(app)
    good = {"Authorization": f"Bearer {fake_connector.make_token(teams.APP_ID)}"}
    other_app = {
        "Authorization": f"Bearer {fake_connector.make_token(teams.APP_ID, audience='another')}"
    }
    cases = drawn(st.tuples(activities(fake_connector), st.booleans()), EXAMPLES)
    for activity, authorised in cases:
        headers = good if authorised else other_app
        response = await client.post("/api/messages", json=activity, headers=headers)
        # an invoke Slotbot does not handle is answered too, never 501
        assert response.status < 500, (response.status, await response.text(), activity)
        if not authorised:  # refused: as malformed, or for its token
            assert response.status in (400, 401), activity
        if activity.get("channelId") != "msteams":
            assert response.status in (400, 401), activity
    assert unhandled(caplog) == []
    assert turn_errors(caplog) == []


@pytest.mark.parametrize(
    "body",
    [
        {"type": "zzz", "team_id": "T1", "authorizations": {"0": {"team_id": "T1"}}},
        {"type": "url_verification", "challenge": "c", "response_urls": 3},
        {
            "type": "event_callback",
            "team_id": "T1",
            "event_id": "Ev1",
            "event": {"type": "app_home_opened", "user": 7},
        },
        {"type": "zzz", "enterprise": 12},
    ],
    ids=[
        "authorizations that are not a list",
        "response_urls that are not a list",
        "an event whose user is a number",
        "an enterprise that is a number",
    ],
)
async def test_fuzz_found_signed_json_bodies_of_impossible_shapes_are_4xx(
    aiohttp_client: Any, store: Store, fake_slack: FakeSlack, body: dict[str, Any]
) -> None:
    client = await aiohttp_client(make_app(slack_settings(fake_slack), store))
    text = json.dumps(body)
    response = await client.post(
        "/slack/events", data=text.encode(), headers=signed_headers(text, "application/json")
    )
    assert response.status == 400, response.status


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "block_actions", "team": {"id": "T1"}, "user": {"id": "U1"}, "actions": []},
        {"type": "view_submission", "team": {"id": "T1"}, "user": {"id": "U1"}, "view": []},
        {"type": "zzz", "team": {"id": "T1"}, "user": {"id": "U1"}, "view": None},
        {
            "type": "view_submission",
            "team": {"id": "T1"},
            "user": {"id": "U1"},
            "view": {"id": "V1", "callback_id": "x", "state": {"values": {}}},
        },
        {
            "type": "view_submission",
            "team": {"id": "T1"},
            "user": {"id": "U1"},
            "view": {"id": "V1", "type": "workflow_step", "callback_id": "x"},
        },
        {"type": "workflow_step_edit", "team": {"id": "T1"}, "callback_id": "x"},
        {
            "type": "block_actions",
            "team": {"id": "T1"},
            "user": {"id": "U1"},
            "actions": [{"block_id": "b", "value": "v"}],
        },
        {"type": "shortcut", "team": {"id": "T1"}, "user": {"id": "U1"}, "callback_id": 7},
        {"type": "view_closed", "team": None, "user": {"id": "U1"}, "view": {"type": "modal"}},
    ],
    ids=[
        "block_actions without actions",
        "view_submission with a list for view",
        "unknown type with a null view",
        "view_submission whose view has no type",
        "workflow step saved without its workflow_step",
        "workflow_step_edit without its workflow_step",
        "block action without an action_id",
        "shortcut whose callback_id is a number",
        "null team and no workspace anywhere",
    ],
)
async def test_fuzz_found_signed_slack_payloads_of_impossible_shapes_are_4xx(
    aiohttp_client: Any, store: Store, fake_slack: FakeSlack, payload: dict[str, Any]
) -> None:
    client = await aiohttp_client(make_app(slack_settings(fake_slack), store))
    body = urlencode({"payload": json.dumps(payload)})
    response = await client.post(
        "/slack/events", data=body.encode(), headers=signed_headers(body, FORM)
    )
    assert response.status == 400, response.status


@pytest.mark.parametrize("where", ["user", "view"])
async def test_enterprise_grid_payloads_whose_team_is_null_are_handled_for_their_workspace(
    aiohttp_client: Any, store: Store, fake_slack: FakeSlack, where: str
) -> None:
    """Slack sends `team: null` in Enterprise Grid payloads and names the workspace in
    `user.team_id` (or the view's `app_installed_team_id`): the button is T1's (a reset
    confirmed for T1 is not "another workspace's")."""
    client = await aiohttp_client(make_app(slack_settings(fake_slack), store))
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": None,
        "user": {"id": "U1", "team_id": "T1"} if where == "user" else {"id": "U1"},
        "trigger_id": "t.1",
        "response_url": fake_slack.response_url("grid"),
        "channel": {"id": "C1", "name": "hiring"},
        "actions": [{"action_id": RESET_CONFIRM, "block_id": "b", "value": "slack:T1"}],
    }
    if where == "view":
        payload["view"] = {
            "id": "V1",
            "type": "home",
            "callback_id": "",
            "app_installed_team_id": "T1",
        }
    body = urlencode({"payload": json.dumps(payload)})
    response = await client.post(
        "/slack/events", data=body.encode(), headers=signed_headers(body, FORM)
    )
    assert response.status == 200, await response.text()
    [answer] = await fake_slack.wait_for("response_url")
    assert "another workspace" not in answer.text
    assert "Only Slotbot admins" in answer.text  # U1 is T1's member, not one of its admins
