"""The ``push`` section of a mapping file: how outbox rows become ConnectWise records.

Names (member identifier, stages, statuses, types, billing terms) are ConnectWise's own; the
push run resolves them against the tenant before it writes anything and fails with the key
when one is unknown. See docs/mapping.md ("Write-back") and docs/write-back.md.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

QuoteStatus = Literal["draft", "sent", "approved", "declined"]
AgreementMode = Literal["new_agreement", "addition"]
BillCustomer = Literal["Billable", "DoNotBill", "NoCharge"]

_STRICT = ConfigDict(extra="forbid", frozen=True)


class OpportunityMove(BaseModel):
    """Where a quote status puts its opportunity: a sales stage and an opportunity status."""

    model_config = _STRICT

    stage: str = Field(min_length=1, max_length=50)
    status: str = Field(min_length=1, max_length=30)


class OpportunityDefaults(BaseModel):
    """The Salesbuildr seed's "Verify your defaults": values of a new opportunity."""

    model_config = _STRICT

    sales_rep: str | None = Field(default=None, min_length=1, max_length=15)
    stage: str | None = Field(default=None, min_length=1, max_length=50)
    source: str | None = Field(default=None, max_length=50)  # API limit (facts §7.11)
    billing_terms: str | None = Field(default=None, min_length=1, max_length=50)


class WriteBackSettings(BaseModel):
    """Settings of the ``connectwise_push`` DAG."""

    model_config = _STRICT

    # The Mindmatrix seed's "Member ID": to-dos become activities assigned to this member.
    activity_member: str | None = Field(default=None, min_length=1, max_length=15)
    activity_type: str | None = Field(default=None, min_length=1, max_length=50)
    activity_open_status: str = Field(default="Open", min_length=1, max_length=30)
    activity_closed_status: str = Field(default="Closed", min_length=1, max_length=30)
    opportunity_defaults: OpportunityDefaults = OpportunityDefaults()
    quote_status_map: dict[QuoteStatus, OpportunityMove] = {}
    agreement_mode: AgreementMode = "new_agreement"
    agreement_type_map: dict[str, str] = {}
    default_agreement_type: str | None = Field(default=None, min_length=1, max_length=50)
    addition_bill_customer: BillCustomer = "Billable"
    batch_rows: int = Field(default=200, ge=1, le=5000)
    max_attempts: int = Field(default=5, ge=1, le=100)
    # Wait before trying a row whose write may have been applied (5xx, lost response) again;
    # doubles with each attempt, so the default 5 attempts span about 75 minutes of outage.
    retry_delay_seconds: int = Field(default=300, ge=0, le=86_400)
