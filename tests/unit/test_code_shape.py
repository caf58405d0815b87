"""Small modules with one job: no module over 400 lines, no function over 40.

A function's docstring does not count, nor does a function that only returns a data literal
(e.g. the provider's description for Airflow).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "plugins" / "connectwise"
MODULE_LINES = 400
FUNCTION_LINES = 40
FILES = sorted(PACKAGE.rglob("*.py"))


def docstring_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    first = node.body[0]
    is_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
    return first.end_lineno - first.lineno + 1 if is_doc and first.end_lineno else 0


def returns_only_data(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    statements = node.body[1:] if docstring_lines(node) else node.body
    return (
        len(statements) == 1
        and isinstance(statements[0], ast.Return | ast.Assign)
        and isinstance(statements[0].value, ast.Dict | ast.List | ast.Tuple)
    )


def long_functions(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno:
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            length = node.end_lineno - start + 1 - docstring_lines(node)
            if length > FUNCTION_LINES and not returns_only_data(node):
                found.append(f"{node.name} ({length} lines)")
    return found


def test_the_measure_counts_code_not_docstrings() -> None:
    body = "\n".join(f"    x{index} = {index}" for index in range(FUNCTION_LINES))
    doc = '    """' + "\n" * 30 + '    """\n'

    assert long_functions(f"def short():\n{doc}{body[: body.rindex(chr(10))]}\n") == []
    assert long_functions(f"def long():\n{body}\n") == ["long (41 lines)"]


@pytest.mark.parametrize("path", FILES, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_modules_and_functions_stay_small(path: Path) -> None:
    source = path.read_text(encoding="utf-8")

    assert len(source.splitlines()) <= MODULE_LINES
    assert long_functions(source) == []
