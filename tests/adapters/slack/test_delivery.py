"""SlackDelivery against the fake Slack Web API: posts, DMs, updates, threads, and every
Slack failure turned into a DeliveryError that says what to do."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from slack_sdk.oauth.installation_store.models.installation import Installation

import adapters.slack.delivery as delivery_module
from adapters.slack.delivery import SlackDelivery
from adapters.slack.installations import StoreInstallationStore
from bot.alerts.render import AlertFacts
from bot.alerts.routing import alert_job as routed_alert
from bot.chat import DeliveryFailure, DeliveryTarget, FindsSentMessages
from bot.config import Settings
from bot.errors import DeliveryError
from bot.outbox import notice_job
from bot.outbox.worker import OutboxWorker
from bot.runtime import Services
from bot.secrets import SecretBox, generate_key
from bot.store.records import Job, Org
from bot.store.sqlite import SQLiteStore
from cards.model import Card, Header, Section
from tests.fakes.slack import FakeSlack

TOKEN = "xoxb-test-delivery"
ORG = "slack:T1"
CARD = Card(blocks=[Header("Interview booked"), Section("Ada Lovelace, Tuesday 10:00")])


@pytest.fixture
async def services(tmp_path: Path, fake_slack: FakeSlack) -> AsyncIterator[Services]:
    store = SQLiteStore(str(tmp_path / "slotbot.db"))
    await store.open()
    settings = Settings.from_env(
        {"SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": fake_slack.api_url}
    )
    try:
        yield Services(settings=settings, store=store, secrets=SecretBox([generate_key()]))
    finally:
        await store.close()


def delivery_for(services: Services, token: str | None = TOKEN) -> SlackDelivery:
    async def lookup(team_id: str) -> str | None:
        return token

    return SlackDelivery(services, lookup)


def channel(conversation: str = "C1") -> DeliveryTarget:
    return DeliveryTarget("slack", ORG, "channel", conversation_id=conversation)


async def test_send_update_and_thread(services: Services, fake_slack: FakeSlack) -> None:
    delivery = delivery_for(services)
    ref = await delivery.send(channel(), CARD)
    posted = fake_slack.messages("C1")
    assert len(posted) == 1 and posted[0]["ts"] == ref.message_id
    assert "Interview booked" in posted[0]["text"]
    assert fake_slack.last("chat.postMessage").bearer == TOKEN
    assert (ref.platform, ref.conversation_id, ref.thread_id) == ("slack", "C1", ref.message_id)

    await delivery.update(ref, Card(blocks=[Header("Interview moved")]))
    updated = fake_slack.updates("C1")
    assert updated[0]["ts"] == ref.message_id and "Interview moved" in updated[0]["text"]

    reply = await delivery.reply_in_thread(ref, Card(blocks=[Section("Moved to Wednesday")]))
    threaded = fake_slack.messages("C1")[-1]
    assert threaded["thread_ts"] == ref.message_id
    assert reply.thread_id == ref.message_id and reply.message_id == threaded["ts"]


async def test_dm_opens_the_conversation_once(services: Services, fake_slack: FakeSlack) -> None:
    delivery = delivery_for(services)
    target = DeliveryTarget("slack", ORG, "dm", user_id="U42")
    first = await delivery.send(target, CARD)
    await delivery.send(target, CARD)
    assert [r.args["users"] for r in fake_slack.calls("conversations.open")] == ["U42"]
    assert first.conversation_id == "D42"
    assert len(fake_slack.messages("D42")) == 2


@pytest.mark.parametrize(
    ("error", "advice"),
    [
        ("not_in_channel", "/invite @Slotbot"),
        ("channel_not_found", "/invite @Slotbot"),
        ("is_archived", "archived"),
        ("invalid_auth", "Reinstall"),
        ("account_inactive", "Reinstall"),
        ("token_revoked", "Reinstall"),
    ],
)
async def test_permanent_errors_say_what_to_do(
    services: Services, fake_slack: FakeSlack, error: str, advice: str
) -> None:
    fake_slack.fail_next("chat.postMessage", slack_error=error)
    with pytest.raises(DeliveryError) as caught:
        await delivery_for(services).send(channel(), CARD)
    assert caught.value.permanent
    assert caught.value.reason == error, "the reason is Slack's code, kept with the dead letter"
    assert advice in str(caught.value)
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize(
    ("error", "failure"),
    [
        ("not_in_channel", DeliveryFailure.NOT_MEMBER),
        # a private channel Slotbot was never invited to answers this too: invite it
        ("channel_not_found", DeliveryFailure.NOT_MEMBER),
        ("is_archived", DeliveryFailure.GONE),
        ("user_not_found", DeliveryFailure.GONE),
        ("token_revoked", DeliveryFailure.AUTH),
        ("missing_scope", DeliveryFailure.AUTH),
        ("msg_too_long", DeliveryFailure.REJECTED),
        ("internal_error", DeliveryFailure.TRANSIENT),  # any code not known to last
    ],
)
async def test_each_slack_error_is_the_failure_it_means(
    services: Services, fake_slack: FakeSlack, error: str, failure: DeliveryFailure
) -> None:
    fake_slack.fail_next("chat.postMessage", slack_error=error)
    with pytest.raises(DeliveryError) as caught:
        await delivery_for(services).send(channel(), CARD)
    assert caught.value.failure is failure
    assert caught.value.permanent == (failure is not DeliveryFailure.TRANSIENT)


async def test_an_update_of_a_message_slack_no_longer_has_is_gone(
    services: Services, fake_slack: FakeSlack
) -> None:
    delivery = delivery_for(services)
    ref = await delivery.send(channel(), CARD)
    for error in ("message_not_found", "cant_update_message"):
        fake_slack.fail_next("chat.update", slack_error=error)
        with pytest.raises(DeliveryError) as caught:
            await delivery.update(ref, CARD)
        assert caught.value.failure is DeliveryFailure.GONE, error


async def test_rate_limit_is_retried_by_the_client_after_retry_after(
    services: Services, fake_slack: FakeSlack
) -> None:
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=0)
    ref = await delivery_for(services).send(channel(), CARD)
    assert [r.status for r in fake_slack.calls("chat.postMessage")] == [429, 200]
    assert ref.message_id


async def test_persistent_rate_limit_becomes_retry_after(
    services: Services, fake_slack: FakeSlack
) -> None:
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=0, times=3)
    with pytest.raises(DeliveryError) as caught:
        await delivery_for(services).send(channel(), CARD)
    assert not caught.value.permanent
    assert caught.value.retry_after == 0
    assert caught.value.failure is DeliveryFailure.RATE_LIMITED
    assert len(fake_slack.calls("chat.postMessage")) == 3


async def test_server_error_and_dropped_connection_are_retryable(
    services: Services, fake_slack: FakeSlack
) -> None:
    fake_slack.fail_next("chat.postMessage", status=500)
    with pytest.raises(DeliveryError) as caught:
        await delivery_for(services).send(channel(), CARD)
    assert not caught.value.permanent and caught.value.retry_after is None
    fake_slack.reset_connection("chat.postMessage", times=3)
    with pytest.raises(DeliveryError) as dropped:
        await delivery_for(services).send(channel(), CARD)
    assert not dropped.value.permanent


async def test_no_token_and_uninstalled_org_are_permanent(
    services: Services, fake_slack: FakeSlack
) -> None:
    with pytest.raises(DeliveryError) as no_token:
        await delivery_for(services, token=None).send(channel(), CARD)
    assert no_token.value.permanent and "SLACK_BOT_TOKEN" in str(no_token.value)
    await services.store.put_org(Org(org_id=ORG, platform="slack", active=False))
    with pytest.raises(DeliveryError) as gone:
        await delivery_for(services).send(channel(), CARD)
    assert gone.value.permanent and "uninstalled" in gone.value.reason
    assert fake_slack.calls("chat.postMessage") == []


async def test_multi_workspace_uses_the_installed_token(
    services: Services, fake_slack: FakeSlack
) -> None:
    installations = StoreInstallationStore(services.store, services.secrets)
    await installations.async_save(
        Installation(
            app_id="A1",
            team_id="T9",
            user_id="U9",
            bot_token="xoxb-nine",
            bot_id="BBOT9",
            bot_user_id="UBOT9",
            bot_scopes="commands,chat:write",
        )
    )
    # the token is not stored in clear text
    stored = await services.store.kv_list("slack_bots")
    assert stored and "xoxb-nine" not in repr(stored)

    async def lookup(team_id: str) -> str | None:
        bot = await installations.async_find_bot(enterprise_id=None, team_id=team_id)
        return bot.bot_token if bot else None

    delivery = SlackDelivery(services, lookup)
    ref = await delivery.send(
        DeliveryTarget("slack", "slack:T9", "channel", conversation_id="C9"), CARD
    )
    assert fake_slack.last("chat.postMessage").bearer == "xoxb-nine"
    await delivery.update(ref, CARD)
    assert fake_slack.last("chat.update").bearer == "xoxb-nine"
    with pytest.raises(DeliveryError) as missing:
        await delivery.send(
            DeliveryTarget("slack", "slack:T404", "channel", conversation_id="C9"), CARD
        )
    assert missing.value.permanent


async def test_remembered_dm_channels_are_bounded_least_recently_used_first(
    services: Services, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery_module, "DM_CHANNEL_CACHE", 2)
    delivery = delivery_for(services)

    async def dm(user: str) -> None:
        await delivery.send(DeliveryTarget("slack", ORG, "dm", user_id=user), CARD)

    for user in ("U1", "U2", "U1", "U3"):  # U2 is the least recently used when U3 arrives
        await dm(user)
    await dm("U1")
    await dm("U2")
    opened = [r.args["users"] for r in fake_slack.calls("conversations.open")]
    assert opened == ["U1", "U2", "U3", "U2"]


# --- finding what a job already posted (bot.chat.FindsSentMessages) -----------------------


async def test_a_labelled_post_and_reply_are_found_again_by_their_label(
    services: Services, fake_slack: FakeSlack
) -> None:
    delivery = delivery_for(services)
    assert isinstance(delivery, FindsSentMessages)
    since = time.time()
    target = DeliveryTarget("slack", ORG, "dm", user_id="U42")
    assert await delivery.find_sent(target, "job-1/post", since=since) is None
    await delivery.send(target, CARD)  # an unlabelled message of someone else's job
    ref = await delivery.send_labelled(target, CARD, "job-1/post")
    other = await delivery.send_labelled(target, CARD, "job-2/post")
    assert await delivery.find_sent(target, "job-1/post", since=since) == ref
    assert await delivery.find_sent(target, "job-2/post", since=since) == other
    # the label travels as message metadata, and nothing about the candidate with it
    posted = fake_slack.messages("D42")[-1]
    assert posted["metadata"] == {
        "event_type": "slotbot_job",
        "event_payload": {"label": "job-2/post"},
    }
    reply = await delivery.reply_labelled(ref, CARD, "job-3/reply")
    assert await delivery.find_reply(ref, "job-3/reply", since=since) == reply
    assert await delivery.find_reply(ref, "job-1/post", since=since) is None  # the parent
    # a thread reply is not among the conversation's own messages
    assert await delivery.find_sent(target, "job-3/reply", since=since) is None
    history = fake_slack.last("conversations.history").args
    assert history["include_all_metadata"] in ("1", "true", True)
    assert int(history["limit"]) <= 200


@pytest.mark.parametrize("error", ["not_in_channel", "missing_scope", "channel_not_found"])
async def test_a_history_slack_will_not_show_is_logged_and_looked_past(
    services: Services,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    error: str,
) -> None:
    """The job is then posted again (at least once beats never)."""
    fake_slack.fail_next("conversations.history", slack_error=error)
    found = await delivery_for(services).find_sent(channel(), "job-1/post", since=time.time())
    assert found is None
    assert "cannot look for the message of job-1/post" in caplog.text and error in caplog.text


async def test_a_history_that_fails_for_now_is_tried_again_later(
    services: Services, fake_slack: FakeSlack
) -> None:
    """Not knowing yet is not a reason to post a second message: the job waits."""
    fake_slack.fail_next("conversations.history", status=429, retry_after=0, times=3)
    with pytest.raises(DeliveryError) as caught:
        await delivery_for(services).find_sent(channel(), "job-1/post", since=time.time())
    assert caught.value.failure is DeliveryFailure.RATE_LIMITED


async def _killed_after_the_post(worker: OutboxWorker) -> None:
    """Run one job the way a worker killed between Slack's answer and the store write that
    records it (its ack, or the sent marker of a kind that does more after) does: the
    message is posted, nothing after it happens."""

    async def killed(*_args: object) -> None:
        raise asyncio.CancelledError

    worker._mark_sent = killed  # type: ignore[method-assign]
    worker._ack = killed  # type: ignore[method-assign]
    with pytest.raises(asyncio.CancelledError):
        await worker.run_once()


@pytest.mark.parametrize("kind", ["channel", "dm"])
async def test_a_job_killed_between_its_post_and_its_record_is_posted_once(
    services: Services,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    kind: str,
) -> None:
    services.delivery["slack"] = delivery_for(services)
    target = (
        channel("C7") if kind == "channel" else DeliveryTarget("slack", ORG, "dm", user_id="U7")
    )
    await services.store.enqueue([notice_job(ORG, target, CARD, now=time.time())])
    visibility = 0.3
    await _killed_after_the_post(
        OutboxWorker(services, consumer="a", visibility_timeout=visibility)
    )
    assert len(fake_slack.messages()) == 1
    await asyncio.sleep(visibility + 0.1)  # the dead worker's claim (and lane lease) lapse
    caplog.set_level(logging.INFO)
    assert await OutboxWorker(services, consumer="b", visibility_timeout=visibility).run_once() == 1
    assert len(fake_slack.messages()) == 1, "the message the killed worker posted is used"
    assert await services.store.outbox_depth() == 0
    assert await services.store.list_dead_letters() == []
    assert "its message is already in" in caplog.text


def booking_facts(kind: str) -> AlertFacts:
    return AlertFacts(
        kind=kind,
        booking_id="bk-1",
        candidate_name="Ada Lovelace",
        start="2030-01-08T10:00:00Z",
        end="2030-01-08T11:00:00Z",
        zone="Europe/London",
    )


def alert_job(target: DeliveryTarget, kind: str, seq: int) -> Job:
    org = Org(org_id=ORG, platform="slack")
    return routed_alert(org, target, booking_facts(kind), seq=seq, now=time.time())


async def test_an_alert_killed_after_its_thread_reply_replies_once(
    services: Services, fake_slack: FakeSlack
) -> None:
    """A reschedule updates the booking's message and replies in its thread; killed after
    the reply, the retry updates again (the same change) and finds its reply."""
    services.delivery["slack"] = delivery_for(services)
    first = alert_job(channel("C8"), "booked", 1)
    await services.store.enqueue([first])
    assert await OutboxWorker(services, consumer="a").run_once() == 1
    moved = alert_job(channel("C8"), "rescheduled", 2)
    await services.store.enqueue([moved])
    visibility = 0.3
    await _killed_after_the_post(
        OutboxWorker(services, consumer="b", visibility_timeout=visibility)
    )
    await asyncio.sleep(visibility + 0.1)
    assert await OutboxWorker(services, consumer="c", visibility_timeout=visibility).run_once() == 1
    messages = fake_slack.messages("C8")
    assert len(messages) == 2, [m.get("thread_ts") for m in messages]  # the post, one reply
    assert messages[1]["thread_ts"] == messages[0]["ts"]
    assert await services.store.outbox_depth() == 0


async def test_a_channels_workspace_is_stored_once_and_found_again(
    services: Services, fake_slack: FakeSlack
) -> None:
    """Which workspace a channel is in is stored with its first post (for later updates in
    multi-workspace installs); further posts to it do not write it again."""
    delivery = delivery_for(services)
    writes: list[str] = []
    kv_put = services.store.kv_put

    async def counting_put(namespace: str, key: str, value: dict[str, object]) -> None:
        writes.append(f"{namespace}/{key}")
        await kv_put(namespace, key, value)

    services.store.kv_put = counting_put  # type: ignore[method-assign]
    first = await delivery.send(channel("C7"), CARD)
    await delivery.send(channel("C7"), CARD)
    await delivery.send(channel("C8"), CARD)
    assert writes == [f"{delivery_module.CHANNEL_TEAMS}/C7", f"{delivery_module.CHANNEL_TEAMS}/C8"]
    assert await services.store.kv_get(delivery_module.CHANNEL_TEAMS, "C7") == {"org_id": ORG}
    # another process (a fresh adapter) finds it in the store
    await delivery_for(services).update(first, Card(blocks=[Header("Interview moved")]))
    assert "Interview moved" in fake_slack.updates("C7")[0]["text"]
