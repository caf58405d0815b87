"""What the DAG list and DAG docs show: a one-line description, and links that lead somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
CONSOLE = "/connectwise-console/"
LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
GUIDE_PATH = re.compile(r"^/connectwise-console/docs/([a-z0-9][a-z0-9_-]*)$")


TENANTS_ONLY = {"connectwise_tenants"}  # built only with a tenants file (test_tenant_dags.py)


def dag_ids() -> list[str]:
    files = (ROOT / "dags").glob("connectwise_*.py")
    return sorted(path.stem for path in files if path.stem not in TENANTS_ONLY)


def test_every_dag_file_is_covered(dagbag):
    assert set(dag_ids()) == {dag_id for dag_id in dagbag.dags if dag_id.startswith("connectwise")}


@pytest.mark.parametrize("dag_id", dag_ids())
def test_dag_has_a_one_line_description(dagbag, dag_id):
    description = dagbag.dags[dag_id].description
    assert description, f"{dag_id} has no description: the DAG list would show its name only"
    assert "\n" not in description and len(description) <= 90, description


@pytest.mark.parametrize("dag_id", dag_ids())
def test_doc_links_point_at_guides_that_exist_or_the_console(dagbag, dag_id):
    doc = dagbag.dags[dag_id].doc_md
    links = LINK.findall(doc)
    assert links, f"{dag_id}'s docs link nowhere"
    for text, target in links:
        if target == CONSOLE:
            continue
        guide = GUIDE_PATH.match(target)
        assert guide, f"{dag_id}: [{text}]({target}) is neither a guide nor the console"
        assert (DOCS / f"{guide[1]}.md").is_file(), f"{dag_id}: {target} has no docs/*.md"


@pytest.mark.parametrize("dag_id", dag_ids())
def test_docs_are_not_named_as_plain_file_paths(dagbag, dag_id):
    doc = LINK.sub("", dagbag.dags[dag_id].doc_md)
    assert not re.search(r"docs/[\w-]+\.md", doc), f"{dag_id} names a guide without linking it"


def test_the_write_back_dag_links_the_write_back_guide(dagbag):
    targets = [target for _, target in LINK.findall(dagbag.dags["connectwise_push"].doc_md)]
    assert "/connectwise-console/docs/write-back" in targets
