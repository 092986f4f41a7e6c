"""Signed outbound webhooks (`/cronofy webhook ...`): every word an admin reads about them.

The signing secret is shown once, in the private answer to `webhook add`; no other card
carries it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cards._text import one_line, truncate
from cards.errors import error, notice
from cards.model import Card, Fact, Facts, Footer, Header, Section, Strong

MAX_SHOWN_URL = 200
SIGNATURE_HINT = (
    "Each request carries Slotbot-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "
    '"t.body" keyed with this secret>. Check it, and that t is recent, before trusting a request.'
)

# why a URL is refused, by the code bot.webhooks.addresses gives
_URL_REFUSALS = {
    "bad_url": "That is not a URL Slotbot can use.",
    "not_https": "Webhooks must use https:// (their events hold candidate data).",
    "has_credentials": "Leave the user name and password out of the URL; the signature "
    "tells your receiver the request is Slotbot's.",
    "unresolvable": "That host name does not resolve.",
}
# ... and why an address the host resolves to is refused: "Its address, <a>, <why>."
_ADDRESS_REFUSALS = {
    "loopback": "is this machine itself (loopback)",
    "private": "is on a private network",
    "link_local": "is link-local",
    "shared": "is in the carrier-grade NAT range (100.64.0.0/10)",
    "metadata": "is a cloud metadata endpoint",
    "multicast": "is multicast",
    "unspecified": "is unspecified (0.0.0.0 or ::)",
    "reserved": "is reserved, not a public one",
    "bad_address": "is not one Slotbot understands",
}
_REFUSED_RESULT = "webhook_address_refused:"


def why_refused(code: str, address: str = "") -> str:
    if code in _ADDRESS_REFUSALS:
        return f"Its address{f', {address},' if address else ''} {_ADDRESS_REFUSALS[code]}."
    return _URL_REFUSALS.get(code, _URL_REFUSALS["bad_url"])


@dataclass(frozen=True)
class WebhookView:
    url: str
    added_at: float
    added_by: str
    last_result: str | None  # "200", "webhook_http_500", ... None: nothing sent yet
    last_at: float | None


def _url(url: str) -> str:
    return truncate(one_line(url), MAX_SHOWN_URL)


def _date(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")


def refused(code: str, url: str, address: str = "") -> Card:
    """`webhook add` refused: what is wrong with the URL, and what Slotbot posts to."""
    return error(
        f"{why_refused(code, address)} Slotbot only posts to https URLs whose host resolves "
        f"to public addresses. Not added: {_url(url)}",
        title="Webhook not added",
    )


def added(url: str, secret: str) -> Card:
    return Card(
        blocks=[
            Header("Webhook added"),
            Section(
                f"From now on each booking, reschedule, cancellation, decline, note and erasure "
                f"is sent to {_url(url)}."
            ),
            Facts([Fact("Signing secret", Strong(secret))]),
            Section(SIGNATURE_HINT),
            Footer(
                "This is the only time the secret is shown: keep it in your receiver's "
                "configuration. To change it, remove the webhook and add it again."
            ),
        ],
        fallback=f"Webhook added: {_url(url)}",
    )


def already_added(url: str) -> Card:
    return notice("Already added", f"{_url(url)} already gets Slotbot's events.")


def too_many(limit: int) -> Card:
    return error(f"An org can have at most {limit} webhooks; remove one first.")


def not_found(url: str) -> Card:
    return error(
        f"No webhook has the URL {_url(url)}. /cronofy webhook list shows them.",
        title="No such webhook",
    )


def removed(url: str) -> Card:
    return notice("Webhook removed", f"{_url(url)} gets no more events.")


def test_queued(url: str) -> Card:
    return notice(
        "Test event queued",
        f"A ping event is on its way to {_url(url)}. /cronofy webhook list shows its answer.",
    )


def result_text(result: str | None) -> str:
    if result is None:
        return "nothing sent yet"
    if result.isdigit():
        return f"answered {result}"
    if result.startswith("webhook_http_"):
        return f"answered {result.removeprefix('webhook_http_')}"
    if result.startswith(_REFUSED_RESULT):
        code = result.removeprefix(_REFUSED_RESULT)
        why = _ADDRESS_REFUSALS.get(code, _ADDRESS_REFUSALS["bad_address"])
        return f"not sent: its address {why}"
    return result.removeprefix("webhook_").replace("_", " ")


def webhook_list(hooks: Sequence[WebhookView]) -> Card:
    if not hooks:
        return notice(
            "Webhooks",
            "None yet. /cronofy webhook add <https-url> sends every booking event to your URL.",
        )
    lines = [
        Section(
            [
                Strong(_url(hook.url)),
                f": added {_date(hook.added_at)}; last: {result_text(hook.last_result)}"
                + (f" ({_date(hook.last_at)})" if hook.last_at is not None else ""),
            ]
        )
        for hook in hooks
    ]
    return Card(
        blocks=[Header("Webhooks"), *lines],
        fallback=f"Webhooks: {len(hooks)}",
    )
