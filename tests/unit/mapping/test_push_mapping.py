"""The mapping's `push` section: validated like the others, errors name the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from connectwise.errors import ConnectWiseMappingError
from connectwise.mapping.load import load_mapping

SHIPPED = Path(__file__).resolve().parents[3] / "include/mappings/connectwise.yaml"


def test_shipped_mapping_has_the_seed_write_back_settings():
    push = load_mapping(SHIPPED).config.push
    assert push.activity_member == "admin"
    assert push.agreement_mode == "new_agreement"
    assert set(push.quote_status_map) == {"draft", "sent", "approved", "declined"}
    assert push.quote_status_map["approved"].status == "Won"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "    draft: {stage: 2.Qualification, status: Open}",
            "    won: {stage: 2.Qualification, status: Open}",
            "push.quote_status_map['won']: 'won' is not allowed (use one of: draft, sent, "
            "approved or declined)",
        ),
        (
            "  activity_member: admin ",
            "  activity_membr: admin ",
            "push.activity_membr: unknown key (allowed: activity_member, activity_type,",
        ),
        (
            "  agreement_mode: new_agreement",
            "  agreement_mode: merge",
            "push.agreement_mode: 'merge' is not allowed (use one of: new_agreement or addition)",
        ),
        (
            "    source: Quote ",
            "    source: " + "S" * 60 + " ",
            "push.opportunity_defaults.source: String should have at most 50 characters",
        ),
        (
            "    sent: {stage: 3.Quote, status: Open}",
            "    sent: {stage: 3.Quote}",
            "push.quote_status_map['sent'].status: required key is missing",
        ),
    ],
)
def test_bad_push_settings_are_named_with_the_allowed_values(tmp_path, old, new, message):
    text = SHIPPED.read_text()
    assert old in text
    mapping = tmp_path / "connectwise.yaml"
    mapping.write_text(text.replace(old, new))
    with pytest.raises(ConnectWiseMappingError) as raised:
        load_mapping(mapping)
    assert message in str(raised.value)
