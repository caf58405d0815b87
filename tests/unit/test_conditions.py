"""ConnectWise ``conditions`` literals and clauses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from connectwise.client.conditions import all_of, changed_since, is_in, literal
from connectwise.values import parse_datetime


def test_literal_quotes_a_string() -> None:
    assert literal("Acme") == '"Acme"'


def test_literal_escapes_double_quotes_and_backslashes_in_a_string() -> None:
    assert literal('say "hi" \\o/') == '"say \\"hi\\" \\\\o/"'


def test_literal_renders_an_aware_utc_datetime_in_brackets_without_fractions() -> None:
    moment = datetime(2024, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)
    assert literal(moment) == "[2024-01-02T03:04:05Z]"


def test_literal_treats_a_naive_datetime_as_utc() -> None:
    assert literal(datetime(2024, 1, 2, 3, 4, 5)) == "[2024-01-02T03:04:05Z]"


def test_literal_converts_an_aware_non_utc_datetime_to_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert literal(datetime(2024, 1, 2, 5, 4, 5, tzinfo=plus_two)) == "[2024-01-02T03:04:05Z]"


def test_literal_converts_across_midnight_to_the_utc_date() -> None:
    minus_five = timezone(timedelta(hours=-5))
    assert literal(datetime(2024, 1, 1, 22, 4, 5, tzinfo=minus_five)) == "[2024-01-02T03:04:05Z]"


@pytest.mark.parametrize(("value", "rendered"), [(True, "true"), (False, "false")])
def test_literal_renders_booleans_bare(value: bool, rendered: str) -> None:
    assert literal(value) == rendered


def test_literal_renders_none_as_null() -> None:
    assert literal(None) == "null"


@pytest.mark.parametrize(("value", "rendered"), [(42, "42"), (0, "0"), (-7, "-7"), (1.5, "1.5")])
def test_literal_renders_numbers_bare(value: float, rendered: str) -> None:
    assert literal(value) == rendered


def test_all_of_parenthesises_and_joins_clauses_with_and() -> None:
    assert all_of("id > 5", 'name = "x"') == '(id > 5) and (name = "x")'


def test_all_of_skips_empty_clauses() -> None:
    assert all_of(None, "id > 5", "") == "id > 5"


def test_all_of_without_clauses_is_none() -> None:
    assert all_of(None, "") is None


def test_is_in_renders_each_value_as_a_literal() -> None:
    assert is_in("type/name", ["Customer", 'Say "x"', 3]) == (
        'type/name in ("Customer", "Say \\"x\\"", 3)'
    )


def test_changed_since_uses_greater_or_equal_so_same_second_edits_are_reread() -> None:
    moment = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert changed_since(moment) == "lastUpdated >= [2024-01-02T03:04:05Z]"


def test_parse_datetime_reads_a_z_timestamp_as_aware_utc() -> None:
    assert parse_datetime("2024-01-02T03:04:05Z") == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_parse_datetime_reads_a_date_only_value_as_utc_midnight() -> None:
    parsed = parse_datetime("2024-01-02")
    assert parsed == datetime(2024, 1, 2, tzinfo=UTC)
    assert parsed is not None and parsed.utcoffset() == timedelta(0)


def test_parse_datetime_reads_a_timestamp_without_zone_as_utc() -> None:
    assert parse_datetime("2024-01-02T03:04:05") == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_parse_datetime_keeps_the_instant_of_an_offset_timestamp() -> None:
    assert parse_datetime("2024-01-02T05:04:05+02:00") == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize("text", [None, ""])
def test_parse_datetime_of_nothing_is_none(text: str | None) -> None:
    assert parse_datetime(text) is None


def test_parse_datetime_round_trips_literal_output() -> None:
    moment = datetime(2023, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert parse_datetime(literal(moment).strip("[]")) == moment
