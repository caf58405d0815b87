"""The setup checklist: every failure path against the simulator, with the right advice."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from connectwise import jobs
from connectwise.errors import ConnectWiseConnectionError
from connectwise.preflight import MODULE_PROBES, TABLE_SETUP
from connectwise.staging.database import create_staging_engine

from tests.conftest import connection_json

REQUIRED_MODULES = {"Companies", "Finance", "Procurement", "Sales", "System"}


@pytest.fixture(scope="module")
def preflight_simulator():
    from simulator.testing import running_simulator

    with running_simulator(scale="small", seed=5) as sim:
        yield sim


@pytest.fixture
def job(preflight_simulator, cw_connection, sqlite_url):
    preflight_simulator.set_auth(denied_modules=[], hidden_tables=[])
    cw_connection(preflight_simulator)
    return jobs.open_job(engine=create_staging_engine(sqlite_url))


def report(job) -> dict[str, tuple]:
    with job.engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT name, ok, required, fix FROM meta_preflight WHERE run_id = 'p'")
        ).all()
    return {row.name: (bool(row.ok), bool(row.required), row.fix) for row in rows}


def test_a_good_setup_passes_all_34_checks(job):
    result = jobs.run_preflight(job, "p")
    assert result["checks"] == 3 + 8 + 23 and result["warnings"] == []
    assert all(ok for ok, _, _ in report(job).values())
    # Every enabled entity's quality suite was built: at least its id-uniqueness expectation.
    enabled = [entity for entity in job.registry if job.mapping.is_enabled(entity.name)]
    assert result["quality_expectations"] >= len(enabled) > 0


@pytest.mark.parametrize("module", list(MODULE_PROBES))
def test_each_missing_module_is_reported_with_its_fix(job, preflight_simulator, module):
    preflight_simulator.set_auth(denied_modules=[module])
    with pytest.raises(ConnectWiseConnectionError) as failure:
        jobs.run_preflight(job, "p", strict=False)
    ok, required, fix = report(job)[module]
    assert not ok and f"read access to the '{module}' module" in fix
    assert required == (module in REQUIRED_MODULES)
    mark = "FAIL" if required else "WARN"  # WARN: the sync itself works without it
    assert f"[{mark}] module     {module}" in str(failure.value)
    if module not in REQUIRED_MODULES:  # the sync does not need it: only a warning there
        assert module in jobs.run_preflight(job, "p", strict=True)["warnings"]


@pytest.mark.parametrize("table", list(TABLE_SETUP))
def test_each_hidden_table_setup_entity_is_reported_with_its_fix(job, preflight_simulator, table):
    preflight_simulator.set_auth(hidden_tables=[table])
    with pytest.raises(ConnectWiseConnectionError, match=f"Make '{table}' visible"):
        jobs.run_preflight(job, "p", strict=False)
    ok, _, fix = report(job)[table]
    assert not ok and "System > Table Setup > Customize" in fix


def test_products_advice_for_a_missing_procurement_module(job, preflight_simulator):
    preflight_simulator.set_auth(denied_modules=["Procurement"])
    with pytest.raises(ConnectWiseConnectionError, match="Products missing from the catalog"):
        jobs.run_preflight(job, "p")


@pytest.mark.parametrize(
    ("change", "check", "advice"),
    [
        ({"extra": {"company_id": "nope"}}, "codebase discovery", "Verify the Company identifier"),
        ({"host": "https://{host}"}, "site settings", "hostname only, no https://"),
        ({"password": "bad-key-123456"}, "authentication", "Public and Private keys are correct"),
        ({"extra": {"client_id": "0000"}}, "client id", "developer.connectwise.com/ClientID"),
    ],
    ids=["company-id", "hostname", "keys", "client-id"],
)
def test_connection_failures_stop_the_checklist_with_advice(
    job, preflight_simulator, monkeypatch, change, check, advice
):
    connection = json.loads(connection_json(preflight_simulator))
    for key, value in change.items():
        if key == "extra":
            connection["extra"].update(value)
        else:
            connection[key] = value.format(host=preflight_simulator.host)
    monkeypatch.setenv("AIRFLOW_CONN_CONNECTWISE_DEFAULT", json.dumps(connection))
    broken = jobs.open_job(engine=job.engine)
    with pytest.raises(ConnectWiseConnectionError, match=advice):
        jobs.run_preflight(broken, "p")
    rows = report(broken)
    assert rows[check][0] is False
    assert not any(name in rows for name in MODULE_PROBES)  # nothing else could pass
