"""A real HTTPS webhook receiver on 127.0.0.1, with a self-signed certificate made for the
test, and a DNS that answers what the test says (handed to Slotbot as
`Services.resolve_host`, never patched into a library).

The receiver records every request (headers and raw body) and answers with the statuses it
is told to, in turn (200 once they run out).
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import hmac
import ipaddress
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOST = "hooks.receiver.test"  # the name the webhook URLs use; FakeDNS answers for it


def make_certificate(directory: Path, host: str = HOST) -> tuple[Path, Path]:
    """A self-signed certificate for `host` (and 127.0.0.1), and its key: (cert, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(host), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "receiver.pem", directory / "receiver.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered
    path: str = ""


@dataclass
class Receiver:
    port: int
    ca_bundle: Path
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answered in turn; then 200
    down: set[str] = field(default_factory=set)  # paths that answer 503, always

    def url(self, path: str = "/hooks/slotbot", host: str = HOST) -> str:
        return f"https://{host}:{self.port}{path}"

    @property
    def accepted(self) -> list[Received]:
        return [r for r in self.requests if 200 <= r.status < 300]

    async def wait_accepted(self, count: int, timeout: float = 15.0) -> list[Received]:
        async def until() -> None:
            while len(self.accepted) < count:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(until(), timeout)
        return self.accepted


@asynccontextmanager
async def receiver(directory: Path) -> AsyncIterator[Receiver]:
    cert, key = make_certificate(directory)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    state = Receiver(port=0, ca_bundle=cert)

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        if request.path in state.down:
            status = 503
        else:
            status = state.statuses.pop(0) if state.statuses else 200
        state.requests.append(Received(dict(request.headers), body, status, request.path))
        return web.Response(status=status, text="ok" if status < 300 else "no")

    app = web.Application()
    app.router.add_post("/{tail:.*}", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    state.port = runner.addresses[0][1]
    try:
        yield state
    finally:
        await runner.cleanup()


class FakeDNS:
    """`Services.resolve_host` with the answers a test sets; every question is counted."""

    def __init__(self, answers: dict[str, list[str]] | None = None) -> None:
        self.answers = dict(answers or {HOST: ["127.0.0.1"]})
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        if host not in self.answers:
            raise OSError(f"NXDOMAIN {host}")
        return list(self.answers[host])


def expected_signature(secret: str, header: str, body: bytes) -> tuple[str, str]:
    """(the v1 the header carries, the v1 computed here with hmac, independently)."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    signed = fields["t"].encode() + b"." + body
    return fields["v1"], hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
