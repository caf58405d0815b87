"""Run an entity's quality checks on one mapped chunk with Great Expectations 1.x."""

from __future__ import annotations

import functools
import logging
import threading
from typing import TYPE_CHECKING, Any

from connectwise.mapping.apply import Rejection
from connectwise.quality.checks import Check, CheckContext, DerivedCheck
from connectwise.quality.library import great_expectations
from connectwise.quality.suites import checks_for

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations.core import ExpectationSuite
    from great_expectations.core.batch_definition import BatchDefinition

    from connectwise.entities import Entity

Row = dict[str, Any]
log = logging.getLogger(__name__)


_building = threading.Lock()


@functools.cache
def _data_source() -> Any:
    """One ephemeral GX context and pandas data source per process (creating one costs ~15 ms)."""
    gx_context = great_expectations().get_context(mode="ephemeral")
    gx_context.variables.progress_bars = {"globally": False, "metric_calculations": False}
    return gx_context.data_sources.add_pandas("staging")


@functools.cache
def _validation_target(entity: Entity) -> tuple[BatchDefinition, ExpectationSuite]:
    """Return the batch definition and suite of ``entity``, built once per process.

    A suite depends only on the entity's declared checks: each expectation is built from its
    check alone (mapped-value and reference checks are derived in pandas, see ``checks``).
    """
    with _building:
        gx = great_expectations()
        source = _data_source()
        # Unique asset names: tests build variants of an entity under the same name.
        asset = source.add_dataframe_asset(f"{entity.name}-{len(source.assets)}")
        suite = gx.ExpectationSuite(name=entity.quality_suite)
        for check in checks_for(entity):
            suite.add_expectation(check.expectation())
        return asset.add_batch_definition_whole_dataframe("chunk"), suite


class QualityGate:
    """Split mapped rows of one entity into those that pass and those to quarantine.

    Each chunk is validated cheaply with ``BOOLEAN_ONLY``; only a failing chunk is validated
    again in full to find the failing rows.
    """

    def __init__(self, entity: Entity, context: CheckContext) -> None:
        self.entity = entity
        self.context = context
        self.checks: list[Check] = checks_for(entity)
        self._batch_definition, self._suite = _validation_target(entity)

    def split(self, rows: list[Row]) -> tuple[list[Row], list[Rejection]]:
        """Return (rows that pass every check, rejections with every reason of each row)."""
        if not rows:
            return [], []
        frame = self._frame(rows)
        batch = self._batch_definition.get_batch(batch_parameters={"dataframe": frame})
        if batch.validate(self._suite, result_format="BOOLEAN_ONLY").success:
            return rows, []
        result = batch.validate(self._suite, result_format="COMPLETE")
        reasons: dict[int, list[tuple[str, str]]] = {}
        for check, outcome in zip(self.checks, result.results, strict=True):
            if outcome.success:
                continue
            for position in outcome.result.get("unexpected_index_list") or []:
                value = rows[int(position)].get(check.column)
                reasons.setdefault(int(position), []).append((check.name, check.explain(value)))
        passed = [row for index, row in enumerate(rows) if index not in reasons]
        rejected = [
            Rejection(
                record_id=rows[index].get("id"),
                check=",".join(dict.fromkeys(name for name, _ in found)),
                reason="; ".join(text for _, text in found),
                payload=rows[index]["raw"],
            )
            for index, found in sorted(reasons.items())
        ]
        return passed, rejected

    def _frame(self, rows: list[Row]) -> pd.DataFrame:
        import pandas as pd  # loaded with Great Expectations; named here for the type

        data: dict[str, list[Any]] = {}
        for check in self.checks:
            if isinstance(check, DerivedCheck):
                data[check.flag_column] = [
                    check.passes(row.get(check.column), self.context) for row in rows
                ]
            else:
                data[check.column] = [row.get(check.column) for row in rows]
        return pd.DataFrame(data)
