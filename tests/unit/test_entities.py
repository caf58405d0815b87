"""The entity registry: its order, its validation and its lookups."""

from __future__ import annotations

import graphlib

import pytest
from connectwise.entities import REGISTRY, Entity, Parent, Reference, Registry

SEED_ORDER = [
    "company_types",
    "company_statuses",
    "categories",
    "subcategories",
    "contacts",
    "companies",
    "manufacturers",
    "product_types",
    "catalog_items",
    "members",
    "opportunity_statuses",
    "sales_stages",
    "opportunities",
    "agreements",
    "agreement_additions",
]


def make_entity(name: str, *depends_on: str, seed_order: int = 100, **fields: object) -> Entity:
    """A minimal entity declaration for registry tests."""
    return Entity(
        name=name,
        title=name.title(),
        group="test",
        depends_on=depends_on,
        seed_order=seed_order,
        **{"endpoint": f"test/{name}", **fields},  # type: ignore[arg-type]
    )


def test_registry_order_is_the_seed_order() -> None:
    assert REGISTRY.names() == SEED_ORDER


def test_registry_iterates_in_dependency_order() -> None:
    assert [entity.name for entity in REGISTRY] == REGISTRY.names()


@pytest.mark.parametrize("entity", list(REGISTRY), ids=lambda entity: entity.name)
def test_every_entity_comes_after_what_it_depends_on(entity: Entity) -> None:
    order = REGISTRY.names()
    assert all(order.index(needed) < order.index(entity.name) for needed in entity.depends_on)


@pytest.mark.parametrize("entity", list(REGISTRY), ids=lambda entity: entity.name)
def test_every_referenced_entity_syncs_first(entity: Entity) -> None:
    order = REGISTRY.names()
    for reference in entity.references:
        assert order.index(reference.entity) < order.index(entity.name)


def test_entity_derives_table_mapping_section_and_suite_from_its_name() -> None:
    contacts = REGISTRY["contacts"]
    assert (contacts.staging_table, contacts.mapping_section, contacts.quality_suite) == (
        "stg_contacts",
        "contacts",
        "contacts",
    )


def test_registry_rejects_a_name_registered_twice() -> None:
    with pytest.raises(ValueError, match="'things' is registered twice"):
        Registry.of(make_entity("things"), make_entity("things"))


def test_registry_rejects_an_unknown_dependency_and_suggests_the_close_name() -> None:
    with pytest.raises(ValueError) as caught:
        Registry.of(make_entity("company_types"), make_entity("contacts", "company_type"))
    message = str(caught.value)
    assert "'contacts' depends on 'company_type' which is not registered" in message
    assert "did you mean 'company_types'?" in message


def test_registry_rejects_an_unknown_dependency_without_a_hint_when_nothing_is_close() -> None:
    with pytest.raises(ValueError, match=r"'zebras' which is not registered$"):
        Registry.of(make_entity("contacts", "zebras"))


def test_registry_rejects_a_reference_to_an_unregistered_entity() -> None:
    orphan = make_entity("contacts", references=(Reference("company_id", "companies"),))
    with pytest.raises(ValueError, match="depends on 'companies'"):
        Registry.of(orphan)


def test_registry_rejects_a_lookup_that_waits_for_a_big_entity() -> None:
    with pytest.raises(ValueError, match="'stages' is a lookup but depends on deals, which"):
        Registry.of(make_entity("deals"), make_entity("stages", "deals", lookup=True))


def test_registry_rejects_an_optional_lookup() -> None:
    with pytest.raises(ValueError, match="'types' is a lookup, which cannot be optional"):
        Registry.of(make_entity("types", lookup=True, optional=True))


def test_lookups_share_one_task_that_waits_for_nothing_big() -> None:
    from connectwise.dag_graph import sync_units

    units = sync_units()
    assert units[0].task_id == "sync_lookups"
    assert units[0].names == [e.name for e in REGISTRY if e.lookup]
    assert [unit.task_id for unit in units[1:]] == [
        f"sync_{e.name}" for e in REGISTRY if not e.lookup
    ]


def test_registry_rejects_a_dependency_cycle() -> None:
    with pytest.raises(graphlib.CycleError):
        Registry.of(make_entity("a", "c"), make_entity("b", "a"), make_entity("c", "b"))


def test_registry_orders_independent_entities_by_seed_order_not_declaration_order() -> None:
    registry = Registry.of(make_entity("late", seed_order=30), make_entity("early", seed_order=10))
    assert registry.names() == ["early", "late"]


def test_registry_puts_a_dependency_first_even_when_its_seed_order_is_higher() -> None:
    registry = Registry.of(
        make_entity("child", "parent", seed_order=1), make_entity("parent", seed_order=50)
    )
    assert registry.names() == ["parent", "child"]


def test_with_dependencies_adds_everything_needed_in_dependency_order() -> None:
    names = [entity.name for entity in REGISTRY.with_dependencies(["catalog_items"])]
    assert names == [
        "categories",
        "subcategories",
        "manufacturers",
        "product_types",
        "catalog_items",
    ]


def test_with_dependencies_follows_dependencies_transitively() -> None:
    names = [entity.name for entity in REGISTRY.with_dependencies(["opportunities"])]
    assert names == [
        "company_types",
        "company_statuses",
        "contacts",
        "companies",
        "members",
        "opportunity_statuses",
        "sales_stages",
        "opportunities",
    ]


def test_with_dependencies_of_an_entity_without_dependencies_is_just_that_entity() -> None:
    assert [entity.name for entity in REGISTRY.with_dependencies(["members"])] == ["members"]


def test_lookup_of_an_unknown_name_suggests_a_close_name_and_lists_known_ones() -> None:
    with pytest.raises(KeyError) as caught:
        REGISTRY["contact"]
    message = str(caught.value)
    assert "Did you mean 'contacts'?" in message
    assert all(name in message for name in SEED_ORDER)


def test_with_dependencies_of_an_unknown_name_raises_the_lookup_error() -> None:
    with pytest.raises(KeyError, match="Unknown entity 'tickets'"):
        REGISTRY.with_dependencies(["tickets"])


def test_by_callback_type_is_case_insensitive() -> None:
    entity = REGISTRY.by_callback_type("ProductCatalog")
    assert entity is not None and entity.name == "catalog_items"


def test_by_callback_type_of_an_unsynced_type_is_none() -> None:
    assert REGISTRY.by_callback_type("ticket") is None


# --- parents, record filters ------------------------------------------------------------------


def test_a_child_syncs_after_its_parent_without_restating_it() -> None:
    child = make_entity(
        "lines", endpoint="test/orders/{parent_id}/lines", parent=Parent("orders", "orderId")
    )
    registry = Registry.of(child, make_entity("orders", seed_order=200))

    assert child.dependencies == ("orders",)
    assert registry.names() == ["orders", "lines"]
    assert child.parent is not None and child.parent.staging_table == "stg_orders"


@pytest.mark.parametrize(
    "fields",
    [
        {"endpoint": "test/orders/{parent_id}/lines"},  # a placeholder without a parent
        {"parent": Parent("orders", "orderId")},  # a parent without a placeholder
    ],
    ids=["placeholder-without-parent", "parent-without-placeholder"],
)
def test_a_child_declaration_must_be_whole(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"\{parent_id\}"):
        Registry.of(make_entity("lines", **fields), make_entity("orders"))


@pytest.mark.parametrize("entity", [e for e in REGISTRY if e.record_filter], ids=lambda e: e.name)
def test_every_declared_record_filter_exists(entity: Entity) -> None:
    from connectwise.filters import RECORD_FILTERS

    assert entity.record_filter in RECORD_FILTERS


def test_a_misspelt_record_filter_is_refused_rather_than_keeping_everything() -> None:
    from connectwise.filters import record_filter_for
    from connectwise.mapping.load import load_mapping

    with pytest.raises(ValueError, match="contact_company_types"):
        record_filter_for("contact_company_type", load_mapping().config)
