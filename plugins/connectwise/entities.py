"""The entity registry: one frozen declaration per synced ConnectWise entity.

Everything else — the initial-sync order, the DAG tasks, the staging tables, the mapping
sections, the quality suites, the callback types — is derived from these entries. Adding an
entity is one entry here, one ``entities:`` section in the mapping file and one quality suite.
"""

from __future__ import annotations

import difflib
import graphlib
import heapq
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from connectwise import endpoints


@dataclass(frozen=True, slots=True)
class Reference:
    """A mapped column holding the id of a record of another entity.

    ``references`` are checked on every chunk (the target syncs first); ``links`` point at
    entities that may sync later, so they are checked across tables after a whole sync.
    """

    column: str
    entity: str


@dataclass(frozen=True, slots=True)
class Parent:
    """The entity a child is listed under, and the child's field naming its parent record."""

    entity: str
    key: str

    @property
    def staging_table(self) -> str:
        """Staging table of the parent entity."""
        return f"stg_{self.entity}"


@dataclass(frozen=True, slots=True)
class Entity:
    """How one ConnectWise collection is read, staged and checked.

    ``primary_key`` is the integer field paging orders by and reads by id with (staged as the
    ``id`` column); ``cursor_field`` the ``_info`` timestamp incremental reads compare with
    the watermark. A child entity (``parent``) is read under each parent record: its endpoint
    holds ``{parent_id}`` and it depends on its parent. ``record_filter`` names a filter of
    ``connectwise.filters.RECORD_FILTERS``.
    """

    name: str
    title: str
    endpoint: str
    group: str
    depends_on: tuple[str, ...] = ()
    primary_key: str = "id"
    cursor_field: str = "lastUpdated"
    required_columns: tuple[str, ...] = ("name",)
    references: tuple[Reference, ...] = ()
    links: tuple[Reference, ...] = ()
    callback_type: str | None = None
    record_filter: str | None = None
    parent: Parent | None = None
    optional: bool = False  # synced only when the mapping file has its section
    lookup: bool = False  # a small reference table, synced with the others in one task
    seed_order: int = 100

    @property
    def dependencies(self) -> tuple[str, ...]:
        """What syncs first: ``depends_on`` and the parent, if any."""
        if self.parent is None or self.parent.entity in self.depends_on:
            return self.depends_on
        return (*self.depends_on, self.parent.entity)

    def endpoint_for(self, parent_id: int) -> str:
        """Return the endpoint of the children of one parent record."""
        return self.endpoint.format(parent_id=parent_id)

    @property
    def staging_table(self) -> str:
        """Name of the staging table (``stg_<entity>``)."""
        return f"stg_{self.name}"

    @property
    def mapping_section(self) -> str:
        """Key of this entity's section under ``entities:`` in the mapping file."""
        return self.name

    @property
    def quality_suite(self) -> str:
        """Name of this entity's quality suite."""
        return self.name


@dataclass(frozen=True)
class Registry:
    """The validated set of entities, with their dependency order."""

    entities: Mapping[str, Entity] = field(default_factory=dict)

    @classmethod
    def of(cls, *entities: Entity) -> Registry:
        """Build a registry, checking names are unique and dependencies resolve without cycles.

        Raises:
            ValueError: a duplicate name, an unknown dependency or reference, or a cycle.
        """
        by_name: dict[str, Entity] = {}
        for entity in entities:
            if entity.name in by_name:
                raise ValueError(f"Entity {entity.name!r} is registered twice.")
            by_name[entity.name] = entity
        for entity in entities:
            _check_parent(entity)
            linked = (ref.entity for ref in (*entity.references, *entity.links))
            for needed in (*entity.dependencies, *linked):
                if needed not in by_name:
                    hint = difflib.get_close_matches(needed, by_name, n=1)
                    suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
                    raise ValueError(
                        f"Entity {entity.name!r} depends on {needed!r} which is not "
                        f"registered{suggestion}"
                    )
        for entity in entities:
            _check_lookup(entity, by_name)
        registry = cls(by_name)
        registry.in_dependency_order()  # raises graphlib.CycleError on a cycle
        return registry

    def __getitem__(self, name: str) -> Entity:
        try:
            return self.entities[name]
        except KeyError:
            hint = difflib.get_close_matches(name, self.entities, n=1)
            suggestion = f" Did you mean {hint[0]!r}?" if hint else ""
            raise KeyError(
                f"Unknown entity {name!r}.{suggestion} Known: {', '.join(self.entities)}."
            ) from None

    def __iter__(self) -> Iterator[Entity]:
        return iter(self.in_dependency_order())

    def __len__(self) -> int:
        return len(self.entities)

    def names(self) -> list[str]:
        """Entity names in dependency order."""
        return [entity.name for entity in self.in_dependency_order()]

    def in_dependency_order(self) -> list[Entity]:
        """Entities ordered so dependencies come first; ties follow the seed's order.

        Raises:
            graphlib.CycleError: the dependencies form a cycle.
        """
        graph = {entity.name: set(entity.dependencies) for entity in self.entities.values()}
        graphlib.TopologicalSorter(graph).prepare()  # cycle check with a readable error
        waiting = {name: set(needs) for name, needs in graph.items()}
        ready = [self._seed_key(name) for name, needs in waiting.items() if not needs]
        heapq.heapify(ready)
        ordered: list[Entity] = []
        while ready:
            _, name = heapq.heappop(ready)
            ordered.append(self.entities[name])
            for other, needs in waiting.items():
                if name in needs:
                    needs.discard(name)
                    if not needs:
                        heapq.heappush(ready, self._seed_key(other))
        return ordered

    def _seed_key(self, name: str) -> tuple[int, str]:
        return (self.entities[name].seed_order, name)

    def with_dependencies(self, names: list[str]) -> list[Entity]:
        """Return ``names`` plus everything they depend on, in dependency order."""
        wanted: set[str] = set()
        pending = list(names)
        while pending:
            entity = self[pending.pop()]
            if entity.name not in wanted:
                wanted.add(entity.name)
                pending.extend(entity.dependencies)
        return [entity for entity in self.in_dependency_order() if entity.name in wanted]

    def by_callback_type(self, callback_type: str) -> Entity | None:
        """Return the entity whose callbacks have ``Type == callback_type``, if any."""
        for entity in self.entities.values():
            if entity.callback_type == callback_type.lower():
                return entity
        return None


def _check_parent(entity: Entity) -> None:
    """Check that a child's endpoint names its parent's id, and only a child's does."""
    placeholder = "{parent_id}" in entity.endpoint
    if placeholder != (entity.parent is not None):
        raise ValueError(
            f"Entity {entity.name!r}: an endpoint with '{{parent_id}}' needs a parent, and a "
            f"parent needs such an endpoint (endpoint {entity.endpoint!r}, parent "
            f"{entity.parent!r})."
        )


def _check_lookup(entity: Entity, by_name: Mapping[str, Entity]) -> None:
    """Refuse a lookup that is optional or depends on a non-lookup (its task would wait)."""
    if not entity.lookup:
        return
    if entity.optional:
        raise ValueError(f"Entity {entity.name!r} is a lookup, which cannot be optional.")
    others = [name for name in entity.dependencies if not by_name[name].lookup]
    if others:
        raise ValueError(
            f"Entity {entity.name!r} is a lookup but depends on {', '.join(others)}, which "
            "are not: a lookup may depend on lookups only."
        )


REGISTRY = Registry.of(
    Entity(
        name="company_types",
        title="Company types",
        endpoint=endpoints.COMPANY_TYPES,
        group="companies",
        lookup=True,
        seed_order=10,
    ),
    Entity(
        name="company_statuses",
        title="Company statuses",
        endpoint=endpoints.COMPANY_STATUSES,
        group="companies",
        lookup=True,
        seed_order=15,
    ),
    Entity(
        name="categories",
        title="Product categories",
        endpoint=endpoints.CATEGORIES,
        group="categories",
        lookup=True,
        seed_order=20,
    ),
    Entity(
        name="subcategories",
        title="Product subcategories",
        endpoint=endpoints.SUBCATEGORIES,
        group="categories",
        depends_on=("categories",),
        references=(Reference("category_id", "categories"),),
        lookup=True,
        seed_order=25,
    ),
    Entity(
        name="contacts",
        title="Contacts",
        endpoint=endpoints.CONTACTS,
        group="contacts",
        depends_on=("company_types",),
        required_columns=("first_name", "company_id", "email", "is_inactive"),
        links=(Reference("company_id", "companies"),),
        callback_type="contact",
        record_filter="contact_company_types",
        seed_order=30,
    ),
    Entity(
        name="companies",
        title="Companies",
        endpoint=endpoints.COMPANIES,
        group="companies",
        depends_on=("company_types", "company_statuses"),
        required_columns=("identifier", "name", "company_type", "status_id", "is_deleted"),
        references=(Reference("status_id", "company_statuses"),),
        callback_type="company",
        seed_order=40,
    ),
    Entity(
        name="manufacturers",
        title="Manufacturers",
        endpoint=endpoints.MANUFACTURERS,
        group="manufacturers",
        lookup=True,
        seed_order=50,
    ),
    Entity(
        name="product_types",
        title="Product types",
        endpoint=endpoints.PRODUCT_TYPES,
        group="products",
        lookup=True,
        seed_order=55,
    ),
    Entity(
        name="catalog_items",
        title="Product catalog",
        endpoint=endpoints.CATALOG,
        group="products",
        depends_on=("categories", "subcategories", "manufacturers", "product_types"),
        required_columns=(
            "identifier",
            "description",
            "price",
            "cost",
            "category_id",
            "subcategory_id",
            "manufacturer_id",
            "product_type_id",
            "product_status",
        ),
        references=(
            Reference("category_id", "categories"),
            Reference("subcategory_id", "subcategories"),
            Reference("manufacturer_id", "manufacturers"),
            Reference("product_type_id", "product_types"),
        ),
        callback_type="productcatalog",
        seed_order=60,
    ),
    Entity(
        name="members",
        title="Members",
        endpoint=endpoints.MEMBERS,
        group="members",
        required_columns=("identifier",),
        callback_type="member",
        lookup=True,
        seed_order=70,
    ),
    Entity(
        name="opportunity_statuses",
        title="Opportunity statuses",
        endpoint=endpoints.OPPORTUNITY_STATUSES,
        group="opportunities",
        lookup=True,
        seed_order=80,
    ),
    Entity(
        name="sales_stages",
        title="Sales stages",
        endpoint=endpoints.SALES_STAGES,
        group="opportunities",
        lookup=True,
        seed_order=85,
    ),
    Entity(
        name="opportunities",
        title="Opportunities",
        endpoint=endpoints.OPPORTUNITIES,
        group="opportunities",
        depends_on=("companies", "contacts", "opportunity_statuses", "sales_stages", "members"),
        required_columns=("name", "company_id", "status_id", "stage_id", "opportunity_status"),
        references=(
            Reference("company_id", "companies"),
            Reference("status_id", "opportunity_statuses"),
            Reference("stage_id", "sales_stages"),
        ),
        links=(Reference("contact_id", "contacts"),),
        callback_type="opportunity",
        seed_order=90,
    ),
    Entity(
        name="agreement_additions",
        title="Agreement additions",
        endpoint=endpoints.AGREEMENT_ADDITIONS,
        group="agreements",
        parent=Parent("agreements", "agreementId"),
        required_columns=("agreement_id", "product_id", "quantity", "unit_price"),
        references=(Reference("agreement_id", "agreements"),),
        links=(Reference("product_id", "catalog_items"),),
        # One request per agreement: at ConnectWise's ~1,000 requests a minute, 2,000
        # agreements take over two minutes, so tenants opt in through the mapping file.
        optional=True,
        seed_order=97,
    ),
    Entity(
        name="agreements",
        title="Agreements",
        endpoint=endpoints.AGREEMENTS,
        group="agreements",
        depends_on=("companies", "contacts"),
        required_columns=("name", "company_id", "agreement_status"),
        references=(Reference("company_id", "companies"),),
        links=(Reference("contact_id", "contacts"),),
        callback_type="agreement",
        seed_order=95,
    ),
)
