"""The tenants file: validated like the mapping, errors naming the item, the key and what fits."""

from __future__ import annotations

from pathlib import Path

import pytest
from connectwise.staging.database import tenant_url
from connectwise.tenants import (
    DEFAULT_TENANT,
    TenantsFileError,
    configured_tenants,
    dag_tenants,
    tenant_of_dag,
)
from sqlalchemy.engine import make_url

GOOD = """
tenants:
  - id: acme
    connectwise_conn_id: connectwise_acme
  - id: globex-eu
    connectwise_conn_id: connectwise_globex
    staging_conn_id: staging_eu
    schema: globex
    mapping_file: mappings/globex.yaml
    sync_interval: 1h
    pool_slots: 2
    queue: eu
  - id: initech
    connectwise_conn_id: connectwise_initech
    enabled: false
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tenants.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> str:
    with pytest.raises(TenantsFileError) as caught:
        configured_tenants(write(tmp_path, text))
    return str(caught.value)


def test_without_the_file_there_is_one_default_tenant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONNECTWISE_INCLUDE_DIR", str(tmp_path))
    monkeypatch.delenv("CONNECTWISE_TENANTS_FILE", raising=False)

    assert configured_tenants() is None
    assert dag_tenants() == [DEFAULT_TENANT]
    assert DEFAULT_TENANT.dag_id("connectwise_push") == "connectwise_push"
    assert (DEFAULT_TENANT.connectwise_conn_id, DEFAULT_TENANT.staging_conn_id) == (
        "connectwise_default",
        "connectwise_staging",
    )
    assert (DEFAULT_TENANT.schema, DEFAULT_TENANT.pool, DEFAULT_TENANT.tags) == (
        None,
        None,
        ["connectwise"],
    )


def test_a_named_file_that_is_missing_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONNECTWISE_TENANTS_FILE", str(tmp_path / "nope.yaml"))

    with pytest.raises(TenantsFileError, match=r"nope\.yaml: the tenants file does not exist"):
        dag_tenants()


def test_the_enabled_tenants_with_their_defaults(tmp_path: Path) -> None:
    acme, globex = configured_tenants(write(tmp_path, GOOD)) or []

    assert (acme.id, acme.staging_conn_id, acme.schema, acme.mapping_file) == (
        "acme",
        "connectwise_staging",
        "cw_acme",
        None,
    )
    assert (acme.pool, acme.pool_slots, acme.queue) == ("connectwise_api__acme", 4, None)
    assert acme.dag_id("connectwise_initial_sync") == "connectwise_initial_sync__acme"
    assert acme.tags == ["connectwise", "tenant:acme"]
    assert (globex.schema, globex.sync_interval, globex.pool_slots, globex.queue) == (
        "globex",
        "1h",
        2,
        "eu",
    )
    assert globex.mapping_file == str((tmp_path / "mappings" / "globex.yaml").resolve())


def test_a_task_finds_its_tenant_from_its_dag_id(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)

    assert tenant_of_dag("connectwise_push__globex-eu", path).connectwise_conn_id == (
        "connectwise_globex"
    )
    assert tenant_of_dag("connectwise_push", path) is DEFAULT_TENANT
    with pytest.raises(TenantsFileError, match=r"tenant 'initech', which .* does not list as"):
        tenant_of_dag("connectwise_push__initech", path)  # disabled


def test_every_problem_is_named_with_its_item_and_key(tmp_path: Path) -> None:
    message = problems(
        tmp_path,
        """
tenants:
  - id: Acme_Corp
    connectwise_conn_id: connectwise_acme
  - id: beta
    sync_interval: 2h
    pool_slots: 0
    colour: blue
  - id: beta
    connectwise_conn_id: cw beta
    schema: 9lives
  - id: off
    connectwise_conn_id: cw_off
""",
    )

    assert "tenants[0]: id: must be a slug: lower-case letters, digits and single hyphens" in (
        message
    )
    assert "tenants[1]: missing required key 'connectwise_conn_id'" in message
    assert "tenants[1]: sync_interval: '2h' is not an interval (use one of: 5m, 15m" in message
    assert "tenants[1]: pool_slots: Input should be greater than or equal to 1" in message
    assert "tenants[1]: unknown key 'colour' (allowed: id, connectwise_conn_id," in message
    assert "tenants[2]: connectwise_conn_id: must be an Airflow id" in message
    assert "tenants[2]: schema: must be lower-case letters, digits and underscores" in message
    assert "tenants[3]: id: must be text (quote it in YAML" in message


def test_two_tenants_may_not_share_an_id_or_a_schema(tmp_path: Path) -> None:
    message = problems(
        tmp_path,
        """
tenants:
  - {id: acme, connectwise_conn_id: a}
  - {id: acme, connectwise_conn_id: b}
  - {id: other, connectwise_conn_id: c, schema: cw_acme}
""",
    )

    assert "tenants[1]: id 'acme' repeats tenants[0]" in message
    assert "tenants[2]: schema 'cw_acme' repeats tenants[0]" in message
    assert "repeats tenants[1]" not in message


@pytest.mark.parametrize(
    "text",
    ["tenants: nope", "- id: acme", "tenants: []\nextra: 1", "tenants: [\n"],
)
def test_a_file_of_the_wrong_shape_says_so(tmp_path: Path, text: str) -> None:
    message = problems(tmp_path, text)

    assert message.startswith(str(tmp_path / "tenants.yaml"))
    assert (
        "'tenants:'" in message
        or "unknown top-level key 'extra'" in message
        or ("malformed YAML at line" in message)
    )


def test_a_tenants_staging_is_its_own_schema_or_file() -> None:
    postgres = make_url("postgresql+psycopg://u@db/staging?options=-csearch_path%3Dold")

    assert tenant_url(postgres, "cw_acme").query["options"] == "-csearch_path=cw_acme"
    assert tenant_url(make_url("sqlite:////data/staging.db"), "cw_acme").database == (
        "/data/staging__cw_acme.db"
    )
    assert tenant_url(postgres, None) is postgres


def test_a_tenants_schedule_is_its_own_and_survives_its_broken_mapping(tmp_path: Path) -> None:
    from connectwise.schedule import incremental_schedule
    from connectwise.tenants import Tenant

    hourly = tmp_path / "hourly.yaml"
    hourly.write_text("settings:\n  sync_interval: 1h\n", encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text("settings: [\n", encoding="utf-8")

    assert incremental_schedule(tenant=Tenant(id="a", sync_interval="4h")) == "0 */4 * * *"
    assert incremental_schedule(tenant=Tenant(id="b", mapping_file=str(hourly))) == "0 * * * *"
    # Its own tasks fail on the mapping; the other tenants' DAGs in the same file still load.
    assert incremental_schedule(tenant=Tenant(id="c", mapping_file=str(broken))) == "*/15 * * * *"


def test_a_tasks_parse_builds_only_its_own_tenants_dags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, GOOD)
    # What Airflow's task runner sets while it parses the task's DAG file.
    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", "connectwise_push__globex-eu")

    assert [tenant.id for tenant in dag_tenants(path)] == ["globex-eu"]
    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", "connectwise_tenants")
    assert [tenant.id for tenant in dag_tenants(path)] == ["acme", "globex-eu"]
