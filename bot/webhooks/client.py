"""One webhook POST: the URL checked again, then sent to the addresses just checked.

The host is resolved through `Services.resolve_host` and every address checked
(`bot.webhooks.addresses`) right before the send; the connection then uses those addresses
through a resolver that knows no others, so a DNS answer that changes between the check and
the connect (DNS rebinding) cannot send Slotbot elsewhere. Redirects are not followed (a
redirect is a new destination nobody checked). TLS is always verified, the hostname
included, against the system's authorities or `BOT_WEBHOOK_CA_BUNDLE`.

The receiver's answer, in the outbox worker's terms (`bot.chat.DeliveryFailure`):
2xx done; 429 rate limited (its Retry-After honoured); 408, 5xx, timeouts and connection
errors transient (tried again with backoff); any other answer, and an address refused,
rejected (dead-lettered at once; `python -m bot deadletters replay` sends it again).
"""

from __future__ import annotations

import socket
from collections.abc import Mapping

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.chat import DeliveryFailure
from bot.errors import DeliveryError
from bot.webhooks.addresses import AddressRefused, HostResolver, checked_addresses, parse_url
from bot.webhooks.settings import WebhookSettings

# a receiver's Retry-After is honoured up to this long
MAX_RETRY_AFTER = 3600.0


class _PinnedResolver(AbstractResolver):
    """Answers for one host with the addresses already checked, and for no other host."""

    def __init__(self, host: str, port: int, addresses: list[str]) -> None:
        self._host = host
        self._port = port
        self._addresses = addresses

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host.rstrip(".").lower() != self._host.lower():
            raise OSError(f"no checked address for {host}")
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port or self._port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in self._addresses
        ]

    async def close(self) -> None:
        return None


def refused(exc: AddressRefused) -> DeliveryError:
    """An address check that failed, as the worker acts on it: a name that does not resolve
    may resolve later; an address Slotbot may not reach is final."""
    if exc.code == "unresolvable":
        return DeliveryError("the webhook's host does not resolve", reason="webhook_unresolvable")
    return DeliveryError(
        f"refused to send: the webhook's host resolves to {exc.address or 'an address'} "
        f"({exc.code.replace('_', ' ')}), which Slotbot does not post to",
        failure=DeliveryFailure.REJECTED,
        reason=f"webhook_address_refused:{exc.code}",
    )


async def post(
    resolve: HostResolver,
    settings: WebhookSettings,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
) -> int:
    """POST `body` to `url`; the status of a 2xx answer, else DeliveryError."""
    try:
        destination = parse_url(url)
        addresses = await checked_addresses(
            resolve, destination, allow_loopback=settings.allow_loopback
        )
    except AddressRefused as exc:
        raise refused(exc) from None
    connector = aiohttp.TCPConnector(
        resolver=_PinnedResolver(destination.host, destination.port, addresses),
        use_dns_cache=False,
        ssl=settings.ssl_context(),
        force_close=True,
    )
    timeout = aiohttp.ClientTimeout(total=settings.timeout)
    try:
        async with (
            aiohttp.ClientSession(connector=connector, timeout=timeout) as session,
            session.post(url, data=body, headers=dict(headers), allow_redirects=False) as answer,
        ):
            status = answer.status
            retry_after = answer.headers.get("Retry-After")
    except TimeoutError:
        raise DeliveryError(
            "the webhook did not answer in time", reason="webhook_timeout"
        ) from None
    except aiohttp.ClientError as exc:
        raise DeliveryError(
            f"the webhook could not be reached: {type(exc).__name__}",
            reason="webhook_unreachable",
        ) from None
    return _judge(status, retry_after)


def _judge(status: int, retry_after: str | None) -> int:
    if 200 <= status < 300:
        return status
    if status == 429:
        raise DeliveryError(
            "the webhook asked Slotbot to slow down",
            failure=DeliveryFailure.RATE_LIMITED,
            retry_after=_seconds(retry_after),
            reason="webhook_http_429",
        )
    if status == 408 or status >= 500:
        raise DeliveryError(f"the webhook answered {status}", reason=f"webhook_http_{status}")
    raise DeliveryError(
        f"the webhook answered {status}; fix the receiver, then replay the dead letter",
        failure=DeliveryFailure.REJECTED,
        reason=f"webhook_http_{status}",
    )


def _seconds(value: str | None) -> float | None:
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date: the backoff decides
    if seconds is None or seconds < 0:
        return None
    return min(seconds, MAX_RETRY_AFTER)
