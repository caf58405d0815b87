"""Delivery signatures (API facts §9) and the signing keys they are checked against.

ConnectWise signs each delivery with ``x-content-signature`` =
base64(HMAC-SHA256(SHA256(utf8(signing_key)), raw body)) and names where the key lives in
``Metadata.key_url``. That URL comes from the unverified body, so it is only followed when it
points at the configured ConnectWise host's callback-key page: anything else would let a
forged delivery make us request an address of its choosing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from urllib.parse import urlsplit

import requests

from connectwise.site import ConnectWiseSite

KEY_PATH = "/system/callbackkey/index.rails"
KEY_TTL_SECONDS = 3600.0
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


class SigningKeys:
    """Fetch signing keys from the configured host only, and cache them per key URL."""

    def __init__(self, ttl: float = KEY_TTL_SECONDS) -> None:
        self.ttl = ttl
        self._cache: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()
        self._session = requests.Session()

    def key_for(self, key_url: str, site: ConnectWiseSite, *, refresh: bool = False) -> str:
        """Return the signing key behind ``key_url`` (fetched at most once per TTL).

        Raises:
            KeyUrlRefused: ``key_url`` is not on the configured host.
            KeyUnavailable: ConnectWise did not hand out a key.
        """
        allowed_key_url(key_url, site)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(key_url)
        if cached and not refresh and now - cached[0] < self.ttl:
            return cached[1]
        key = self._fetch(key_url, site)
        with self._lock:
            self._cache[key_url] = (now, key)
        return key

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
        return key
