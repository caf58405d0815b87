"""ConnectWiseHook against the simulator over real HTTP: paging, retries, timeouts, masking."""

from __future__ import annotations

import logging
import time

import pytest
from connectwise.client.hook import ConnectWiseHook
from connectwise.client.packed import PackedPage, records_of
from connectwise.client.paging import read_pages
from connectwise.errors import ConnectWiseTransientError


def ids_of(pages) -> list[int]:
    return [int(record["id"]) for page in pages for record in page]


def test_paginate_reads_every_record_once_in_id_order(shared_simulator, cw_connection):
    cw_connection(shared_simulator, page_size=7)
    hook = ConnectWiseHook()
    truth = [record["id"] for record in shared_simulator.truth("company/contacts")]
    pages = list(hook.paginate("company/contacts"))
    assert ids_of(pages) == truth
    assert all(len(page) == 7 for page in pages[:-1])
    assert hook.count("company/contacts") == len(truth)


def test_packed_pages_hold_the_same_records_until_decoded(shared_simulator, cw_connection):
    cw_connection(shared_simulator, page_size=50)
    hook = ConnectWiseHook()
    packed = list(hook.paginate("company/contacts", packed=True))
    assert packed and all(isinstance(page, PackedPage) for page in packed)
    assert [records_of(page) for page in packed] == list(hook.paginate("company/contacts"))


def test_parallel_readers_cover_the_same_records(shared_simulator, cw_connection):
    cw_connection(shared_simulator, page_size=10, max_parallel_requests=3)
    hook = ConnectWiseHook()
    truth = sorted(record["id"] for record in shared_simulator.truth("company/contacts"))
    got = ids_of(read_pages(hook, "company/contacts", parallelism=3))
    assert sorted(got) == truth and len(got) == len(set(got))


def test_conditions_and_fields_reach_the_api(shared_simulator, cw_connection):
    cw_connection(shared_simulator)
    hook = ConnectWiseHook()
    pages = list(hook.paginate("company/companies", conditions="deletedFlag = true", fields=["id"]))
    expected = [c["id"] for c in shared_simulator.truth("company/companies") if c["deletedFlag"]]
    assert ids_of(pages) == expected
    assert all(set(record) == {"id"} for page in pages for record in page)


def test_waits_what_retry_after_says_on_429(simulator, cw_connection):
    cw_connection(simulator, max_retries=10, backoff_cap=5)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    hook = ConnectWiseHook(sleep=sleep)
    hook.discover_codebase()
    simulator.set_faults(throttle_per_minute=3, throttle_window_seconds=1, retry_after_seconds=1)
    for _ in range(6):
        hook.get_json("system/info")
    assert waits and all(wait == 1.0 for wait in waits)
    assert hook.stats.throttled == len(waits) == simulator.stats()["throttled"]


def test_hanging_response_times_out_and_is_retried(simulator, cw_connection):
    cw_connection(simulator, read_timeout=0.3, max_retries=5)
    hook = ConnectWiseHook()
    hook.discover_codebase()
    simulator.set_faults(hang_rate=0.5, hang_seconds=2, seed=3)
    for _ in range(6):
        assert hook.get_json("system/info")
    assert hook.stats.retries == simulator.stats()["faults"]["hang"] > 0


def test_persistent_5xx_gives_up_with_a_clear_transient_error(simulator, cw_connection):
    cw_connection(simulator, max_retries=2)
    hook = ConnectWiseHook()
    hook.discover_codebase()
    simulator.set_faults(error_rate=1.0)
    with pytest.raises(ConnectWiseTransientError, match=r"still failing after 3 attempts"):
        hook.get_json("company/contacts")


def test_https_is_the_default_and_http_must_be_asked_for(shared_simulator, cw_connection):
    cw_connection(shared_simulator, scheme="https")
    ok, message = ConnectWiseHook().test_connection()
    assert not ok and f"https://{shared_simulator.host}" in message


def test_private_key_never_reaches_the_log(shared_simulator, cw_connection, caplog):
    cw_connection(shared_simulator)
    caplog.set_level(logging.DEBUG)
    hook = ConnectWiseHook()
    list(hook.paginate("company/contacts"))
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert shared_simulator.private_key not in text
    assert "company/contacts" in text  # the requests were logged, without secrets
