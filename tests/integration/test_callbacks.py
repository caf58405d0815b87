"""Callbacks end to end: install against the simulator, signed deliveries over real HTTP into
the receiver, the inbox, and the drain into staging (PostgreSQL and SQLite)."""

from __future__ import annotations

import http.server
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from connectwise import jobs
from connectwise.callbacks import install, process
from connectwise.entities import REGISTRY
from connectwise.errors import ConnectWiseTransientError
from connectwise.staging.database import create_staging_engine

from tests.callback_support import (
    delivery,
    inbox_rows,
    post_signed,
    running_receiver,
    sign,
    wait_for,
)
from tests.support import assert_matches_truth, mapping_with_additions, quarantined, staged_rows

ROOT = Path(__file__).resolve().parents[2]
SEED_FILTER = {"customer", "prospect", "suspect"}
MUTATED = ("company/contacts", "company/companies", "procurement/catalog", "sales/opportunities")
OURS = {"agreement", "company", "contact", "member", "opportunity", "productcatalog"}


def initial_sync(engine) -> jobs.Job:
    job = jobs.open_job(engine=engine)
    for entity in REGISTRY.in_dependency_order():
        if not entity.optional:
            jobs.run_sync(job, entity.name, mode="full", run_id="initial")
    return job


def callback_entries(sim) -> list[dict]:
    return sim.truth("system/callbacks")


CALLBACK_TYPES = {
    "company/contacts": "contact",
    "company/companies": "company",
    "procurement/catalog": "productcatalog",
    "sales/opportunities": "opportunity",
}
PLAN_ACTIONS = {"created": "added", "updated": "updated", "deleted": "deleted"}


def planned_deliveries(plans: dict[str, dict[str, list[int]]]) -> set[tuple[str, str, int]]:
    """(callback type, action, record id) of every delivery the mutation plans call for."""
    return {
        (CALLBACK_TYPES[path], PLAN_ACTIONS[step], record_id)
        for path, plan in plans.items()
        for step, record_ids in plan.items()
        for record_id in record_ids
    }


def inbox_deliveries(engine) -> set[tuple[str, str, int]]:
    return {(row["callback_type"], row["action"], row["record_id"]) for row in inbox_rows(engine)}


@pytest.fixture
def receiver():
    with running_receiver() as server:
        yield server


def test_signed_deliveries_over_http_end_up_in_staging(
    simulator, cw_connection, staging_connection, staging_url, receiver
):
    cw_connection(simulator, callback_url=receiver.base_url)
    staging_connection(staging_url)
    engine = create_staging_engine(staging_url)
    job = initial_sync(engine)
    install.install(job, "install")
    # Seeded: an unseeded plan now and then picks an update the simulator refuses (a company
    # whose default contact, or an opportunity whose contact, the contacts mutation has just
    # deleted); the mutation skips that step, so one delivery fewer is ever sent.
    plans = {path: simulator.mutate(path, create=3, update=5, delete=2, seed=1) for path in MUTATED}
    expected = planned_deliveries(plans)
    assert len(expected) == 40

    def settled() -> bool:
        # Every planned delivery is in the inbox and the simulator is done sending (its
        # counters are final once no delivery queue is left).
        return expected <= inbox_deliveries(engine) and simulator.sim.dispatcher.pending() == 0

    def seen() -> dict:
        inbox = inbox_deliveries(engine)
        return {
            "missing from the inbox": sorted(expected - inbox),
            "unexpected in the inbox": sorted(inbox - expected),
            "simulator callbacks": simulator.stats()["callbacks"],
            "delivery queues left": simulator.sim.dispatcher.pending(),
        }

    wait_for(settled, timeout=60, what="the 40 planned deliveries in the inbox", seen=seen)
    delivered = simulator.stats()["callbacks"]
    assert delivered["failed"] == 0 and delivered["delivered"] == 4 * (3 + 5 + 2)
    rows = inbox_rows(engine)
    assert len(rows) == 40 and {row["status"] for row in rows} == {"pending"}
    assert receiver.waker.notified == 40

    figures = process.drain(jobs.open_job(engine=engine), "callbacks-1")

    assert figures["applied"] + figures["superseded"] == 40 and figures["failed"] == 0
    assert figures["backlog"] == {
        "applied": figures["applied"],
        **({"superseded": figures["superseded"]} if figures["superseded"] else {}),
    }
    assert_matches_truth(engine, simulator, SEED_FILTER)
    with engine.connect() as connection:
        gone = (
            connection.execute(
                sa.text("SELECT id FROM stg_catalog_items WHERE deleted_at IS NOT NULL")
            )
            .scalars()
            .all()
        )
        modes = (
            connection.execute(
                sa.text("SELECT DISTINCT mode FROM meta_sync_runs WHERE run_id LIKE 'callbacks-1%'")
            )
            .scalars()
            .all()
        )
    assert sorted(gone) == sorted(plans["procurement/catalog"]["deleted"])
    assert modes == ["callback"]
    # Applying the same inbox again changes nothing.
    assert process.drain(jobs.open_job(engine=engine), "callbacks-2")["deliveries"] == 0


def test_refused_deliveries_leave_nothing_behind(
    simulator, cw_connection, staging_connection, sqlite_url, receiver
):
    cw_connection(simulator, callback_url=receiver.base_url)
    staging_connection(sqlite_url)
    engine = create_staging_engine(sqlite_url)
    job = jobs.open_job(engine=engine)
    token = install.callback_token(job.hook.site)
    url = f"{receiver.base_url}/callbacks/{token}?recordId=1"
    key = simulator.sim.signing_key
    record = simulator.truth("company/contacts")[0]
    good = delivery(simulator, "contact", "updated", record)

    # An off-host key URL: the receiver must not even ask it for a key.
    hits: list[str] = []

    class KeyServer(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"signing_key": "attacker"}')

        def log_message(self, *args):
            return

    attacker = http.server.ThreadingHTTPServer(("127.0.0.1", 0), KeyServer)
    threading.Thread(target=attacker.serve_forever, daemon=True).start()
    off_host = (
        f"http://127.0.0.1:{attacker.server_address[1]}/v2025_1/system/callbackkey/index.rails?id=1"
    )
    on_host_other_page = f"{simulator.base_url}/v2025_1/apis/3.0/company/contacts"
    forged = delivery(simulator, "contact", "updated", record, key_url=off_host)
    wrong_page = delivery(simulator, "contact", "updated", record, key_url=on_host_other_page)

    def post(target: str, body: bytes, signature: str | None) -> requests.Response:
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["x-content-signature"] = signature
        return requests.post(target, data=body, headers=headers, timeout=10)

    try:
        cases = {
            "wrong token": (post(url.replace(token, "x" * 32), good, sign(good, key)), 404),
            "unsigned": (post(url, good, None), 401),
            "badly signed": (post(url, good, sign(good, "not-the-key")), 403),
            "tampered": (post(url, good.replace(b"updated", b"deleted"), sign(good, key)), 403),
            "off-host key url": (post(url, forged, sign(forged, "attacker")), 403),
            "other page on host": (post(url, wrong_page, sign(wrong_page, key)), 403),
            "malformed json": (post(url, b"{not json", sign(b"{not json", key)), 400),
            "no ID": (post(url, b'{"Type":"contact","Action":"updated"}', "x"), 400),
            "oversized": (post(url, b"{" + b" " * (2 * 1024 * 1024) + b"}", "x"), 413),
        }
    finally:
        attacker.shutdown()
    for name, (response, status) in cases.items():
        assert response.status_code == status, (name, response.text)
        assert "signing_key" not in response.text and token not in response.text
    assert hits == []  # no request ever reached the off-host key URL
    assert inbox_rows(engine) == []
    assert receiver.waker.notified == 0

    # A good delivery is stored once, however often ConnectWise sends it.
    assert post(url, good, sign(good, key)).json() == {"status": "accepted"}
    assert post(url, good, sign(good, key)).json() == {"status": "duplicate"}
    ticket = delivery(simulator, "ticket", "added", {"id": 5, "summary": "printer"})
    assert post(url, ticket, sign(ticket, key)).json()["status"] == "ignored"
    rows = inbox_rows(engine)
    assert [(row["callback_type"], row["status"]) for row in rows] == [
        ("contact", "pending"),
        ("ticket", "ignored"),
    ]
    figures = process.drain(job, "apply")
    assert figures["applied"] == 1
    assert figures["backlog"] == {"applied": 1, "ignored": 1}


def test_install_is_idempotent_repairs_and_uninstalls_only_ours(
    simulator, cw_connection, sqlite_url
):
    cw_connection(simulator, callback_url="https://hooks.example.com/connectwise")
    engine = create_staging_engine(sqlite_url)
    job = jobs.open_job(engine=engine)
    foreign = job.hook.post(
        "system/callbacks",
        {
            "url": "https://other.example.com/hook?id=",
            "objectId": 1,
            "type": "contact",
            "level": "owner",
            "description": "another integration",
        },
    )

    first = install.install(job, "install-1")
    assert {c["callback_type"] for c in first} == OURS
    assert {c["action"] for c in first} == {"created"}
    token = install.callback_token(job.hook.site)
    assert all(token not in c["url"] for c in first)  # reports mask the secret
    entries = callback_entries(simulator)
    assert len(entries) == 7
    ours = [e for e in entries if e["id"] != foreign["id"]]
    assert {e["url"] for e in ours} == {
        f"https://hooks.example.com/connectwise/callbacks/{token}?recordId="
    }
    assert {(e["level"], e["objectId"]) for e in ours} == {("owner", 1)}

    assert {c["action"] for c in install.install(job, "install-2")} == {"unchanged"}
    assert len(callback_entries(simulator)) == 7

    # A moved receiver: every URL is fixed in place, nothing is added.
    cw_connection(simulator, callback_url="https://new.example.com/cw")
    job = jobs.open_job(engine=engine)
    moved = install.install(job, "install-3")
    assert {c["action"] for c in moved} == {"updated"}
    assert {e["url"].split("/callbacks/")[0] for e in callback_entries(simulator)} == {
        "https://new.example.com/cw",
        "https://other.example.com/hook?id=",
    }

    # ConnectWise disabled one after failed deliveries: reported and re-activated.
    contact_entry = next(
        e
        for e in callback_entries(simulator)
        if e["type"] == "contact" and e["id"] != foreign["id"]
    )
    simulator.sim.disable_callback(contact_entry["id"])
    repaired = {c["callback_type"]: c["action"] for c in install.install(job, "install-4")}
    assert repaired["contact"] == "reactivated"
    assert not any(e["inactiveFlag"] for e in callback_entries(simulator))
    with engine.connect() as connection:
        report = dict(
            connection.execute(
                sa.text("SELECT callback_type, last_action FROM meta_callback_entries")
            ).all()
        )
    assert report["contact"] == "reactivated" and len(report) == 6

    removed = install.uninstall(job, "uninstall")
    assert {c["action"] for c in removed} == {"removed"} and len(removed) == 6
    assert [e["id"] for e in callback_entries(simulator)] == [foreign["id"]]
    assert install.uninstall(job, "uninstall-again") == []


def test_install_after_a_lost_create_response_makes_no_duplicate(
    simulator, cw_connection, sqlite_url
):
    cw_connection(simulator, callback_url="https://hooks.example.com/connectwise", max_retries=0)
    job = jobs.open_job(engine=create_staging_engine(sqlite_url))
    simulator.set_faults(lost_write_responses=1)
    with pytest.raises(ConnectWiseTransientError):
        install.install(job, "install-1")
    assert len(callback_entries(simulator)) == 1  # ConnectWise created it; we never heard
    install.install(job, "install-2")
    entries = callback_entries(simulator)
    assert sorted(e["type"] for e in entries) == sorted(OURS)


# The drain kills itself at the worst moment of its second batch: the batch's records are in
# staging, but their inbox rows are not marked applied yet. (Killing it from the test after a
# first applied batch raced the drain, which could finish first on a busy machine.)
KILLABLE_DRAIN = textwrap.dedent(
    """
    import os, signal, sys
    sys.path[:0] = [{root!r}, {plugins!r}]
    import connectwise.entity_sync
    from connectwise import jobs
    from connectwise.callbacks import process
    from connectwise.staging.database import create_staging_engine
    run = connectwise.entity_sync.EntitySync.run
    def run_then_die(self, request):
        result = run(self, request)
        if request.run_id == "killed.2":
            os.kill(os.getpid(), signal.SIGKILL)
        return result
    connectwise.entity_sync.EntitySync.run = run_then_die
    job = jobs.open_job(engine=create_staging_engine({url!r}))
    process.drain(job, "killed", batch_size=4)
    """
)


def test_drain_killed_mid_batch_loses_and_duplicates_nothing(
    simulator, cw_connection, staging_connection, staging_url, receiver
):
    cw_connection(simulator, callback_url=receiver.base_url)
    staging_connection(staging_url)
    engine = create_staging_engine(staging_url)
    job = initial_sync(engine)
    changed = simulator.mutate("company/contacts", update=30, seed=1)["updated"]
    token = install.callback_token(job.hook.site)
    url = f"{receiver.base_url}/callbacks/{token}?recordId="
    for record_id in changed:  # deliveries without the record: each is read by id
        body = delivery(simulator, "contact", "updated", None, record_id)
        response = post_signed(url, simulator, body)
        assert response.json() == {"status": "accepted"}
    before = len(staged_rows(engine, REGISTRY["contacts"]))
    script = KILLABLE_DRAIN.format(root=str(ROOT), plugins=str(ROOT / "plugins"), url=staging_url)
    worker = subprocess.Popen([sys.executable, "-c", script], env=dict(os.environ))
    try:
        returncode = worker.wait(timeout=120)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    statuses = [row["status"] for row in inbox_rows(engine)]
    assert returncode == -signal.SIGKILL, f"the drain was not killed (exit {returncode})"
    assert statuses.count("applied") == 4 and statuses.count("pending") == 26, statuses

    process.drain(jobs.open_job(engine=engine), "rerun")

    assert {row["status"] for row in inbox_rows(engine)} == {"applied"}
    assert_matches_truth(engine, simulator, SEED_FILTER)
    assert len(staged_rows(engine, REGISTRY["contacts"])) == before
    with engine.connect() as connection:
        duplicates = connection.execute(
            sa.text("SELECT COUNT(*) - COUNT(DISTINCT id) FROM stg_contacts")
        ).scalar()
        inserted = connection.execute(
            sa.text("SELECT COALESCE(SUM(inserted), 0) FROM meta_sync_runs WHERE mode = 'callback'")
        ).scalar()
    assert duplicates == 0 and inserted == 0


def test_deliveries_of_one_record_apply_in_order(
    simulator, cw_connection, staging_connection, sqlite_url, receiver
):
    cw_connection(simulator, callback_url=receiver.base_url)
    staging_connection(sqlite_url)
    engine = create_staging_engine(sqlite_url)
    job = initial_sync(engine)
    token = install.callback_token(job.hook.site)
    url = f"{receiver.base_url}/callbacks/{token}?recordId="
    record = simulator.truth("procurement/catalog")[0]
    older = {
        **record,
        "description": "older",
        "_info": {**record["_info"], "lastUpdated": "2030-01-01T00:00:00Z"},
    }
    newer = {
        **record,
        "description": "newer",
        "_info": {**record["_info"], "lastUpdated": "2030-01-02T00:00:00Z"},
    }

    def send(body: bytes) -> None:
        assert post_signed(url, simulator, body).status_code == 200

    send(delivery(simulator, "productcatalog", "updated", older))
    send(delivery(simulator, "productcatalog", "updated", newer))
    figures = process.drain(job, "ordered")
    assert (figures["applied"], figures["superseded"]) == (1, 1)
    staged = staged_rows(engine, REGISTRY["catalog_items"])[record["id"]]
    assert staged["raw"]["description"] == "newer"
    # A late, older delivery in a later batch never rolls the record back.
    send(delivery(simulator, "productcatalog", "updated", older))
    process.drain(job, "late")
    assert staged_rows(engine, REGISTRY["catalog_items"])[record["id"]]["raw"]["description"] == (
        "newer"
    )


def test_failing_delivery_is_retried_then_quarantined(
    simulator, cw_connection, staging_connection, sqlite_url, receiver
):
    cw_connection(simulator, callback_url=receiver.base_url, max_retries=0)
    staging_connection(sqlite_url)
    engine = create_staging_engine(sqlite_url)
    job = jobs.open_job(engine=engine)
    token = install.callback_token(job.hook.site)
    body = delivery(simulator, "contact", "deleted", None, 42)
    response = post_signed(f"{receiver.base_url}/callbacks/{token}?recordId=42", simulator, body)
    assert response.json() == {"status": "accepted"}
    simulator.set_faults(error_rate=1.0)  # ConnectWise answers 500 to every read

    first = process.drain(job, "attempt-1", max_attempts=2)
    assert (first["retrying"], first["failed"]) == (1, 0)
    [row] = inbox_rows(engine)
    assert (row["status"], row["attempts"]) == ("pending", 1) and row["last_error"]

    second = process.drain(job, "attempt-2", max_attempts=2)
    assert second["failed"] == 1
    [row] = inbox_rows(engine)
    assert (row["status"], row["attempts"]) == ("failed", 2)
    reasons = quarantined(engine, REGISTRY["contacts"])
    assert "gave up after 2 attempts" in reasons[42]


def test_an_agreement_delivery_refreshes_its_additions(
    simulator, cw_connection, staging_connection, staging_url, receiver, tmp_path
):
    cw_connection(simulator, callback_url=receiver.base_url)
    staging_connection(staging_url)
    engine = create_staging_engine(staging_url)
    mapping = mapping_with_additions(tmp_path)
    job = jobs.open_job(engine=engine, mapping_path=mapping)
    for entity in REGISTRY.in_dependency_order():
        jobs.run_sync(job, entity.name, mode="full", run_id="initial")
    additions = simulator.truth("finance/agreements/additions")
    by_agreement: dict[int, list[dict]] = {}
    for addition in additions:
        by_agreement.setdefault(addition["agreementId"], []).append(addition)
    agreement_id, mine = next((a, rows) for a, rows in by_agreement.items() if len(rows) >= 2)
    endpoint = f"finance/agreements/{agreement_id}/additions"
    job.hook.patch(
        f"{endpoint}/{mine[0]['id']}", [{"op": "replace", "path": "quantity", "value": 42}]
    )
    job.hook.delete(f"{endpoint}/{mine[1]['id']}")
    created = job.hook.post(
        endpoint, {"product": mine[0]["product"], "billCustomer": "Billable", "quantity": 3}
    )
    agreement = next(a for a in simulator.truth("finance/agreements") if a["id"] == agreement_id)
    body = delivery(simulator, "agreement", "updated", agreement)
    token = install.callback_token(job.hook.site)
    response = post_signed(
        f"{receiver.base_url}/callbacks/{token}?recordId={agreement_id}", simulator, body
    )
    assert response.json() == {"status": "accepted"}

    process.drain(job, "agreement-callback")

    staged = {
        record_id: row
        for record_id, row in staged_rows(engine, REGISTRY["agreement_additions"]).items()
        if row["agreement_id"] == agreement_id
    }
    truth = {
        a["id"]: a
        for a in simulator.truth("finance/agreements/additions")
        if a["agreementId"] == agreement_id
    }
    assert set(staged) == set(truth) and created["id"] in staged
    assert staged[mine[0]["id"]]["quantity"] == 42
    assert mine[1]["id"] not in staged  # soft-deleted, no longer live


def test_a_stop_request_ends_the_lingering_drain(simulator, cw_connection, sqlite_url):
    cw_connection(simulator)
    job = jobs.open_job(engine=create_staging_engine(sqlite_url))
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    started = time.monotonic()
    figures = process.drain(job, "linger", linger_seconds=60, stop=stop)
    assert time.monotonic() - started < 10  # not the 60 s linger
    assert figures["deliveries"] == 0
