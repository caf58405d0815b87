"""Assemble docs/benchmarks.md from the scripts' sections, and the README's demo output block.

Each script's sections sit between ``<!-- bench:NAME -->`` markers, so ``bench/run_all.py
--only NAME`` replaces one script's sections and keeps the others as they were.
"""

from __future__ import annotations

import re

from scripts.demo import SUMMARY_HEADER

BLOCK = re.compile(
    r"^<!-- bench:(?P<name>[\w-]+) -->\n(?P<body>.*?)\n<!-- /bench:(?P=name) -->$", re.S | re.M
)
README_BLOCK = re.compile(r"^<!-- demo-output\b.*?-->\n.*?^<!-- /demo-output -->$", re.S | re.M)
SCRIPT = re.compile(r"by `(?P<script>[\w./-]+\.py)`")


def sections_of(text: str) -> str:
    """The ``## `` sections of a part file (everything from the first heading on)."""
    found = re.search(r"^## ", text, re.M)
    return text[found.start() :].strip() if found else ""


def read_blocks(text: str) -> dict[str, str]:
    """The marked blocks of an existing document, by name."""
    return {match["name"]: match["body"].strip() for match in BLOCK.finditer(text)}


def header(blocks: dict[str, str], order: list[str], *, quick: bool, demo: str) -> str:
    """The title, how the file is made, and which script writes which section."""
    rows = []
    for name in order:
        body = blocks.get(name, "")
        script = SCRIPT.search(body)
        for title in re.findall(r"^## (.+)$", body, re.M):
            rows.append(f"| {title} | `{script['script'] if script else '?'}` | `{name}` |")
    rows.append(
        f"| README, quick-start output | `scripts/demo.py` (DEMO_SCALE={demo}), placed by "
        "`bench/run_all.py` | `demo` |"
    )
    lines = [
        "# Benchmarks",
        "",
        "Every figure in this file is written by `bench/run_all.py` "
        "(`.venv/bin/python bench/run_all.py`), which runs the scripts below in this order, "
        "each in a process of its own, and rewrites the file from scratch; no line is written "
        "by hand. Each section opens with the date (UTC), commit and machine of its own run; "
        "`bench/run_all.py --only NAME` reruns one script's sections in place.",
    ]
    if quick:
        lines += [
            "",
            "**Quick check** (`--quick`: scale small, one repeat, short runs): these figures "
            "check that the scripts work end to end; they are not the benchmark.",
        ]
    return "\n".join(
        [*lines, "", "| section | written by | `--only` name |", "|---|---|---|", *rows]
    )


def assemble(blocks: dict[str, str], order: list[str], *, quick: bool, demo: str = "medium") -> str:
    """The whole document: the header, then each script's marked block in ``order``."""
    parts = [header(blocks, order, quick=quick, demo=demo)]
    for name in order:
        if blocks.get(name):
            parts.append(f"<!-- bench:{name} -->\n{blocks[name].strip()}\n<!-- /bench:{name} -->")
    return "\n\n".join(parts) + "\n"


def demo_summary(output: str) -> str | None:
    """The demo's summary: from its "What landed" header to its figures line."""
    lines = output.splitlines()
    if SUMMARY_HEADER not in lines:
        return None
    start = lines.index(SUMMARY_HEADER)
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("Explore:")), len(lines))
    return "\n".join(lines[start:end]).strip()


def replace_readme_block(readme: str, summary: str, scale: str) -> str:
    """README text with its demo output block replaced by ``summary``.

    Raises:
        ValueError: the README has no ``<!-- demo-output`` … ``<!-- /demo-output -->`` block.
    """
    block = (
        f"<!-- demo-output: written by bench/run_all.py from scripts/demo.py "
        f"(DEMO_SCALE={scale}) -->\n```\n{summary}\n```\n<!-- /demo-output -->"
    )
    if not README_BLOCK.search(readme):
        raise ValueError("README has no <!-- demo-output ... --> ... <!-- /demo-output --> block")
    return README_BLOCK.sub(lambda _match: block, readme, count=1)
