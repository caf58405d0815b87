"""Run an entity's quality checks on one mapped chunk with Great Expectations 1.x."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from connectwise.mapping.apply import shown_value
from connectwise.quality.checks import Check, CheckContext, ColumnCheck, DerivedCheck, NotNull
from connectwise.quality.chunk_values import ColumnValues
from connectwise.quality.library import expectations, great_expectations
from connectwise.quality.suites import checks_for
from connectwise.staging.records import Rejection

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations.core import ExpectationSuite, ExpectationSuiteValidationResult
    from great_expectations.core.batch_definition import BatchDefinition

    from connectwise.entities import Entity

Row = dict[str, Any]
log = logging.getLogger(__name__)


_building = threading.Lock()
# GX keeps a batch's data in the data source's one execution engine under the batch's id, and
# every chunk of an entity has the same id: two chunks validated at once (PostgreSQL loads two
# in parallel) would each be checked against whichever was stored last.
_validating = threading.Lock()


@functools.cache
def data_source() -> Any:
    """One in-memory GX context and pandas data source per process.

    A warm worker builds it before it forks (``connectwise.warm``), so each task inherits it.
    """
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        progress_bars={"globally": False, "metric_calculations": False},
    )
    gx_context = great_expectations().get_context(mode="ephemeral", project_config=config)
    # An ephemeral context keeps its config in memory, yet "saves" it on every change (a YAML
    # dump of all of it, environment substitution included): most of the ~10 ms a task spent
    # adding its entity's asset and batch definition. Nothing reads that copy.
    gx_context._save_project_config = _nothing
    return gx_context.data_sources.add_pandas("staging")


def _nothing() -> None:
    return None


DERIVED_COLUMN = "_derived_checks_pass"


@functools.cache
def _validation_target(entity: Entity) -> tuple[BatchDefinition, ExpectationSuite]:
    """Return the batch definition and suite of ``entity``, built once per process.

    Each column check is one expectation; the derived checks (e.g. references, mapped values,
    e-mails) are evaluated in Python and checked as one boolean column, since GX's cost per
    validation grows with the number of expectations (~4 ms each), not with the rows.
    """
    with _building:
        gx = great_expectations()
        source = data_source()
        # Unique asset names: tests build variants of an entity under the same name.
        asset = source.add_dataframe_asset(f"{entity.name}-{len(source.assets)}")
        suite = gx.ExpectationSuite(name=entity.quality_suite)
        checks = checks_for(entity)
        for check in checks:
            if isinstance(check, ColumnCheck):
                suite.add_expectation(check.expectation())
        if any(isinstance(check, DerivedCheck) for check in checks):
            suite.add_expectation(
                expectations().ExpectColumnValuesToBeInSet(column=DERIVED_COLUMN, value_set=[True])
            )
        return asset.add_batch_definition_whole_dataframe("chunk"), suite


def prepare_suites(entities: Iterable[Entity]) -> int:
    """Build the suites of ``entities`` now (importing GX once); return the expectation count.

    The preflight calls this so a broken Great Expectations install fails before any sync, and
    so the sync tasks that share its process (``airflow dags test``) find their suites built.
    """
    return sum(len(_validation_target(entity)[1].expectations) for entity in entities)


class QualityGate:
    """Split mapped rows of one entity into those that pass and those to quarantine.

    A chunk is checked through :class:`ChunkChecks`, which keeps only the values the checks
    need. It is validated cheaply with ``BOOLEAN_ONLY``; only a failing chunk is validated
    again in full to find the failing rows and every reason of each.
    """

    def __init__(self, entity: Entity, context: CheckContext) -> None:
        self.entity = entity
        self.context = context
        self.checks: list[Check] = checks_for(entity)
        self.column_checks = [c for c in self.checks if isinstance(c, ColumnCheck)]
        self.derived_checks = [c for c in self.checks if isinstance(c, DerivedCheck)]
        self._batch_definition, self._suite = _validation_target(entity)

    def chunk_checks(self) -> ChunkChecks:
        """Start gathering the values of one chunk's checks."""
        return ChunkChecks(self)

    def split(self, rows: list[Row]) -> tuple[list[Row], list[Rejection]]:
        """Return (rows that pass every check, rejections with every reason of each row)."""
        if not rows:
            return [], []
        checks = self.chunk_checks()
        checks.add(rows)
        failures = checks.failures()
        passed_rows = [row for index, row in enumerate(rows) if index not in failures]
        return passed_rows, [
            self.rejection(rows[index], failed) for index, failed in sorted(failures.items())
        ]

    def failures(
        self, frame: pd.DataFrame, derived: dict[int, list[Check]]
    ) -> dict[int, list[Check]]:
        """Validate ``frame``; return each failing row's position and failed checks, in order.

        ``derived`` holds the derived checks each row failed (GX saw them as one column).
        """
        if self._validate(frame, "BOOLEAN_ONLY").success:
            return {}
        result = self._validate(frame, "COMPLETE")
        failures: dict[int, list[Check]] = {
            position: list(checks) for position, checks in derived.items()
        }
        for check, outcome in zip(self.column_checks, result.results, strict=False):
            for position in outcome.result.get("unexpected_index_list") or []:
                failures.setdefault(int(position), []).append(check)
        return {
            position: sorted(checks, key=self.checks.index) for position, checks in failures.items()
        }

    def _validate(
        self, frame: pd.DataFrame, result_format: str
    ) -> ExpectationSuiteValidationResult:
        """Validate ``frame`` alone, and let GX forget it afterwards.

        GX caches each batch's data until a batch with the same id replaces it, and every metric
        it computed (a boolean series per row and check among them) for good: without
        forgetting, every entity's last chunk would stay in memory for the life of the process.
        """
        with _validating:
            batch = self._batch_definition.get_batch(batch_parameters={"dataframe": frame})
            try:
                return batch.validate(self._suite, result_format=result_format)
            finally:
                engine = batch.data.execution_engine
                engine.batch_manager.batch_data_cache.pop(batch.id, None)
                engine.batch_manager.batch_cache.pop(batch.id, None)
                engine._metric_cache.clear()

    def rejection(self, row: Row, failed: list[Check]) -> Rejection:
        """Every reason of a failing row; its problems (one per check) say what to group by."""
        findings = [check.finding(row, self.context) for check in failed]
        value = next((item.value for item in findings if item.value is not None), None)
        return Rejection(
            record_id=row.get("id"),
            check=",".join(dict.fromkeys(check.name for check in failed)),
            reason="; ".join(item.reason for item in findings),
            payload=row["raw"],
            problem="; ".join(item.problem for item in findings),
            value=shown_value(value),
        )


class ChunkChecks:
    """What one chunk's checks need, gathered part by part; the rows themselves are not kept.

    Column checks keep their column's values (:class:`ColumnValues`: numbers typed, and only
    where values are missing for a column checked for nothing else); derived checks decide
    each part's rows as they come (one verdict a row, and which failed, where one did),
    except those that decide a whole chunk at once (``DerivedCheck.per_chunk``: references,
    one lookup in staging for the chunk), which keep their column's values until
    :meth:`failures`. A chunk of 5,000 rows is then tens of kilobytes, and Great Expectations still
    validates the whole chunk at once (its cost per validation is mostly fixed). Positions
    count the chunk's rows in the order they came.
    """

    def __init__(self, gate: QualityGate) -> None:
        self._gate = gate
        self._columns = {
            column: ColumnValues(presence_only=_presence_only(gate.column_checks, column))
            for column in dict.fromkeys(check.column for check in gate.column_checks)
        }
        self._per_row = [check for check in gate.derived_checks if not check.per_chunk]
        self._per_chunk = {
            check: ColumnValues() for check in gate.derived_checks if check.per_chunk
        }
        self._derived_failed: dict[int, list[Check]] = {}
        self.rows = 0

    def add(self, rows: list[Row]) -> None:
        """Take the checked values of ``rows`` (the next rows of the chunk)."""
        for column, values in self._columns.items():
            values.extend([row.get(column) for row in rows])
        for check, values in self._per_chunk.items():
            values.extend([row.get(check.column) for row in rows])
        verdicts = [
            check.verdicts([row.get(check.column) for row in rows], self._gate.context)
            for check in self._per_row
        ]
        self._note_failed(self._per_row, verdicts, self.rows)
        self.rows += len(rows)

    def failures(self) -> dict[int, list[Check]]:
        """Validate the chunk: each failing row's position and its failed checks, in order."""
        if not self.rows:
            return {}
        if self._per_chunk:
            checks = list(self._per_chunk)
            context = self._gate.context
            verdicts = [
                check.verdicts(self._per_chunk[check].values(), context) for check in checks
            ]
            self._per_chunk.clear()
            self._note_failed(checks, verdicts, 0)
        return self._gate.failures(self._frame(), self._derived_failed)

    def _note_failed(
        self, checks: list[DerivedCheck], verdicts: list[list[bool]], start: int
    ) -> None:
        for position, outcomes in enumerate(zip(*verdicts, strict=True), start=start):
            if not all(outcomes):
                failed = [check for check, ok in zip(checks, outcomes, strict=True) if not ok]
                self._derived_failed.setdefault(position, []).extend(failed)

    def _frame(self) -> pd.DataFrame:
        import numpy as np
        import pandas as pd  # loaded with Great Expectations; named here for the type

        data: dict[str, Any] = {column: kept.column() for column, kept in self._columns.items()}
        if self._gate.derived_checks:
            passed = np.ones(self.rows, dtype=bool)
            passed[list(self._derived_failed)] = False
            data[DERIVED_COLUMN] = passed
        return pd.DataFrame(data)


def _presence_only(checks: list[ColumnCheck], column: str) -> bool:
    """Tell whether ``column`` is only checked for having a value (its values need not be kept)."""
    return all(isinstance(check, NotNull) for check in checks if check.column == column)
