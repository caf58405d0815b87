"""Run an entity's quality checks on one mapped chunk with Great Expectations 1.x."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from connectwise.mapping.apply import Rejection
from connectwise.quality.checks import Check, CheckContext, DerivedCheck
from connectwise.quality.library import great_expectations
from connectwise.quality.suites import checks_for

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations.core import ExpectationSuite

    from connectwise.entities import Entity

Row = dict[str, Any]
log = logging.getLogger(__name__)


class QualityGate:
    """Split mapped rows of one entity into those that pass and those to quarantine.

    One ephemeral GX context per gate; the suite is built once, then each chunk is validated
    cheaply with ``BOOLEAN_ONLY`` and only a failing chunk is validated again in full to find
    the failing rows.
    """

    def __init__(self, entity: Entity, context: CheckContext) -> None:
        gx = great_expectations()
        self.entity = entity
        self.context = context
        self.checks: list[Check] = checks_for(entity)
        gx_context = gx.get_context(mode="ephemeral")
        gx_context.variables.progress_bars = {"globally": False, "metric_calculations": False}
        asset = gx_context.data_sources.add_pandas("staging").add_dataframe_asset(entity.name)
        self._batch_definition = asset.add_batch_definition_whole_dataframe("chunk")
        self._suite: ExpectationSuite = gx.ExpectationSuite(name=entity.quality_suite)
        for check in self.checks:
            self._suite.add_expectation(check.expectation(context))

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
