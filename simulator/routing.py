"""Map a URL below ``apis/3.0/`` to a resource, an operation kind and ids.

Path segments match case-insensitively: clients spell ``securityroles`` and
``securityRoles`` both (facts §7.16; route case-sensitivity UNCONFIRMED, so we accept both).
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.resources import REGISTRY, SUBCATEGORY_ROUTE, Parent, Resource

# Singleton or computed endpoints that are not plain collections.
SPECIAL = {
    ("system", "info"): "info",
    ("system", "mysecurity"): "my_security",
}


@dataclass(frozen=True, slots=True)
class Route:
    """A path pattern; ``{pid}`` stands for a parent id."""

    segments: tuple[str, ...]
    resource: Resource
    parent: Parent | None
    template: str


@dataclass(frozen=True, slots=True)
class Match:
    """A resolved request path."""

    kind: str  # list | count | item | info | my_security | role_settings | forecast
    resource: Resource | None
    template: str  # for statistics: "company/contacts/{id}"
    record_key: str | None = None
    parent: Parent | None = None
    parent_id: int | None = None


def _routes() -> list[Route]:
    routes = []
    for resource in REGISTRY.values():
        routes.append(Route(tuple(resource.path.lower().split("/")), resource, resource.parent,
                            resource.path.replace("{pid}", "{id}")))
    subcategories = REGISTRY["procurement/subcategories"]
    routes.append(Route(tuple(SUBCATEGORY_ROUTE.lower().split("/")), subcategories,
                        Parent("procurement/categories", "category"),
                        SUBCATEGORY_ROUTE.replace("{pid}", "{id}")))
    # Longest patterns first so "company/companies/types" wins over "company/companies/{id}".
    return sorted(routes, key=lambda r: -len(r.segments))


ROUTES = _routes()


def _prefix_match(pattern: tuple[str, ...], lowered: list[str]) -> int | None:
    if len(lowered) < len(pattern):
        return None
    parent_id = None
    for want, got in zip(pattern, lowered, strict=False):
        if want == "{pid}":
            if not got.isdigit():
                return None
            parent_id = int(got)
        elif want != got:
            return None
    return -1 if parent_id is None else parent_id


def match(segments: list[str]) -> Match | None:
    """Resolve path segments (after ``apis/3.0``) or return None for an unknown endpoint."""
    lowered = [s.lower() for s in segments]
    special = SPECIAL.get(tuple(lowered))
    if special is not None:
        return Match(special, None, "/".join(segments))
    if (len(lowered) == 4 and lowered[:2] == ["system", "securityroles"]
            and lowered[2].isdigit() and lowered[3] == "settings"):
        return Match("role_settings", REGISTRY["system/securityroles"],
                     "system/securityroles/{id}/settings", record_key=lowered[2])
    for route in ROUTES:
        found = _prefix_match(route.segments, lowered)
        if found is None:
            continue
        parent_id = None if found == -1 else found
        rest = segments[len(route.segments):]
        base = dict(resource=route.resource, parent=route.parent, parent_id=parent_id)
        if not rest:
            return Match("list", template=route.template, **base)
        if len(rest) == 1 and rest[0].lower() == "count":
            return Match("count", template=f"{route.template}/count", **base)
        if len(rest) == 1 and (rest[0].isdigit() or route.resource.lookup_field):
            return Match("item", template=f"{route.template}/{{id}}", record_key=rest[0], **base)
        return None
    return None
