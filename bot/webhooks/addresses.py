"""Where a webhook may post: an https URL whose host resolves only to public addresses.

A URL given by an admin must never let Slotbot reach inside its own network (server-side
request forgery): the loopback interface, private and link-local ranges, carrier-grade NAT,
cloud metadata endpoints, multicast and reserved space. The check runs when the webhook is
added and again before each send (its DNS answer may have changed since), and the send
connects to the addresses checked, never to a second answer (see `bot.webhooks.client`).

`BOT_WEBHOOK_ALLOW_LOOPBACK=1` lets loopback through (tests, a receiver on the same host
on-premises); nothing else can be let through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from bot.errors import SlotbotError

# host, port -> the addresses it resolves to (text); raises OSError when it does not resolve
HostResolver = Callable[[str, int], Awaitable[list[str]]]

MAX_URL = 2000
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# the cloud providers' instance metadata endpoints (AWS, GCP, Azure; AWS over IPv6)
METADATA = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
# NAT64 (RFC 6052): an IPv4 address inside an IPv6 one
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class AddressRefused(SlotbotError):
    """The URL, or an address its host resolves to, is not one Slotbot posts to.

    `code` says why in a word (cards.webhooks words it for people); `address` is the
    address refused, when there is one."""

    def __init__(self, code: str, address: str = "") -> None:
        super().__init__(f"{code}: {address}" if address else code)
        self.code = code
        self.address = address


@dataclass(frozen=True)
class Destination:
    """A checked URL: its parts, and the port it connects to."""

    url: str
    host: str
    port: int


async def system_resolve(host: str, port: int) -> list[str]:
    """The operating system's answer for `host` (every address, IPv4 and IPv6)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = str(sockaddr[0]).split("%", 1)[0]  # an IPv6 zone is no part of the address
        if address not in seen:
            seen.append(address)
    return seen


def parse_url(url: str) -> Destination:
    """The URL's host and port, when it is one a webhook may have (https, a host, no
    credentials in it); AddressRefused otherwise."""
    if len(url) > MAX_URL or any(ch.isspace() for ch in url):
        raise AddressRefused("bad_url")
    try:
        parts: SplitResult = urlsplit(url)
        port = parts.port
    except ValueError:
        raise AddressRefused("bad_url") from None
    if parts.scheme.lower() != "https":
        raise AddressRefused("not_https")
    if parts.username is not None or parts.password is not None:
        raise AddressRefused("has_credentials")  # a secret in a URL ends up in lists and logs
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise AddressRefused("bad_url")
    try:
        # the name as DNS and the HTTP client know it (an international name in punycode)
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise AddressRefused("bad_url") from None
    return Destination(url=url, host=host, port=port or 443)


def refusal(address: str, *, allow_loopback: bool = False) -> str | None:
    """Why Slotbot may not connect to `address` (a code), or None when it may."""
    try:
        ip: IPAddress = ipaddress.ip_address(address)
    except ValueError:
        return "bad_address"
    if isinstance(ip, ipaddress.IPv6Address):
        # an IPv4 address carried inside an IPv6 one reaches that IPv4 address: judge it
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return refusal(str(embedded), allow_loopback=allow_loopback)
    if ip in METADATA:
        return "metadata"
    if ip.is_loopback:
        return None if allow_loopback else "loopback"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_link_local:
        return "link_local"
    if ip.is_multicast:
        return "multicast"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "shared"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private:  # the private ranges, and what the module counts with them
        return "private"
    if not ip.is_global:  # anything else set aside (documentation ranges, benchmarking, ...)
        return "reserved"
    return None


async def checked_addresses(
    resolve: HostResolver, destination: Destination, *, allow_loopback: bool
) -> list[str]:
    """Every address the URL's host resolves to, when all of them may be connected to.

    One refused address refuses the URL: a host that answers with a public and a private
    address would otherwise reach the private one whenever the public one fails."""
    host = destination.host
    literal = _literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = await resolve(host, destination.port)
        except (OSError, UnicodeError):
            raise AddressRefused("unresolvable") from None
        if not addresses:
            raise AddressRefused("unresolvable")
    for address in addresses:
        code = refusal(address, allow_loopback=allow_loopback)
        if code is not None:
            raise AddressRefused(code, address)
    return addresses


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None
