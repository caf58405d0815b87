"""Money is exact: NUMERIC(18,4) on PostgreSQL (a Decimal in Python), REAL on SQLite.

Databases made before money was exact keep every amount and every view over it, analysts'
own views included, when their floating-point columns are retyped.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from connectwise.entities import REGISTRY
from connectwise.mapping.apply import RecordMapper
from connectwise.mapping.load import Mapping
from connectwise.staging.database import create_staging_engine, is_postgres
from connectwise.staging.migrations import migrate
from connectwise.staging.schema import ensure_schema
from connectwise.staging.writer import StagingWriter
from sqlalchemy.engine import Engine


def catalog_item(record_id: int, price: Any, cost: Any) -> dict[str, Any]:
    return {
        "id": record_id,
        "identifier": f"SKU-{record_id}",
        "description": "Managed firewall",
        "price": price,
        "cost": cost,
        "inactiveFlag": False,
        "_info": {"lastUpdated": "2026-11-27T10:00:00Z"},
    }


def load_catalog(engine: Engine, mapping: Mapping, *records: dict[str, Any], run: str) -> None:
    mapper = RecordMapper(REGISTRY["catalog_items"], mapping)
    rows, rejections = mapper.map_records(records)
    assert rejections == []
    writer = StagingWriter(engine, "stg_catalog_items", mapper.columns)
    with engine.begin() as connection:
        writer.load(connection, rows, run)


def query(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text(sql))]


def column_type(engine: Engine, table: str, column: str) -> str:
    types = {item["name"]: str(item["type"]) for item in sa.inspect(engine).get_columns(table)}
    return types[column]


@pytest.fixture
def upgraded(engine: Engine, shipped_mapping: Mapping) -> Engine:
    ensure_schema(engine, shipped_mapping.table_specs())
    return engine


# --- both databases ---------------------------------------------------------------------------


def test_an_amount_arrives_as_written_and_an_update_replaces_it(
    upgraded: Engine, shipped_mapping: Mapping
) -> None:
    # 0.1 + 0.2 style amounts are where floating point shows: 12.3456 must stay 12.3456.
    load_catalog(upgraded, shipped_mapping, catalog_item(1, 12.3456, 0.1), run="first")
    load_catalog(
        upgraded,
        shipped_mapping,
        catalog_item(1, "99999999999999.9999", 0.3) | {"_info": {"lastUpdated": "2026-11-28"}},
        catalog_item(2, 19.99, 7),
        run="second",
    )

    rows = query(upgraded, "SELECT id, price, cost FROM stg_catalog_items ORDER BY id")
    margins = dict(query(upgraded, "SELECT catalog_item_id, margin FROM v_active_catalog"))

    if is_postgres(upgraded):
        assert rows == [
            (1, Decimal("99999999999999.9999"), Decimal("0.3000")),
            (2, Decimal("19.9900"), Decimal("7.0000")),
        ]
        assert margins[2] == Decimal("12.9900")  # not 12.989999999999998
    else:  # REAL: the float nearest to each amount
        assert rows == [(1, 99999999999999.9999, 0.3), (2, 19.99, 7.0)]
        assert margins[2] == pytest.approx(12.99)


# --- PostgreSQL: the upgrade of a database whose money was floating point ----------------------


@pytest.fixture
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    """A migrated PostgreSQL database (SQLite keeps REAL: there is nothing to retype)."""
    database = create_staging_engine(postgres_url)
    migrate(database)
    yield database
    database.dispose()


def test_a_float_price_column_becomes_exact_and_keeps_its_values_and_views(
    postgres_engine: Engine, shipped_mapping: Mapping
) -> None:
    engine = postgres_engine  # as migrations 0001-0014 left it: DOUBLE PRECISION
    assert column_type(engine, "stg_catalog_items", "price") == "DOUBLE PRECISION"
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO stg_catalog_items (id, identifier, price, cost, is_inactive, raw, "
            "record_hash, mapping_version, first_seen_at, loaded_at) VALUES "
            "(1, 'FW-1', 19.99, 12.345678, false, '{}', 'h', 'v', now(), now()), "
            "(2, 'SW-%%', 5, NULL, false, '{}', 'h', 'v', now(), now())"
        )
        # An analyst's own views: one with a LIKE pattern, a comment and a grant, one over
        # one of ours, and a materialized view with an index.
        connection.exec_driver_sql(
            "CREATE VIEW my_software AS SELECT identifier, price FROM stg_catalog_items "
            "WHERE identifier LIKE 'SW-%%'"
        )
        connection.exec_driver_sql("COMMENT ON VIEW my_software IS 'Finance''s list'")
        connection.exec_driver_sql("GRANT SELECT ON my_software TO PUBLIC")
        connection.exec_driver_sql(
            "CREATE FUNCTION keep_row() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN RETURN NEW; END $$"
        )
        connection.exec_driver_sql(
            "CREATE TRIGGER my_software_insert INSTEAD OF INSERT ON my_software "
            "FOR EACH ROW EXECUTE FUNCTION keep_row()"
        )
        connection.exec_driver_sql(
            "CREATE VIEW my_margins AS SELECT catalog_item_id AS id, margin * 2 AS double_margin "
            "FROM v_active_catalog"
        )
        connection.exec_driver_sql("GRANT SELECT (double_margin) ON my_margins TO PUBLIC")
        connection.exec_driver_sql(
            "CREATE MATERIALIZED VIEW my_prices AS SELECT id, price FROM stg_catalog_items"
        )
        connection.exec_driver_sql("CREATE INDEX ix_my_prices ON my_prices (price)")

    changes = ensure_schema(engine, shipped_mapping.table_specs())

    assert sorted(changes.retyped) == [
        "stg_agreements.bill_amount",
        "stg_catalog_items.cost",
        "stg_catalog_items.price",
    ]
    assert column_type(engine, "stg_catalog_items", "price") == "NUMERIC(18, 4)"
    assert query(engine, "SELECT id, price, cost FROM stg_catalog_items ORDER BY id") == [
        (1, Decimal("19.9900"), Decimal("12.3457")),
        (2, Decimal("5.0000"), None),
    ]
    assert query(engine, "SELECT * FROM my_software") == [("SW-%", Decimal("5.0000"))]
    assert query(engine, "SELECT obj_description('my_software'::regclass)") == [("Finance's list",)]
    assert query(engine, "SELECT has_table_privilege('public', 'my_software', 'SELECT')") == [
        (True,)
    ]
    assert query(
        engine, "SELECT tgname FROM pg_trigger WHERE tgrelid = 'my_software'::regclass"
    ) == [("my_software_insert",)]
    assert query(
        engine, "SELECT has_column_privilege('public', 'my_margins', 'double_margin', 'SELECT')"
    ) == [(True,)]
    # A saved view keeps the types it was written for: its constant 2 was a float.
    assert dict(query(engine, "SELECT id, double_margin FROM my_margins")) == {
        1: pytest.approx(2 * (19.99 - 12.3457)),
        2: None,
    }
    assert query(engine, "SELECT indexname FROM pg_indexes WHERE tablename = 'my_prices'") == [
        ("ix_my_prices",)
    ]
    assert query(engine, "SELECT price FROM my_prices ORDER BY id") == [
        (Decimal("19.9900"),),
        (Decimal("5.0000"),),
    ]
    again = ensure_schema(engine, shipped_mapping.table_specs())
    assert again.retyped == []


def test_a_mapping_that_keeps_number_keeps_floating_point(
    postgres_engine: Engine, mapping_document: dict[str, Any], write_mapping
) -> None:
    from connectwise.mapping.load import load_mapping

    mapping_document["entities"]["catalog_items"]["fields"]["price"]["type"] = "number"
    mapping = load_mapping(write_mapping(mapping_document))

    changes = ensure_schema(postgres_engine, mapping.table_specs())

    assert "stg_catalog_items.price" not in changes.retyped
    assert column_type(postgres_engine, "stg_catalog_items", "price") == "DOUBLE PRECISION"


def test_a_number_mapping_still_loads_into_an_exact_column(
    postgres_engine: Engine,
    shipped_mapping: Mapping,
    mapping_document: dict[str, Any],
    write_mapping,
) -> None:
    """A mapping switched back from money to number: floats go into NUMERIC as written."""
    from connectwise.mapping.load import load_mapping

    ensure_schema(postgres_engine, shipped_mapping.table_specs())  # price is NUMERIC now
    mapping_document["entities"]["catalog_items"]["fields"]["price"]["type"] = "number"
    as_number = load_mapping(write_mapping(mapping_document))

    load_catalog(postgres_engine, as_number, catalog_item(1, 12.3456, 1), run="new")
    load_catalog(  # an update goes through the merge, not the first load's COPY
        postgres_engine,
        as_number,
        catalog_item(1, 0.1, 1) | {"_info": {"lastUpdated": "2026-11-28"}},
        run="update",
    )

    assert query(postgres_engine, "SELECT price FROM stg_catalog_items") == [(Decimal("0.1000"),)]


def test_outbox_quote_line_prices_become_exact_on_upgrade(postgres_engine: Engine) -> None:
    engine = postgres_engine
    assert column_type(engine, "outbox_quote_lines", "unit_price") == "NUMERIC(18, 4)"
    with engine.begin() as connection:  # as the outbox was before money was exact
        connection.exec_driver_sql(
            "ALTER TABLE outbox_quote_lines ALTER COLUMN unit_price TYPE DOUBLE PRECISION, "
            "ALTER COLUMN unit_cost TYPE DOUBLE PRECISION"
        )
        connection.exec_driver_sql(
            "INSERT INTO outbox_quotes (id, company_id, contact_id, name) "
            "VALUES (1, 250, 2, 'Firewall')"
        )
        connection.exec_driver_sql(
            "INSERT INTO outbox_quote_lines (quote_id, line_number, product_id, unit_price, "
            "unit_cost) VALUES (1, 1, 7, 1499.5, 0.0001)"
        )

    migrate(engine)

    assert column_type(engine, "outbox_quote_lines", "unit_cost") == "NUMERIC(18, 4)"
    assert query(engine, "SELECT unit_price, unit_cost FROM outbox_quote_lines") == [
        (Decimal("1499.5000"), Decimal("0.0001"))
    ]
