"""Imports a long-lived Airflow process makes once, so every task forked from it starts warm.

Each task instance is a process forked from an executor's worker. A sync task needs pandas,
Great Expectations (about 3 s to import) and the sync loop; imported here, in the worker,
before it forks, every task inherits them copy-on-write instead of importing them again; the
same goes for the quality gate's Great Expectations context.

LocalExecutor (``airflow standalone``, the scheduler): ``[core] mp_start_method = forkserver``
and ``[core] mp_forkserver_preload = connectwise.warm``. Celery workers: see
``connectwise.celery_config``.
"""

from __future__ import annotations

from connectwise.quality.library import expectations, great_expectations

great_expectations()
expectations()

import pandas  # noqa: E402,F401 - imported for its side effect: loaded once, inherited by tasks
from airflow.sdk.execution_time import supervisor, task_runner  # noqa: E402,F401

from connectwise import callback_tasks, entity_sync, jobs, tasks  # noqa: E402,F401
from connectwise.quality.gate import data_source  # noqa: E402

data_source()  # Great Expectations' context, built once here instead of in every task

# The e-mail check's table of Unicode domain mappings (~0.4 MB), which the validator loads at
# the first domain that is not ASCII: inherited like the rest rather than loaded mid-sync.
import idna.uts46data  # noqa: E402,F401
