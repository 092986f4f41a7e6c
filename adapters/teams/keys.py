"""The Bot Framework's token signing keys, fetched so that checking a token never blocks Slotbot.

botbuilder fetches the OpenID metadata, and the key set it points to, with `requests.get` and no
timeout, from whatever thread checks the token; a key endpoint that accepts and never answers
held that thread for good. Slotbot fetches the keys itself instead:

- on a thread of its own (`SigningKeys` has a one-thread executor), never the event loop's
  default executor that DNS lookups and Cronofy calls share;
- one fetch at a time: checks that need keys while a fetch is under way wait for that fetch;
- each request with a timeout, and every wait for a fetch bounded by `timeout`;
- a fetch that failed is remembered for `failure_memory` seconds: meanwhile a check that needs
  keys Slotbot does not hold is answered "cannot verify right now" (503) at once, without
  asking the key endpoint again; keys already held keep being used;
- keys are kept for a day (as botbuilder keeps them); a token naming a key Slotbot does not
  hold (keys rotate) fetches them again, at most once every `refetch_unknown` seconds.

botbuilder still checks the token itself (signature, issuer, audience, lifetimes, service
URL). It finds keys through its per-URL metadata cache, where `install` puts a stand-in: during
a check run inside `keys_for_check`, botbuilder gets exactly the key Slotbot fetched and
vetted, and never goes to the network; outside one, the stand-in defers to botbuilder's own.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import jwt
import requests
from botframework.connector.auth import JwtTokenExtractor
from jwt.algorithms import RSAAlgorithm

KEY_FETCH_TIMEOUT = 4.0  # seconds a check waits for keys before answering 503
REQUEST_TIMEOUT = (3.05, 4.0)  # connect, read: each request of a fetch
FAILURE_MEMORY = 30.0  # seconds a failed fetch is not tried again
KEY_LIFETIME = 24 * 3600.0
REFETCH_UNKNOWN = 300.0
MAX_KEYS = 100

Clock = Callable[[], float]


class KeysUnavailable(Exception):
    """No key to check the token with could be had right now; the reason is safe to log."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    public_key: Any
    endorsements: frozenset[str]


def fetch_keys(metadata_url: str, timeout: tuple[float, float]) -> dict[str, SigningKey]:
    """The OpenID metadata at `metadata_url`, then the keys its `jwks_uri` lists (blocking).

    Raises:
        KeysUnavailable: an endpoint failed, or answered something that is not a key set.
    """
    try:
        meta = requests.get(metadata_url, timeout=timeout)
        meta.raise_for_status()
        jwks_uri = meta.json().get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
            raise KeysUnavailable("the OpenID metadata names no jwks_uri")
        answer = requests.get(jwks_uri, timeout=timeout)
        answer.raise_for_status()
        listed = answer.json().get("keys")
    except requests.Timeout:
        raise KeysUnavailable("the key endpoint did not answer in time") from None
    except requests.RequestException as exc:
        raise KeysUnavailable(f"the key endpoint failed ({type(exc).__name__})") from None
    except (ValueError, AttributeError):
        raise KeysUnavailable("the key endpoint answered something other than JSON") from None
    if not isinstance(listed, list):
        raise KeysUnavailable("the key set lists no keys")
    keys: dict[str, SigningKey] = {}
    for jwk in listed[:MAX_KEYS]:
        if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str):
            continue
        try:
            public_key = RSAAlgorithm.from_jwk(json.dumps(jwk))
        except (jwt.PyJWTError, ValueError, KeyError, TypeError):
            continue  # not an RSA key we can use: skipped
        endorsements = jwk.get("endorsements")
        endorsed = frozenset(e for e in endorsements or [] if isinstance(e, str))
        keys[jwk["kid"]] = SigningKey(jwk["kid"], public_key, endorsed)
    if not keys:
        raise KeysUnavailable("the key set holds no usable key")
    return keys


Fetch = Callable[[str, tuple[float, float]], dict[str, SigningKey]]


class SigningKeys:
    """The keys of one OpenID metadata URL, fetched as the module docstring says."""

    def __init__(
        self,
        metadata_url: str,
        *,
        timeout: float = KEY_FETCH_TIMEOUT,
        request_timeout: tuple[float, float] = REQUEST_TIMEOUT,
        failure_memory: float = FAILURE_MEMORY,
        refetch_unknown: float = REFETCH_UNKNOWN,
        clock: Clock = time.monotonic,
        fetch: Fetch = fetch_keys,
    ) -> None:
        self.metadata_url = metadata_url
        self.timeout = timeout
        self.request_timeout = request_timeout
        self.failure_memory = failure_memory
        self.refetch_unknown = refetch_unknown
        self.clock = clock
        self._fetch = fetch
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="teams-keys")
        self._lock = threading.Lock()
        self._keys: dict[str, SigningKey] = {}
        self._fetched_at: float | None = None
        self._failed_at: float | None = None
        self._failure = ""
        self._inflight: Future[None] | None = None

    async def key(self, kid: str) -> SigningKey | None:
        """The key named `kid`, or None when the key endpoint does not list it.

        Raises:
            KeysUnavailable: Slotbot holds no such key and cannot fetch the keys right now.
        """
        now = self.clock()
        with self._lock:
            key = self._keys.get(kid)
            fetched_at, failed_at = self._fetched_at, self._failed_at
        fresh = fetched_at is not None and now - fetched_at < KEY_LIFETIME
        if key is not None and fresh:
            return key
        if key is None and fresh and now - (fetched_at or now) < self.refetch_unknown:
            return None  # fetched a moment ago: an unknown key is not worth asking again
        if failed_at is not None and now - failed_at < self.failure_memory:
            if key is not None:
                return key  # stale but still listed last time: better than nothing
            raise KeysUnavailable(f"{self._failure}; not asked again for a while")
        try:
            await self._refresh()
        except KeysUnavailable:
            if key is not None:
                return key
            raise
        with self._lock:
            return self._keys.get(kid)

    async def _refresh(self) -> None:
        with self._lock:
            if self._inflight is None or self._inflight.done():
                self._inflight = self._executor.submit(self._fetch_now)
            inflight = self._inflight
        try:
            await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(inflight)), self.timeout)
        except TimeoutError:
            self._failed("the key endpoint did not answer in time")
            raise KeysUnavailable(self._failure) from None

    def _fetch_now(self) -> None:
        """On the executor's thread: fetch, and keep what came back (or the failure)."""
        try:
            keys = self._fetch(self.metadata_url, self.request_timeout)
        except KeysUnavailable as exc:
            self._failed(str(exc))
            raise
        except Exception as exc:
            self._failed(f"fetching the keys failed ({type(exc).__name__})")
            raise KeysUnavailable(self._failure) from None
        with self._lock:
            self._keys = keys
            self._fetched_at = self.clock()
            self._failed_at = None
            self._failure = ""

    def _failed(self, reason: str) -> None:
        with self._lock:
            self._failed_at = self.clock()
            self._failure = reason

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


# botbuilder's side ------------------------------------------------------------------------

_CHECKING: ContextVar[Mapping[str, SigningKey] | None] = ContextVar(
    "teams_keys_for_check", default=None
)


@contextmanager
def keys_for_check(keys: Mapping[str, SigningKey]) -> Iterator[None]:
    """Within this block, botbuilder's token checks see these keys and no others."""
    token = _CHECKING.set(keys)
    try:
        yield
    finally:
        _CHECKING.reset(token)


@dataclass(frozen=True)
class _KeyConfig:
    """What botbuilder reads of a key (the shape of its `_OpenIdConfig`)."""

    public_key: Any
    endorsements: list[str]


class _StandIn:
    """In botbuilder's metadata cache in place of its fetcher for one URL (see module doc)."""

    def __init__(self, own: Any) -> None:
        self.own = own

    async def get(self, key_id: str) -> Any:
        keys = _CHECKING.get()
        if keys is None:
            return await self.own.get(key_id)
        key = keys.get(key_id)
        if key is None:
            raise LookupError("no such signing key")
        return _KeyConfig(key.public_key, sorted(key.endorsements))


def install(urls: Iterable[str]) -> None:
    """Put the stand-in in botbuilder's metadata cache for each of these URLs."""
    cache: dict[str, Any] = JwtTokenExtractor.metadataCache
    for url in urls:
        if url and not isinstance(cache.get(url), _StandIn):
            cache[url] = _StandIn(JwtTokenExtractor.get_open_id_metadata(url))
