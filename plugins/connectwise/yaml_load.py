"""Read YAML configuration with libyaml's safe loader when PyYAML was built with it.

Every task reads the mapping file, and the dag-processor reads each tenant's mapping (its sync
interval) at every parse of the incremental DAG's file: the pure-Python loader takes ~35 ms a
read of the shipped mapping, libyaml a tenth of that. Errors are PyYAML's, marks included.
"""

from __future__ import annotations

from typing import Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """Return the document in ``text`` (like ``yaml.safe_load``, faster)."""
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
