"""Concurrent mutation: create, update and delete records now or spread over a time span.

Mutations go through the same write path as the API (``_info`` stamps, callbacks) but act
as a UI user (``admin``), so self-suppressed callbacks still fire for them.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from simulator import words
from simulator.errors import ApiError, bad_request
from simulator.resources import REGISTRY
from simulator.writes import Scope

if TYPE_CHECKING:
    from simulator.core import Simulator

Record = dict[str, Any]
ACTOR = "admin"


def _pick(store: Any, collection: str, rng: random.Random) -> Record:
    rows = store[collection]
    return rows.get(rows.ids[rng.randrange(len(rows.ids))])


def _new_contact(store: Any, rng: random.Random, new_id: int) -> Record:
    first, last = rng.choice(words.FIRST_NAMES), rng.choice(words.LAST_NAMES)
    return {"firstName": first, "lastName": last,
            "company": {"id": _pick(store, "company/companies", rng)["id"]},
            "communicationItems": [{"type": {"id": 1}, "value": f"new{new_id}@mutation.example",
                                    "defaultFlag": True, "communicationType": "Email"}]}


def _new_opportunity(store: Any, rng: random.Random, new_id: int) -> Record:
    contact = _pick(store, "company/contacts", rng)
    while contact["company"] is None:
        contact = _pick(store, "company/contacts", rng)
    return {"name": f"Mutation deal {new_id}", "primarySalesRep": {"identifier": "admin"},
            "company": {"id": contact["company"]["id"]}, "contact": {"id": contact["id"]}}


def _new_agreement(store: Any, rng: random.Random, new_id: int) -> Record:
    body = _new_opportunity(store, rng, new_id)
    return {"name": f"Mutation agreement {new_id}", "type": {"id": 1},
            "company": body["company"], "contact": body["contact"]}


# path → (create body factory, update changes factory)
FACTORIES: dict[str, tuple[Callable[[Any, random.Random, int], Record],
                           Callable[[random.Random, Record], Record]]] = {
    "company/companies": (
        lambda _s, _r, i: {"identifier": f"Mutation{i}", "name": f"Mutation Company {i}",
                         "addressLine1": f"{i} Main St", "types": [{"id": 7}],
                         "status": {"id": 1}},
        lambda r, _rec: {"phoneNumber": f"813555{r.randint(1000, 9999)}"}),
    "company/contacts": (_new_contact,
                         lambda r, _rec: {"title": r.choice(words.TITLES)}),
    "procurement/catalog": (
        lambda s, r, i: {"identifier": f"MUT-{i}", "description": f"Mutation product {i}",
                         "subcategory": {"id": _pick(s, "procurement/subcategories", r)["id"]},
                         "type": {"id": 2}, "customerDescription": "Created by a mutation",
                         "price": float(r.randint(1, 500))},
        lambda r, _rec: {"price": round(r.uniform(1, 999), 2)}),
    "sales/opportunities": (_new_opportunity,
                            lambda r, _rec: {"notes": f"Updated note {r.randint(1, 10**6)}"}),
    "finance/agreements": (_new_agreement,
                           lambda r, _rec: {"billAmount": float(r.randint(0, 20000))}),
    "sales/activities": (
        lambda _s, _r, i: {"name": f"Mutation call {i}", "assignTo": {"identifier": "admin"}},
        lambda r, _rec: {"notes": f"Updated note {r.randint(1, 10**6)}"}),
    "procurement/manufacturers": (
        lambda _s, _r, i: {"name": f"Mutation Maker {i}"},
        lambda _r, rec: {"inactiveFlag": not rec["inactiveFlag"]}),
    "procurement/categories": (
        lambda _s, _r, i: {"name": f"Mutation Category {i}"},
        lambda _r, rec: {"inactiveFlag": not rec["inactiveFlag"]}),
    "company/companies/types": (
        lambda _s, _r, i: {"name": f"Mutation Type {i}"},
        lambda r, _rec: {"serviceAlertMessage": f"Note {r.randint(1, 999)}",
                        "serviceAlertFlag": True}),
}
SUPPORTED_PATHS = tuple(FACTORIES)


def _targets(sim: Simulator, path: str, count: int, rng: random.Random,
             exclude: set[int]) -> list[int]:
    rows = sim.store[path]
    live = [r["id"] for r in rows if r["id"] not in exclude and not r.get("deletedFlag")]
    if count > len(live):
        raise bad_request(f"Only {len(live)} records of {path} can be changed, not {count}.")
    return sorted(rng.sample(live, count))


def mutate(sim: Simulator, path: str, create: int, update: int, delete: int,
           spread_seconds: float, seed: int | None) -> dict[str, list[int]]:
    """Plan and apply a mutation; with ``spread_seconds`` apply it in the background.

    Applied at once, the answer lists what was applied, and under ``refused`` the ids of steps
    the API refused (e.g. an update of a company whose default contact an earlier step of the
    same mutation deleted). Spread out, it lists the plan, applied later.
    """
    if path not in FACTORIES:
        raise bad_request(f"Unsupported mutation path {path!r}; use one of: "
                          f"{', '.join(SUPPORTED_PATHS)}")
    rng = random.Random(seed) if seed is not None else random.Random()
    with sim.store.lock:
        deleted = _targets(sim, path, delete, rng, set())
        updated = _targets(sim, path, update, rng, set(deleted))
        created = [sim.store[path].allocate_id() for _ in range(create)]
    steps = [("create", i) for i in created] + [("update", i) for i in updated] + [
        ("delete", i) for i in deleted]
    plan = {"created": created, "updated": updated, "deleted": deleted}
    if spread_seconds <= 0:
        refused = _apply(sim, path, steps, rng, 0.0)
        applied = {key: [i for i in ids if i not in refused] for key, ids in plan.items()}
        return {**applied, "refused": sorted(refused)}
    rng.shuffle(steps)
    thread = threading.Thread(target=_apply, args=(sim, path, steps, rng,
                                                   spread_seconds / max(len(steps), 1)),
                              name="cw-mutation", daemon=True)
    sim.mutation_threads.append(thread)
    thread.start()
    return plan


def _apply(sim: Simulator, path: str, steps: list[tuple[str, int]], rng: random.Random,
           pause: float) -> set[int]:
    """Apply the steps; return the ids of those the API refused."""
    refused: set[int] = set()
    scope = Scope(REGISTRY[path])
    make_body, make_changes = FACTORIES[path]
    generation = sim.generation
    for action, record_id in steps:
        if pause:
            time.sleep(pause)
        if sim.generation != generation:
            return refused  # the simulator was reset; these ids belong to the old data
        try:
            if action == "create":
                sim.writer.create(scope, make_body(sim.store, rng, record_id), ACTOR, record_id)
            elif action == "update":
                current = sim.store[path].get(record_id)
                if current is not None:
                    sim.writer.set_fields(scope, record_id, make_changes(rng, current), ACTOR)
            else:
                sim.writer.delete(scope, record_id, ACTOR)
        except ApiError:  # the record changed under us (deleted through the API meanwhile)
            refused.add(record_id)
    return refused
