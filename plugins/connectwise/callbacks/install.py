"""Keep our callback entries in ConnectWise (``system/callbacks``) as they should be.

One owner-level entry per synced entity that has a callback type, pointing at
``{callback_url}/callbacks/{token}?recordId=``. Ours are recognised by their description
(``connectwise-etl <type>``), never by URL, so a changed ``callback_url`` or token is fixed in
place and entries made by anyone else are never touched. Rerunning changes nothing that is
already right; an entry ConnectWise disabled after days of failed deliveries is reported and
re-activated. A lost response to a create cannot duplicate: the rerun finds the entry by its
description.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from connectwise import endpoints
from connectwise.errors import CallbacksNotConfiguredError
from connectwise.staging.reports import EntryChange, record_callback_entries

if TYPE_CHECKING:
    from connectwise.client.site import ConnectWiseSite
    from connectwise.jobs import Job

log = logging.getLogger(__name__)
MARKER = "connectwise-etl"
LEVEL = "owner"
OWNER_OBJECT_ID = 1
_TOKEN_IN_PATH = re.compile(r"/callbacks/[^/?#]+")  # facts §9: objectId is 1 at owner level


def callback_token(site: ConnectWiseSite, tenant: str | None = None) -> str:
    """Return the secret path token, derived from the private key (so nothing stores it).

    Unguessable without the key, identical for the installer and the receiver, and it changes
    when the keys are rotated (the next install then updates every URL). A configured
    tenant's id is part of it, so the receiver tells tenants apart by their path alone.
    """
    message = f"{MARKER} callbacks {site.company_id}" + (f" {tenant}" if tenant else "")
    digest = hmac.new(site.private_key.encode(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:32]


def receiver_url(site: ConnectWiseSite, tenant: str | None = None) -> str:
    """Where ConnectWise should deliver (ConnectWise appends the record id).

    Raises:
        CallbacksNotConfiguredError: the connection has no ``callback_url``.
    """
    if not site.callback_url:
        raise CallbacksNotConfiguredError(
            "Callbacks are off: the ConnectWise connection has no extra 'callback_url' (the "
            "public address of the receiver, e.g. https://airflow.example.com/connectwise). "
            "The scheduled incremental sync keeps staging current without them."
        )
    return f"{site.callback_url}/callbacks/{callback_token(site, tenant)}?recordId="


def mask(url: str, site: ConnectWiseSite) -> str:
    """Return the URL with the secret token (any tenant's, an old one too) replaced."""
    return _TOKEN_IN_PATH.sub("/callbacks/***", url.replace(callback_token(site), "***"))


def install(job: Job, run_id: str) -> list[dict[str, Any]]:
    """Create, fix or re-activate our entries; remove ours for types no longer synced."""
    site = job.hook.site
    url = receiver_url(site, job.tenant.id)
    wanted = sorted(
        {
            entity.callback_type
            for entity in job.registry.entities.values()
            if entity.callback_type and job.mapping.syncs(entity)
        }
    )
    ours = _our_entries(job)
    changes: list[EntryChange] = []
    for callback_type in wanted:
        mine = ours.pop(callback_type, [])
        keep, extras = (mine[0], mine[1:]) if mine else (None, [])
        changes.append(
            _fix(job, keep, url, site) if keep else _create(job, callback_type, url, site)
        )
        changes.extend(_remove(job, entry, site) for entry in extras)
    for entries in ours.values():
        changes.extend(_remove(job, entry, site) for entry in entries)
    record_callback_entries(job.engine, run_id, changes, LEVEL)
    return [asdict(change) for change in changes]


def uninstall(job: Job, run_id: str) -> list[dict[str, Any]]:
    """Delete every entry this project created (recognised by description), and only those."""
    site = job.hook.site
    changes = [
        _remove(job, entry, site) for entries in _our_entries(job).values() for entry in entries
    ]
    record_callback_entries(job.engine, run_id, changes, LEVEL)
    return [asdict(change) for change in changes]


def _description(callback_type: str) -> str:
    return f"{MARKER} {callback_type}"


def _our_entries(job: Job) -> dict[str, list[dict[str, Any]]]:
    ours: dict[str, list[dict[str, Any]]] = {}
    for page in job.hook.paginate(endpoints.CALLBACKS, conditions=f'description like "{MARKER} %"'):
        for entry in page:
            description = str(entry.get("description") or "")
            if description.startswith(f"{MARKER} "):
                ours.setdefault(str(entry.get("type", "")).lower(), []).append(entry)
    return ours


def _create(job: Job, callback_type: str, url: str, site: ConnectWiseSite) -> EntryChange:
    created = job.hook.post(
        endpoints.CALLBACKS,
        {
            "url": url,
            "objectId": OWNER_OBJECT_ID,
            "type": callback_type,
            "level": LEVEL,
            "description": _description(callback_type),
            "inactiveFlag": False,
        },
    )
    log.info("Created the %s callback (id %s) -> %s", callback_type, created["id"], mask(url, site))
    return EntryChange(int(created["id"]), callback_type, "created", mask(url, site), False)


def _fix(job: Job, entry: dict[str, Any], url: str, site: ConnectWiseSite) -> EntryChange:
    callback_type = str(entry["type"]).lower()
    operations = [
        {"op": "replace", "path": path, "value": value}
        for path, value in (
            ("url", url),
            ("level", LEVEL),
            ("objectId", OWNER_OBJECT_ID),
            ("inactiveFlag", False),
        )
        if str(entry.get(path)).lower() != str(value).lower()
    ]
    if not operations:
        return EntryChange(int(entry["id"]), callback_type, "unchanged", mask(url, site), False)
    was_inactive = bool(entry.get("inactiveFlag"))
    job.hook.patch(f"{endpoints.CALLBACKS}/{entry['id']}", operations)
    action = "reactivated" if was_inactive else "updated"
    if was_inactive:
        log.warning(
            "The %s callback (id %s) had been disabled by ConnectWise (deliveries kept failing: "
            "check that %s is reachable from ConnectWise); re-activated it. The incremental "
            "sync covered the gap.",
            callback_type,
            entry["id"],
            mask(url, site),
        )
    else:
        log.info(
            "Updated the %s callback (id %s): %s",
            callback_type,
            entry["id"],
            ", ".join(op["path"] for op in operations),
        )
    return EntryChange(int(entry["id"]), callback_type, action, mask(url, site), False)


def _remove(job: Job, entry: dict[str, Any], site: ConnectWiseSite) -> EntryChange:
    job.hook.delete(f"{endpoints.CALLBACKS}/{entry['id']}")
    log.info("Removed the %s callback (id %s)", entry.get("type"), entry["id"])
    return EntryChange(
        int(entry["id"]),
        str(entry.get("type", "")).lower(),
        "removed",
        mask(str(entry.get("url", "")), site),
        bool(entry.get("inactiveFlag")),
    )
