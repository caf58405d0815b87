"""Pydantic models of a mapping file (``include/mappings/*.yaml``).

A mapping file says which ConnectWise fields become which staging columns, and holds the
seeds' settings: the contact filter by company type, the company-type priority, the status,
stage, category, product-type and product-terms maps, and the product defaults. Unknown keys
are errors, so a typo never silently does nothing.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from connectwise.mapping.write_back import WriteBackSettings

ColumnType = Literal["text", "integer", "number", "money", "boolean", "timestamp", "json"]
Transform = Literal[
    "default_email",
    "default_phone",
    "default_fax",
    "company_type",
    "opportunity_status",
    "sales_stage",
    "product_status",
    "category",
    "product_type",
    "product_terms",
]
OpportunityOutcome = Literal["Open", "Won", "Lost"]
ProductState = Literal["Active", "Inactive"]
SyncInterval = Literal["5m", "15m", "30m", "1h", "4h", "1d"]
ReconcileInterval = Literal["1h", "4h", "1d", "7d"]

RECONCILE_INTERVAL_HOURS: dict[str, int] = {"1h": 1, "4h": 4, "1d": 24, "7d": 168}
SYNC_INTERVAL_SCHEDULES: dict[str, str] = {
    "5m": "*/5 * * * *",
    "15m": "*/15 * * * *",
    "30m": "*/30 * * * *",
    "1h": "0 * * * *",
    "4h": "0 */4 * * *",
    "1d": "0 3 * * *",
}

# Columns every staging table has; a field map may not reuse them.
RESERVED_COLUMNS = frozenset(
    {
        "id",
        "raw",
        "last_updated",
        "record_hash",
        "mapping_version",
        "first_seen_at",
        "loaded_at",
        "deleted_at",
        "run_id",
    }
)
COLUMN_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

_STRICT = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(BaseModel):
    """Where one staging column comes from: a source path, a custom field or a transform."""

    model_config = _STRICT

    source: str | None = None
    custom_field: str | int | None = None
    transform: Transform | None = None
    type: ColumnType = "text"

    @model_validator(mode="after")
    def _exactly_one_origin(self) -> FieldSpec:
        given = [name for name in ("source", "custom_field", "transform") if getattr(self, name)]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of 'source' (a ConnectWise path such as company/id), "
                "'custom_field' (a custom field caption or id) or 'transform'"
            )
        return self


def _field_shorthand(value: object) -> object:
    # `first_name: firstName` is shorthand for `first_name: {source: firstName}`.
    return {"source": value} if isinstance(value, str) else value


FieldEntry = Annotated[FieldSpec, BeforeValidator(_field_shorthand)]


class EntityMapping(BaseModel):
    """The column map of one entity's staging table."""

    model_config = _STRICT

    fields: dict[str, FieldEntry] = Field(min_length=1)

    @field_validator("fields")
    @classmethod
    def _column_names(cls, fields: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        for column in fields:
            if column in RESERVED_COLUMNS:
                raise ValueError(
                    f"column {column!r} is reserved (every staging table has it); rename it"
                )
            if not COLUMN_NAME.match(column):
                raise ValueError(
                    f"column {column!r} must be snake_case: a lower-case letter, then letters, "
                    "digits or underscores (at most 63)"
                )
        return fields


def _comma_list(value: object) -> object:
    # The seeds write company types as "Customer, Prospect, Suspect".
    if isinstance(value, str) and value.strip().lower() != "all":
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, str):
        return "all"
    return value


class ContactFilter(BaseModel):
    """Which contacts to pull: those whose company has one of these types, or all."""

    model_config = _STRICT

    company_types: Annotated[list[str] | Literal["all"], BeforeValidator(_comma_list)] = "all"

    @property
    def is_all(self) -> bool:
        """True when every contact is pulled."""
        return self.company_types == "all"


class ProductDefaults(BaseModel):
    """Defaults for catalog items without a value and for products pushed to ConnectWise."""

    model_config = _STRICT

    product_type: str | None = None
    category: str | None = None
    shipping_product: str | None = None


class SyncSettings(BaseModel):
    """How often and how strictly to sync."""

    model_config = _STRICT

    sync_interval: SyncInterval = "15m"
    max_quarantine_ratio: float = Field(default=0.05, ge=0, le=1)
    watermark_overlap_seconds: int = Field(default=60, ge=0, le=86_400)
    load_chunk_rows: int = Field(default=5000, ge=1, le=100_000)
    load_chunk_megabytes: float = Field(default=16, gt=0, le=1024)
    reconcile_interval: ReconcileInterval = "1d"
    max_delete_ratio: float = Field(default=0.5, ge=0, le=1)

    @property
    def incremental_schedule(self) -> str:
        """The cron expression for ``sync_interval``."""
        return SYNC_INTERVAL_SCHEDULES[self.sync_interval]


class MappingConfig(BaseModel):
    """A whole mapping file."""

    model_config = _STRICT

    version_label: str = ""
    settings: SyncSettings = SyncSettings()
    contact_filter: ContactFilter = ContactFilter()
    company_type_priority: list[str] = []
    opportunity_status_map: dict[str, OpportunityOutcome] = {}
    sales_stage_map: dict[str, str] = {}
    product_status_map: dict[ProductState, str] = {"Active": "Active", "Inactive": "Inactive"}
    category_map: dict[str, str] = {}
    product_type_map: dict[str, str] = {}
    product_terms_map: dict[str, str] = {}
    defaults: ProductDefaults = ProductDefaults()
    push: WriteBackSettings = WriteBackSettings()
    entities: dict[str, EntityMapping]

    @field_validator("company_type_priority")
    @classmethod
    def _no_repeats(cls, priority: list[str]) -> list[str]:
        repeated = sorted({name for name in priority if priority.count(name) > 1})
        if repeated:
            raise ValueError(f"lists {', '.join(repeated)} more than once; list each type once")
        return priority
