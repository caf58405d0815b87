"""The preflight's mapping checks: names the mapping uses, tenant values it does not cover.

Names the mapping uses must exist in the tenant (``mapping/references.py``: an error). Tenant
values it does not cover (``mapping/coverage.py``) become ``coverage`` lines of the checklist:
warnings with how many records each affects, counted with one ``/count`` per uncovered value.
They never stop a sync, and neither does a count or a read that fails.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectwise.client.checklist import CheckResult
from connectwise.errors import ConnectWiseError, ConnectWiseRequestError
from connectwise.mapping.coverage import RULES, UncoveredValue, find_uncovered
from connectwise.mapping.references import SETUP_TABLES, SetupNames, check_references

if TYPE_CHECKING:
    from connectwise.client.hook import ConnectWiseHook
    from connectwise.mapping.load import Mapping


def check_mapping(
    hook: ConnectWiseHook, mapping: Mapping, names: SetupNames | None = None
) -> list[CheckResult]:
    """Check the mapping's names against the tenant, then return its coverage warnings.

    Both read the same setup tables (``names``, shared with the checklist), each at most once.

    Raises:
        ConnectWiseMappingError: the mapping names something the tenant does not have.
    """
    names = names or SetupNames(hook)
    check_references(hook, mapping, names)
    return check_coverage(hook, mapping, names)


def check_coverage(hook: ConnectWiseHook, mapping: Mapping, names: SetupNames) -> list[CheckResult]:
    """Warn about each tenant value the mapping does not cover and some record uses.

    One ``/count`` per uncovered value, none when everything is covered. A count that fails
    still gives a warning, without the number and saying why: coverage never stops a sync.
    """
    unread: dict[str, str] = {}

    def tenant_names(table: str) -> list[str]:
        try:
            return names.of(table)
        except ConnectWiseError as exc:  # the checklist has already said what to fix
            unread[table] = _why(exc)
            return []

    uncovered = find_uncovered(mapping, tenant_names)
    warnings = [_unread_warning(table, why) for table, why in unread.items()]
    for value in uncovered:
        try:
            count = _count(hook, value)
        except ConnectWiseError as exc:
            warnings.append(_coverage_warning(value, mapping, value.describe(None, _why(exc))))
            continue
        if count:
            warnings.append(_coverage_warning(value, mapping, value.describe(count)))
    return warnings


def _count(hook: ConnectWiseHook, value: UncoveredValue) -> int:
    endpoint = f"{value.endpoint}/count"
    body = hook.get_json(endpoint, params=value.count_params())
    if not isinstance(body, dict) or not isinstance(body.get("count"), int):
        raise ConnectWiseRequestError(
            f"GET {endpoint} returned an unexpected body (no 'count').", status=200
        )
    return int(body["count"])


def _coverage_warning(value: UncoveredValue, mapping: Mapping, detail: str) -> CheckResult:
    return CheckResult(
        "coverage",
        value.name,
        f"{value.endpoint}/count",
        ok=False,
        required=False,
        detail=detail,
        fix=value.fix(mapping.config),
    )


def _unread_warning(table: str, why: str) -> CheckResult:
    setup = SETUP_TABLES[table]
    settings = " and ".join(rule.setting for rule in RULES if rule.table == table)
    return CheckResult(
        "coverage",
        setup.key,
        setup.endpoint,
        ok=False,
        required=False,
        detail=f"Could not read the {setup.key} ({why}), so {settings} was not checked",
        fix="Make the table readable (see its line in the checklist above), then rerun.",
    )


def _why(exc: ConnectWiseError) -> str:
    """Say in a few words why a read or count failed (the full message is written for a log)."""
    if isinstance(exc, ConnectWiseRequestError):
        said = f": {exc.api_message}" if exc.api_message else ""
        return f"ConnectWise answered {exc.status}{said}"
    return str(exc).split(". ", 1)[0]


def format_coverage(warnings: list[CheckResult]) -> str:
    """Render the coverage warnings for the task log."""
    header = "Mapping coverage: the sync runs; each warning says what happens to the records"
    return "\n".join([header, *(warning.line for warning in warnings)])
