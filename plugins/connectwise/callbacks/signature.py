"""Delivery signatures (API facts §9) and the signing keys they are checked against.

ConnectWise signs each delivery with ``x-content-signature`` =
base64(HMAC-SHA256(SHA256(utf8(signing_key)), raw body)) and names where the key lives in
``Metadata.key_url``. That URL comes from the unverified body, so it is only followed when it
points at the configured ConnectWise host's callback-key page: anything else would let a
forged delivery make us request an address of its choosing.

Keys are cached by key id (the URL's ``id`` parameter), not by URL, so variants of one URL are
one entry. Anyone holding the path token can send deliveries with bad signatures or made-up
ids, so a key is fetched again at most once per ``refetch_interval``, the cache is a bounded
LRU, and all fetches together stay within ``max_fetches`` per interval.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import requests

from connectwise.client.site import ConnectWiseSite, register_secret

KEY_PATH = "/system/callbackkey/index.rails"
KEY_TTL_SECONDS = 3600.0
REFETCH_SECONDS = 60.0
MAX_CACHED_KEYS = 16  # one live key per tenant, a few rotated ones
MAX_FETCHES_PER_INTERVAL = 10
MAX_TRACKED_IDS = 256
KEY_FETCH_TIMEOUT = (2.0, 3.0)  # ConnectWise gives a delivery 5 s in all


class KeyUrlRefused(Exception):
    """The delivery names a key URL outside the configured ConnectWise host."""


class KeyUnavailable(Exception):
    """The signing key could not be fetched from ConnectWise."""


def sign(body: bytes, signing_key: str) -> str:
    """Return the signature ConnectWise puts in ``x-content-signature`` for ``body``."""
    key = hashlib.sha256(signing_key.encode()).digest()
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()


def signature_matches(body: bytes, signature: str, signing_key: str) -> bool:
    """Compare in constant time."""
    return hmac.compare_digest(sign(body, signing_key).encode(), signature.strip().encode())


def allowed_key_url(key_url: str, site: ConnectWiseSite) -> str:
    """Return ``key_url`` if it is the callback-key page of the configured host.

    Both the site's UI host and its API host are accepted (ConnectWise Cloud names the UI
    host in ``FromUrl`` and key URLs); the scheme must be the connection's.

    Raises:
        KeyUrlRefused: another host, scheme, port or path.
    """
    parts = urlsplit(key_url)
    hosts = {site.site.lower(), site.api_host.lower()}
    if parts.scheme != site.scheme or parts.netloc.lower() not in hosts:
        raise KeyUrlRefused(
            f"key_url host {parts.netloc or '(none)'!r} is not the configured ConnectWise host"
        )
    if not parts.path.replace("//", "/").endswith(KEY_PATH) or parts.username or parts.password:
        raise KeyUrlRefused("key_url is not ConnectWise's callback-key page")
    return key_url


def key_id(key_url: str) -> str:
    """Return the id of the key ``key_url`` names (its one ``id`` query parameter).

    ConnectWise's key URLs differ in codebase, slashes and other parameters
    (``.../v2025_1//system/callbackkey/index.rails?companyName=…&id=…``, API facts §9); the
    id is what identifies the key.

    Raises:
        KeyUrlRefused: no ``id``, or more than one.
    """
    ids = parse_qs(urlsplit(key_url).query).get("id", [])
    if len(ids) != 1 or not ids[0].strip():
        raise KeyUrlRefused("key_url does not name exactly one key id")
    return ids[0].strip().lower()


class SigningKeys:
    """Fetch signing keys from the configured host only; cache them by key id.

    Thread-safe. ``clock`` is injectable so tests move time instead of sleeping.
    """

    def __init__(
        self,
        ttl: float = KEY_TTL_SECONDS,
        *,
        refetch_interval: float = REFETCH_SECONDS,
        max_keys: int = MAX_CACHED_KEYS,
        max_fetches: int = MAX_FETCHES_PER_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.refetch_interval = refetch_interval
        self.max_keys = max_keys
        self.max_fetches = max_fetches
        self._clock = clock
        self._keys: OrderedDict[str, tuple[float, str]] = OrderedDict()  # LRU: id → (at, key)
        self._asked: OrderedDict[str, float] = OrderedDict()  # id → last fetch attempt
        self._recent: deque[float] = deque()  # fetch attempts within the last interval
        self._lock = threading.Lock()  # guards the three above
        self._fetching = threading.Lock()  # one fetch at a time: concurrent misses wait
        self._session = requests.Session()

    def __len__(self) -> int:
        """Return the number of cached keys."""
        return len(self._keys)

    def key_for(self, key_url: str, site: ConnectWiseSite, *, refresh: bool = False) -> str:
        """Return the signing key behind ``key_url``.

        A cached key is returned until its TTL runs out. With ``refresh`` (the signature did
        not match: maybe a rotated key) it is fetched again, unless it was fetched within
        ``refetch_interval``; then the cached key is returned as it is.

        Raises:
            KeyUrlRefused: ``key_url`` is not on the configured host or names no key id.
            KeyUnavailable: ConnectWise did not hand out a key, or fetching is throttled.
        """
        allowed_key_url(key_url, site)
        kid = key_id(key_url)
        if not refresh and (key := self._fresh(kid)):
            return key
        with self._fetching:
            if not refresh and (key := self._fresh(kid)):
                return key  # another thread fetched it meanwhile
            if key := self._claim_fetch(kid):
                return key
            key = self._fetch(key_url, site)
            with self._lock:
                self._keys[kid] = (self._clock(), key)
                self._keys.move_to_end(kid)
                while len(self._keys) > self.max_keys:
                    self._keys.popitem(last=False)
            return key

    def _fresh(self, kid: str) -> str | None:
        with self._lock:
            cached = self._keys.get(kid)
            if cached is None or self._clock() - cached[0] >= self.ttl:
                return None
            self._keys.move_to_end(kid)
            return cached[1]

    def _claim_fetch(self, kid: str) -> str | None:
        """Record a fetch of ``kid``, or return the cached key if it was fetched just now.

        Raises:
            KeyUnavailable: fetched just now without success, or the fetch budget is spent.
        """
        with self._lock:
            now = self._clock()
            asked = self._asked.get(kid)
            if asked is not None and now - asked < self.refetch_interval:
                cached = self._keys.get(kid)
                if cached is not None:
                    return cached[1]
                raise KeyUnavailable("signing key request failed moments ago; not asking again")
            while self._recent and now - self._recent[0] >= self.refetch_interval:
                self._recent.popleft()
            if len(self._recent) >= self.max_fetches:
                raise KeyUnavailable("too many signing key requests; not asking now")
            self._recent.append(now)
            self._asked[kid] = now
            self._asked.move_to_end(kid)
            while len(self._asked) > MAX_TRACKED_IDS:
                self._asked.popitem(last=False)
            return None

    def _fetch(self, key_url: str, site: ConnectWiseSite) -> str:
        try:
            response = self._session.get(
                key_url,
                headers={"clientId": site.client_id, "Accept": "application/json"},
                timeout=KEY_FETCH_TIMEOUT,
                verify=site.verify_ssl,
                allow_redirects=False,
            )
            key = response.json().get("signing_key") if response.ok else None
        except (requests.RequestException, ValueError, AttributeError) as exc:
            raise KeyUnavailable(f"signing key request failed: {type(exc).__name__}") from None
        if not isinstance(key, str) or not key:
            raise KeyUnavailable(f"signing key request answered HTTP {response.status_code}")
        register_secret(key)  # derived from the tenant's secrets: never in a log
        return key
