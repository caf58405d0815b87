"""Great Expectations and pandas, imported on first use and with their INFO chatter lowered.

Importing Great Expectations costs about 3 s and logs some 200 INFO lines ("Skipping
registering function ..."), so only the tasks that check records import it, once per
process, with its loggers set to WARNING *before* the import so task logs keep our lines.
"""

from __future__ import annotations

import functools
import logging
from types import ModuleType

# Libraries that log routine INFO lines while importing or validating.
NOISY_LOGGERS = ("great_expectations", "altair", "matplotlib", "numexpr", "tzlocal")


def quiet_libraries() -> None:
    """Lower the noisy libraries' loggers to WARNING (idempotent).

    Some Great Expectations modules set their own logger to INFO when imported, so loggers
    that already exist under a noisy name are lowered too; call again after an import.
    """
    existing = [
        name for name in logging.Logger.manager.loggerDict if name.startswith(NOISY_LOGGERS)
    ]
    for name in (*NOISY_LOGGERS, *existing):
        logging.getLogger(name).setLevel(logging.WARNING)


@functools.cache
def great_expectations() -> ModuleType:
    """Return the ``great_expectations`` package, imported quietly on first call."""
    quiet_libraries()
    import great_expectations as gx

    quiet_libraries()
    return gx


@functools.cache
def expectations() -> ModuleType:
    """Return ``great_expectations.expectations`` (the expectation classes)."""
    great_expectations()
    import great_expectations.expectations as gxe

    return gxe
