"""Codebase discovery: which release path (``v2025_1/``) a tenant's API lives under.

ConnectWise answers ``/login/companyinfo/{company}`` without authentication; cloud upgrades
move the codebase, so the hook looks it up again when a path it used vanishes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import requests

from connectwise.client.bodies import json_or_none
from connectwise.errors import ConnectWiseConnectionError

if TYPE_CHECKING:
    from connectwise.client.site import ConnectWiseSite

DEFAULT_CODEBASE = "v4_6_release/"  # what an on-premise server without the field runs


def lookup_codebase(session: requests.Session, site: ConnectWiseSite) -> str:
    """Return the tenant's codebase, ending in ``/``, from its company info.

    Raises:
        ConnectWiseConnectionError: the host is unreachable, the company id is unknown, or the
            answer is not a ConnectWise company lookup.
    """
    url = f"{site.scheme}://{site.site}/login/companyinfo/{site.company_id}"
    try:
        response = session.get(url, timeout=(site.connect_timeout, site.read_timeout), auth=None)
    except requests.RequestException as exc:
        raise ConnectWiseConnectionError(
            f"Cannot reach ConnectWise at {site.scheme}://{site.site} "
            f"({type(exc).__name__}). Check the site hostname and the network; for a "
            "plain-HTTP on-premise or test server set extra 'scheme': 'http'."
        ) from None
    info = json_or_none(response)
    if response.status_code == 404 or info is None:
        raise ConnectWiseConnectionError(
            f"ConnectWise at {site.site} does not know company id {site.company_id!r} "
            "(company info lookup returned nothing). Use the company identifier you "
            "log in with, and check the site hostname."
        )
    codebase = str(info.get("Codebase") or DEFAULT_CODEBASE) if isinstance(info, dict) else ""
    if not codebase:
        raise ConnectWiseConnectionError(
            f"ConnectWise at {site.site} answered the company lookup with an unexpected "
            "body; is this a ConnectWise PSA site?"
        )
    return codebase.strip("/") + "/"
