"""The benchmark helpers: stamped sections, the assembled document, the README block, the floor."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench import report
from bench.run_all_document import (
    assemble,
    demo_summary,
    read_blocks,
    replace_readme_block,
    sections_of,
)

ROOT = Path(__file__).resolve().parents[2]
DASH = "\u2013"  # the en dash of "median (min\u2013max)"


def test_stamp_names_date_script_commit_and_machine():
    line = report.stamp("bench/incremental.py", datetime(2026, 11, 27, 9, 5, tzinfo=UTC))
    assert line.startswith("_Written 2026-11-27 09:05 UTC by `bench/incremental.py` at commit `")
    assert re.search(r"commit `[0-9a-f]{4,}( \+uncommitted changes)?`", line)
    assert f"{report.os.cpu_count()} cores" in line and "GiB RAM" in line
    assert f"Python {report.platform.python_version()}" in line


def test_only_changes_outside_the_generated_files_make_the_tree_dirty():
    assert not report.is_dirty(" M docs/benchmarks.md\n M README.md\n")
    assert report.is_dirty(" M docs/benchmarks.md\n M plugins/connectwise/entity_sync.py\n")
    assert report.is_dirty("R  bench/old.py -> bench/new.py\n")
    assert not report.is_dirty("")


def test_write_section_creates_then_replaces_a_stamped_section(tmp_path):
    doc = tmp_path / "benchmarks.md"
    report.write_section("Fault run", "first", output=doc, script="bench/fault_run.py")
    report.write_section("Push", "other", output=doc, script="bench/push.py")
    report.write_section("Fault run", "second", output=doc, script="bench/fault_run.py")
    text = doc.read_text()
    assert text.startswith(report.HEADER)
    assert "first" not in text and text.count("## Fault run") == 1
    fault = text.split("## Fault run\n\n", 1)[1]
    assert fault.startswith("_Written ") and "by `bench/fault_run.py`" in fault
    assert text.index("## Fault run") < text.index("## Push")  # replaced in place


def test_replacing_a_section_keeps_the_marker_after_it():
    text = "# B\n\n<!-- bench:x -->\n## T\n\nold\n<!-- /bench:x -->\n"
    replaced = report.replace_section(text, "T", "## T\n\nnew\n")
    assert "new" in replaced and "old" not in replaced
    assert replaced.rstrip().endswith("<!-- /bench:x -->")


@pytest.mark.parametrize(
    ("values", "digits", "expected"),
    [
        ([], 1, DASH),
        ([2.0], 1, "2.0"),
        ([3.0, 1.0, 2.0], 1, f"2.0 (1.0{DASH}3.0)"),
        ([65.0, 65.0, 65.0], 0, "65"),
        ([0.123, 0.2, 0.25], 2, f"0.20 (0.12{DASH}0.25)"),
    ],
)
def test_spread_is_median_with_min_and_max(values, digits, expected):
    assert report.spread(values, digits) == expected


def test_spread_groups_thousands_when_asked():
    assert report.spread([12345.0, 23456.0, 34567.0], 0, grouped=True) == (
        f"23,456 (12,345{DASH}34,567)"
    )


def test_nearest_rank_percentiles():
    values = [float(v) for v in range(1, 21)]  # 1..20
    assert report.percentile(values, 0.5) == 10.0
    assert report.percentile(values, 0.95) == 19.0
    assert report.percentile([4.0], 0.95) == 4.0


def test_the_document_keeps_each_scripts_block_and_lists_who_wrote_it():
    part = report.HEADER + "\n## Incremental sync\n\n_Written x by `bench/incremental.py` at_\n\nT"
    blocks = {"incremental": sections_of(part), "push": "## Write-back\n\nby `bench/push.py` x"}
    text = assemble(blocks, ["initial_sync", "incremental", "push"], quick=False)
    assert text.startswith("# Benchmarks\n")
    assert "| Incremental sync | `bench/incremental.py` | `incremental` |" in text
    assert "| Write-back | `bench/push.py` | `push` |" in text
    assert text.index("<!-- bench:incremental -->") < text.index("<!-- bench:push -->")
    assert read_blocks(text) == {name: body.strip() for name, body in blocks.items()}
    assert "Quick check" in assemble(blocks, ["push"], quick=True)


DEMO_OUTPUT = """
==> Running connectwise_initial_sync through Airflow (airflow dags test)
  progress line

==> What landed in staging (.demo/staging.db)
entity                table                          rows  deleted  quarantined
company_types         stg_company_types                 9        0            0

697 records fetched with 65 HTTP requests; 2.9 s inside the sync tasks, 16.6 s for the whole \
Airflow run.
Explore: sqlite3 .demo/staging.db 'SELECT * FROM meta_sync_runs' (run history)
"""


def test_the_demo_summary_runs_from_its_header_to_the_figures_line():
    summary = demo_summary(DEMO_OUTPUT)
    assert summary is not None
    assert summary.startswith("==> What landed in staging")
    assert summary.endswith("16.6 s for the whole Airflow run.")
    assert demo_summary("the demo failed\n") is None


def test_the_readme_demo_block_is_replaced_between_its_markers():
    readme = (ROOT / "README.md").read_text()
    summary = demo_summary(DEMO_OUTPUT)
    assert summary is not None
    updated = replace_readme_block(readme, summary, "medium")
    assert "65 HTTP requests" in updated
    assert updated.count("<!-- /demo-output -->") == 1
    assert updated.split("<!-- demo-output")[0] == readme.split("<!-- demo-output")[0]
    assert replace_readme_block(updated, summary, "medium") == updated
    with pytest.raises(ValueError, match="demo-output"):
        replace_readme_block("no block here", summary, "medium")


def test_the_floor_reads_what_the_initial_sync_reads():
    from connectwise.entities import REGISTRY

    from bench.floor import entities_read

    names = [entity.name for entity in entities_read()]
    assert names == [e.name for e in REGISTRY if not e.optional]
    with_additions = [entity.name for entity in entities_read(["agreement_additions"])]
    assert with_additions.index("agreement_additions") > with_additions.index("agreements")


def test_the_floor_counts_one_page_per_endpoint_and_every_record():
    from bench.floor import entities_read, measure_floor
    from simulator.testing import running_simulator
    from tests.support import collection_of

    with running_simulator(scale="small", seed=1) as sim:
        floor = measure_floor(sim, 2)
        expected = sum(len(sim.truth(collection_of(entity))) for entity in entities_read())
        agreements = len(sim.truth("finance/agreements"))
        with_additions = measure_floor(sim, 1, optional=["agreement_additions"], warm_up=False)
    assert len(floor.seconds) == 2 and floor.minimum <= floor.median <= floor.maximum
    assert floor.records == expected  # every entity is under 1,000 records at scale small
    assert floor.requests == len(entities_read())
    assert with_additions.requests == floor.requests + agreements


def scale_result(scale: str, task_seconds: float, wall: float, peak_mb: float):
    from bench.floor import Floor
    from bench.initial_sync import DagRun, ScaleResult
    from scripts.demo import SyncFigures

    figures = SyncFigures(1000, task_seconds, 14, frozenset({"success"}))
    runs = [DagRun(wall, figures, 90, 450.0, 1.0) for _ in range(3)]
    memory = {
        "traced": {"peak_mb": peak_mb, "preflight_requests": 36, "steps": []},
        "rss": {"rss_growth_mb": 10.0, "rss_after_imports_mb": 290.0},
    }
    return ScaleResult(scale, 14, Floor((1.0, 1.0, 1.0), 40, 1000), {"sqlite": runs}, memory)


def test_initial_sync_targets_state_the_value_and_an_honest_verdict():
    from bench.initial_sync_report import render

    text = render([scale_result("small", 1.0, 15.0, 4.0), scale_result("large", 3.0, 24.0, 6.0)], 3)
    assert "Large, SQLite, inside the sync tasks ÷ floor: 3.00" in text
    assert "(target ≤ 2.5\u00d7): **NOT met**" in text
    assert "Large, PostgreSQL, inside the sync tasks ÷ floor: not measured in this run" in text
    assert "whole `dags test` run: 24.0 s (target ≤ 25 s): **met**" in text
    assert "requests (most of any run): 90 (target ≤ floor + 2/entity + preflight = 104)" in text
    assert "tracemalloc): 1.50 (target ≤ 1.3): **NOT met**" in text


def test_linger_is_observed_only_on_runs_a_cold_change_had_to_itself():
    from bench.callback_latency_report import linger_gaps
    from bench.callback_observe import TARGETS, Change

    def change(run: str, applied: float) -> Change:
        return Change(TARGETS[0], 1, "m", drain_run=f"{run}.1", processed_at=applied)

    runs = [
        {"dag_run_id": "a", "end_date": "2026-01-01T00:00:10+00:00"},
        {"dag_run_id": "b", "end_date": "2026-01-01T00:01:40+00:00"},
    ]
    start = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    cold = [change("a", start + 5), change("b", start + 60)]
    assert linger_gaps(runs, cold, others=[change("b", start + 90)]) == [5.0]
