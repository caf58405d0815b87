"""Callbacks of many tenants through one receiver: the path token says whose delivery it is.

Two tenants on PostgreSQL schemas, two simulators: each delivery lands in its own tenant's
inbox, is verified only with a key from its own tenant's host, wakes only its own tenant's
DAG, and each tenant's drain applies only its own deliveries.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from connectwise import jobs
from connectwise.callbacks import install, process
from connectwise.tenants import Tenant, configured_tenants

from simulator.testing import running_simulator
from tests.callback_support import delivery, inbox_rows, post_signed, running_receiver
from tests.conftest import connection_json
from tests.tenant_support import tenant_schemas


@pytest.fixture
def two_tenants(tmp_path, monkeypatch) -> Iterator[dict[str, Any]]:
    with (
        tenant_schemas(tmp_path, monkeypatch, ("acme", "globex")),
        running_simulator(scale="small", seed=31) as acme,
        running_simulator(scale="small", seed=32) as globex,
        running_receiver() as receiver,
    ):
        sims = {"acme": acme, "globex": globex}
        for name, sim in sims.items():
            connection = connection_json(sim, callback_url=receiver.base_url)
            monkeypatch.setenv(f"AIRFLOW_CONN_CONNECTWISE_{name.upper()}", connection)
        tenants: dict[str, Tenant] = {t.id: t for t in configured_tenants() or [] if t.id}
        opened = {name: jobs.open_job(tenants[name]) for name in sims}
        yield {"sims": sims, "jobs": opened, "receiver": receiver}
        for job in opened.values():
            job.engine.dispose()


def url_of(job: jobs.Job, receiver: Any, record_id: int) -> str:
    token = install.callback_token(job.hook.site, job.tenant.id)
    return f"{receiver.base_url}/callbacks/{token}?recordId={record_id}"


def staged_contacts(job: jobs.Job) -> set[int]:
    with job.engine.connect() as connection:
        return set(connection.execute(sa.text("SELECT id FROM stg_contacts")).scalars())


def test_a_delivery_lands_in_its_own_tenant_and_is_applied_only_there(two_tenants) -> None:
    sims, tenant_jobs, receiver = two_tenants["sims"], two_tenants["jobs"], two_tenants["receiver"]
    acme, globex = tenant_jobs["acme"], tenant_jobs["globex"]
    acme_contact = sims["acme"].truth("company/contacts")[0]
    globex_contact = sims["globex"].truth("company/contacts")[1]

    answers = [
        post_signed(
            url_of(acme, receiver, acme_contact["id"]),
            sims["acme"],
            delivery(sims["acme"], "contact", "updated", acme_contact),
        ),
        post_signed(
            url_of(globex, receiver, globex_contact["id"]),
            sims["globex"],
            delivery(sims["globex"], "contact", "updated", globex_contact),
        ),
    ]

    assert [answer.status_code for answer in answers] == [200, 200]
    assert [row["record_id"] for row in inbox_rows(acme.engine)] == [acme_contact["id"]]
    assert [row["record_id"] for row in inbox_rows(globex.engine)] == [globex_contact["id"]]
    assert sorted(receiver.waker.tenants) == ["acme", "globex"]

    figures = process.drain(acme, "callbacks-acme")

    assert figures["applied"] == 1
    assert staged_contacts(acme) == {acme_contact["id"]}
    assert staged_contacts(globex) == set()  # not applied by acme's drain
    assert [row["status"] for row in inbox_rows(globex.engine)] == ["pending"]


def test_a_delivery_is_verified_only_with_its_own_tenants_key(two_tenants) -> None:
    sims, tenant_jobs, receiver = two_tenants["sims"], two_tenants["jobs"], two_tenants["receiver"]
    acme = tenant_jobs["acme"]
    contact = sims["globex"].truth("company/contacts")[0]
    # Globex's genuine delivery (its key, its key URL) sent to acme's path.
    body = delivery(sims["globex"], "contact", "updated", contact)

    refused = post_signed(url_of(acme, receiver, contact["id"]), sims["globex"], body)
    unknown = post_signed(
        f"{receiver.base_url}/callbacks/not-a-tenant-token?recordId=1", sims["acme"], body
    )

    assert refused.status_code == 403  # its key URL is not on acme's ConnectWise host
    assert unknown.status_code == 404
    assert inbox_rows(acme.engine) == []
    assert inbox_rows(tenant_jobs["globex"].engine) == []
    assert receiver.waker.tenants == []
