"""Policy simulation: the orders of a past period replayed under a draft beside the active policy, with today's
stock and network, capacity counted day by day within the replay; the figures, the API and the page."""

import json
import zoneinfo
from datetime import datetime, time, timedelta
from types import SimpleNamespace

import pytest

from fulfillment.models import RoutingPolicy, RoutingSimulation
from fulfillment.services import simulation as service
from fulfillment.services.simulation import run_simulation, start_simulation
from fulfillment.tasks import run_simulation_task
from inventory.geo import haversine_km
from inventory.sourcing import today_for
from oms.actors import Actor
from oms.api.scope import Scope
from oms.models import Role
from tests import factories
from tests.conftest import make_api_client
from tests.orders.support import build_shop, order_body, stock

pytestmark = pytest.mark.django_db

API = "/api/v1/routing/simulations/"
PAGE = "/fulfillment/routing/"
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
CUSTOMER = {"name": "Jane Doe", "postal_code": "75011", "country": "FR", "latitude": 48.8589, "longitude": 2.3795}
WH_AT, PAR_AT, MRS_AT = (45.7640, 4.8357), (48.8566, 2.3522), (43.2965, 5.3698)  # Lyon, Paris, Marseille

STORES_FIRST = {"objectives": ["fewest_shipments", "stores_first", "nearest"]}


@pytest.fixture
def net(tenant):
    """A web channel sourcing from a warehouse in Lyon, then stores in Paris and Marseille (which ship and hand
    over pickups); products A and B everywhere, C nowhere."""
    wh = factories.LocationFactory(
        tenant=tenant, code="WH", kind="warehouse", latitude=WH_AT[0], longitude=WH_AT[1], ships=True
    )
    par = factories.LocationFactory(
        tenant=tenant, code="PAR", kind="store", latitude=PAR_AT[0], longitude=PAR_AT[1], ships=True, pickup=True
    )
    mrs = factories.LocationFactory(
        tenant=tenant, code="MRS", kind="store", latitude=MRS_AT[0], longitude=MRS_AT[1], ships=True, pickup=True
    )
    channel = factories.ChannelFactory(tenant=tenant, code="WEB")
    for priority, location in enumerate((wh, par, mrs)):
        factories.ChannelLocationFactory(tenant=tenant, channel=channel, location=location, priority=priority)
    a, b, c = (factories.ProductFactory(tenant=tenant, sku=sku) for sku in ("A", "B", "C"))
    for location in (wh, par, mrs):
        stock(tenant, a, location, 50)
        stock(tenant, b, location, 50)
    today = today_for(tenant)
    return SimpleNamespace(
        tenant=tenant, channel=channel, wh=wh, par=par, mrs=mrs, a=a, b=b, c=c, day1=today - timedelta(days=10)
    )


def _order(net, *lines, day=None, hour=12, method="ship", address=None, pickup=None, status="placed"):
    """An order of the channel placed at `hour` (Paris time) on `day` with (product, quantity) lines."""
    day = day or net.day1
    order = factories.OrderFactory(
        tenant=net.tenant,
        channel=net.channel,
        delivery_method=method,
        shipping_address=CUSTOMER if address is None else address,
        pickup_location=pickup,
        status=status,
        placed_at=datetime.combine(day, time(hour), tzinfo=PARIS),
    )
    for product, quantity in lines:
        factories.OrderLineFactory(tenant=net.tenant, order=order, product=product, quantity=quantity)
    return order


def _manager(tenant):
    return Scope(tenant=tenant, actor=Actor.system("tests"), role=Role.MANAGER)


def _simulate(net, draft, *, date_from=None, date_to=None):
    """Start a simulation and run it here, as the routing worker would; its results."""
    started = start_simulation(
        scope=_manager(net.tenant),
        draft=draft,
        date_from=date_from or net.day1,
        date_to=date_to or net.day1 + timedelta(days=1),
    )
    assert run_simulation(started.id) == service.RAN
    started.refresh_from_db()
    assert started.status == RoutingSimulation.Status.DONE, started.error
    return started.results


def _location(results, code):
    return next(row for row in results["locations"] if row["location"] == code)


# --- the replay ------------------------------------------------------------------------------------------------


def test_a_draft_preferring_stores_moves_orders_from_the_warehouse_to_the_nearest_store(net):
    orders = [_order(net, (net.a, 1)) for _ in range(3)]

    results = _simulate(net, STORES_FIRST)

    assert results["replay"]["orders"] == 3 and results["active"]["orders"] == results["draft"]["orders"] == 3
    assert _location(results, "WH")["active"]["orders"] == 3 and _location(results, "WH")["draft"]["orders"] == 0
    assert _location(results, "PAR")["draft"]["orders"] == 3 and _location(results, "PAR")["difference"]["orders"] == 3
    assert results["changed"]["orders"] == 3
    assert [(c["number"], c["active"], c["draft"]) for c in results["changed"]["first"]] == [
        (order.number, ["WH"], ["PAR"]) for order in orders
    ]
    # Lyon is ~390 km from the customer, the Paris store ~2 km: the draft brings the goods much nearer.
    assert results["active"]["distance"]["mean_km"] > 380 > 5 > results["draft"]["distance"]["mean_km"]
    assert results["difference"]["mean_km"] < -375


def test_the_mean_distance_is_per_shipment_over_the_orders_whose_destination_is_known(net):
    _order(net, (net.a, 1))
    _order(net, (net.a, 1), address={"name": "Abroad", "postal_code": "1000", "country": "BE"})

    results = _simulate(net, STORES_FIRST)

    expected = round(haversine_km((CUSTOMER["latitude"], CUSTOMER["longitude"]), WH_AT), 1)
    assert results["active"]["distance"] == {"mean_km": expected, "orders": 1, "shipments": 1}
    assert results["replay"]["with_destination"] == 1 and results["replay"]["without_destination"] == 1
    assert results["active"]["shipments"] == 2  # the order without a destination is still routed


def test_a_draft_that_splits_raises_the_split_rate_and_the_shipments_per_order(net):
    stock(net.tenant, net.b, net.par, 0)
    stock(net.tenant, net.b, net.mrs, 0)
    _order(net, (net.a, 1), (net.b, 1))  # only the warehouse has both
    _order(net, (net.a, 1))

    # Stores first before fewest shipments: the Paris store takes A, and B must come from the warehouse.
    results = _simulate(net, {"objectives": ["stores_first", "nearest", "fewest_shipments"]})

    assert results["active"]["split_rate"] == 0 and results["active"]["shipments_per_order"] == 1
    assert results["draft"]["split_orders"] == 1 and results["draft"]["split_rate"] == 0.5
    assert results["draft"]["shipments_per_order"] == 1.5
    assert results["difference"]["split_rate"] == 0.5 and results["difference"]["shipments"] == 1


def test_capacity_is_counted_per_day_within_the_replay_and_a_policy_ignoring_it_overloads(net):
    net.wh.daily_capacity = 2
    net.wh.save()
    first_day = [_order(net, (net.a, 1), hour=9 + i) for i in range(3)]
    _order(net, (net.a, 1), day=net.day1 + timedelta(days=1))

    results = _simulate(net, {"eligibility": {"daily_capacity": False}})

    wh = _location(results, "WH")
    # Active: two orders fill the warehouse on the first day, the third goes to a store; the next day is fresh.
    assert wh["daily_capacity"] == 2
    assert wh["active"] == {
        "orders": 3,
        "units": 3,
        "peak_day": net.day1.isoformat(),
        "peak_load": 2,
        "days_full": 1,
        "days_over": 0,
    }
    assert _location(results, "PAR")["active"]["orders"] == 1
    # The draft switches the rule off: all four go to the warehouse, three on a day it can do two.
    assert wh["draft"]["orders"] == 4 and wh["draft"]["peak_load"] == 3 and wh["draft"]["days_over"] == 1
    assert wh["difference"]["days_over"] == 1
    assert [c["number"] for c in results["changed"]["first"]] == [first_day[2].number]


def test_orders_that_cannot_be_filled_are_counted_and_listed(net):
    stock(net.tenant, net.b, net.wh, 0)
    stock(net.tenant, net.b, net.mrs, 0)
    stock(net.tenant, net.a, net.par, 0)
    nowhere = _order(net, (net.c, 2))
    two_places = _order(net, (net.a, 1), (net.b, 3))  # A at WH or MRS, B only at PAR

    results = _simulate(net, {"max_splits": 1})

    assert results["active"]["unfillable"] == {
        "orders": 1,
        "fully": 1,
        "partly": 0,
        "units": 2,
        "first": [{"id": nowhere.id, "number": nowhere.number, "units": 2, "fully": True}],
    }
    draft = results["draft"]["unfillable"]
    assert (draft["orders"], draft["fully"], draft["partly"]) == (2, 1, 1)
    # One location only: the Paris store serves the most (B), and A stays unfilled.
    assert {"id": two_places.id, "number": two_places.number, "units": 1, "fully": False} in draft["first"]
    assert results["difference"]["unfillable_orders"] == 1
    assert results["active"]["orders_served"] == 1 and results["draft"]["orders_served"] == 1


def test_the_period_is_the_tenants_days_without_store_sales_or_cancelled_orders(net):
    last = net.day1 + timedelta(days=1)
    inside = _order(net, (net.a, 1), day=last, hour=23)  # 23:00 in Paris, 21:00 or 22:00 UTC
    _order(net, (net.a, 1), day=last + timedelta(days=1), hour=0)  # midnight in Paris: the next day
    _order(net, (net.a, 1), day=net.day1 - timedelta(days=1))
    _order(net, (net.a, 1), method="in_store", pickup=net.par)
    _order(net, (net.a, 1), status="cancelled")
    pickup = _order(net, (net.a, 1), method="pickup", pickup=net.mrs)

    results = _simulate(net, STORES_FIRST)

    assert results["replay"] == {
        "orders": 2,
        "delivery": 1,
        "pickup": 1,
        "nothing_to_place": 0,
        "with_destination": 2,
        "without_destination": 0,
    }
    # A pickup order is served by its store under both policies; the delivery one changes.
    assert [c["number"] for c in results["changed"]["first"]] == [inside.number]
    assert _location(results, "MRS")["active"]["orders"] == _location(results, "MRS")["draft"]["orders"] == 1
    assert pickup.number not in json.dumps(results["changed"])


def test_an_order_still_holding_its_units_counts_them_as_available_to_it(api, tenant):
    shop = build_shop(tenant)
    placed = api.post(
        "/api/v1/orders/",
        order_body(shop, lines=[{"sku": shop.a.sku, "quantity": 4, "unit_price": "10.00"}]),
        format="json",
    )
    assert placed.status_code == 201, placed.json()
    # Intake reserved the 4 units at the first warehouse; nothing else is left anywhere.
    stock(tenant, shop.a, shop.wh1, 4)
    stock(tenant, shop.a, shop.wh2, 0)
    stock(tenant, shop.a, shop.store, 0)
    today = today_for(tenant)

    started = start_simulation(scope=_manager(tenant), draft={"max_splits": 1}, date_from=today, date_to=today)
    run_simulation(started.id)
    started.refresh_from_db()

    assert started.results["active"]["unfillable"]["orders"] == 0
    assert _location(started.results, shop.wh1.code)["active"]["units"] == 4


def test_a_finished_simulation_is_not_run_again_and_a_replay_started_over_gives_the_same_figures(net):
    _order(net, (net.a, 1), (net.b, 1))
    _order(net, (net.a, 2), method="pickup", pickup=net.par)
    started = start_simulation(
        scope=_manager(net.tenant), draft=STORES_FIRST, date_from=net.day1, date_to=net.day1 + timedelta(days=1)
    )
    assert run_simulation(started.id) == service.RAN
    started.refresh_from_db()
    first = started.results

    assert run_simulation(started.id) == service.NOTHING_TO_DO
    # A worker that died mid-way: the job is running, silent for longer than STALE_AFTER, and given again.
    RoutingSimulation.all_tenants.filter(id=started.id).update(
        status="running", results=None, heartbeat_at=started.finished_at - timedelta(hours=1)
    )
    assert run_simulation(started.id) == service.RAN
    again = RoutingSimulation.all_tenants.get(id=started.id)

    assert again.results == first and again.attempts == 2
    assert (again.orders_done, again.orders_total) == (2, 2)


def test_a_simulation_another_runner_is_working_on_is_left_to_it(net):
    _order(net, (net.a, 1))
    started = start_simulation(scope=_manager(net.tenant), draft={}, date_from=net.day1, date_to=net.day1)
    RoutingSimulation.all_tenants.filter(id=started.id).update(
        status="running", attempts=1, heartbeat_at=started.created_at
    )

    assert run_simulation(started.id) == service.BUSY
    assert RoutingSimulation.all_tenants.get(id=started.id).results is None


def test_progress_is_written_as_the_replay_goes(net, monkeypatch):
    for _ in range(5):
        _order(net, (net.a, 1))
    seen = []
    write = service._progress

    def spy(simulation, *, done, total=None):
        write(simulation, done=done, total=total)
        seen.append(RoutingSimulation.all_tenants.values_list("orders_done", "orders_total").get(id=simulation.id))

    monkeypatch.setattr(service, "PROGRESS_EVERY", 2)
    monkeypatch.setattr(service, "_progress", spy)

    _simulate(net, {})

    assert seen == [(0, 5), (2, 5), (4, 5)]


def test_a_draft_is_never_saved_as_a_version_and_the_simulation_names_the_version_it_compares_to(net):
    _order(net, (net.a, 1))
    before = RoutingPolicy.objects.for_tenant(net.tenant).count()

    started = start_simulation(scope=_manager(net.tenant), draft=STORES_FIRST, date_from=net.day1, date_to=net.day1)

    assert RoutingPolicy.objects.for_tenant(net.tenant).count() == max(before, 1)
    assert started.active_policy.version == 1 and started.status == "queued"
    assert started.draft["objectives"] == STORES_FIRST["objectives"] and started.draft["max_splits"] == 2
    assert started.orders_total == 1


def test_the_job_is_handed_to_the_workers_after_commit(net, monkeypatch, django_capture_on_commit_callbacks):
    _order(net, (net.a, 1))
    sent = []
    monkeypatch.setattr(service.app, "send_task", lambda name, args, **options: sent.append((name, args)))

    with django_capture_on_commit_callbacks(execute=True):
        started = start_simulation(scope=_manager(net.tenant), draft={}, date_from=net.day1, date_to=net.day1)
        assert sent == []

    assert sent == [("fulfillment.run_simulation", (started.id,))]
    assert run_simulation_task.name == "fulfillment.run_simulation"


def test_a_replay_that_breaks_marks_the_simulation_failed_with_the_reason(net, monkeypatch):
    _order(net, (net.a, 1))
    started = start_simulation(scope=_manager(net.tenant), draft={}, date_from=net.day1, date_to=net.day1)

    def broken(simulation):
        raise ValueError("the network could not be read")

    monkeypatch.setattr(service, "_replay", broken)
    run_simulation_task.apply(args=(started.id,))

    failed = RoutingSimulation.all_tenants.get(id=started.id)
    assert failed.status == "failed" and failed.finished_at is not None
    assert "the network could not be read" in failed.error


def test_a_simulation_whose_runners_keep_dying_is_failed_rather_than_tried_for_ever(net):
    _order(net, (net.a, 1))
    started = start_simulation(scope=_manager(net.tenant), draft={}, date_from=net.day1, date_to=net.day1)
    RoutingSimulation.all_tenants.filter(id=started.id).update(
        status="running", attempts=service.MAX_ATTEMPTS, heartbeat_at=started.created_at - timedelta(hours=1)
    )

    assert run_simulation(started.id) == service.NOTHING_TO_DO

    failed = RoutingSimulation.all_tenants.get(id=started.id)
    assert failed.status == "failed" and "never finished" in failed.error


def test_where_tasks_run_in_process_the_replay_runs_once_the_simulation_is_committed(
    net, django_capture_on_commit_callbacks
):
    _order(net, (net.a, 1))
    previous = service.app.conf.task_always_eager
    service.app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            started = start_simulation(scope=_manager(net.tenant), draft={}, date_from=net.day1, date_to=net.day1)
    finally:
        service.app.conf.task_always_eager = previous

    started.refresh_from_db()
    assert started.status == "done" and started.results["replay"]["orders"] == 1


def test_a_lost_job_is_handed_over_again(net, monkeypatch):
    _order(net, (net.a, 1))
    started = start_simulation(scope=_manager(net.tenant), draft={}, date_from=net.day1, date_to=net.day1)
    sent = []
    monkeypatch.setattr(service.app, "send_task", lambda name, args, **options: sent.append(args))

    assert service.resume_if_lost(started) is False  # just queued: its hand-over is under way
    started.created_at -= timedelta(minutes=5)
    assert service.resume_if_lost(started) is True and sent == [(started.id,)]


def test_beat_hands_over_the_simulations_nobody_looks_at(net, monkeypatch):
    from django.core.cache import cache

    from fulfillment.tasks import sweep_simulations

    _order(net, (net.a, 1))
    started = start_simulation(scope=_manager(net.tenant), draft={}, date_from=net.day1, date_to=net.day1)
    sent = []
    monkeypatch.setattr(service.app, "send_task", lambda name, args, **options: sent.append((name, args)))
    cache.clear()

    assert sweep_simulations() == 0
    RoutingSimulation.all_tenants.filter(id=started.id).update(created_at=started.created_at - timedelta(minutes=5))

    assert sweep_simulations() == 1 and sent == [("fulfillment.run_simulation", (started.id,))]


def test_simulations_run_off_the_routing_queue():
    from oms.celery import app

    assert app.amqp.router.route({}, "fulfillment.run_simulation")["queue"].name == "reporting"
    assert app.amqp.router.route({}, "fulfillment.allocate_order")["queue"].name == "routing"


# --- refused input ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "draft,days,path,words",
    [
        ({"objectives": ["cheapest"]}, (0, 1), "policy.objectives[0]", "Unknown objective"),
        ({"max_splits": 0}, (0, 1), "policy.max_splits", "from 1 to 20"),
        ([1, 2], (0, 1), "policy", "JSON object"),
        ({}, (1, 0), "to", "on or after"),
        ({}, (-82, 10), "to", "spans 93 days; a simulation replays at most 92 days"),
        ({}, (0, 11), "to", "cannot end after today"),
        ({}, (11, 12), "from", "cannot start after today"),
    ],
)
def test_bad_input_is_refused_under_its_path(net, draft, days, path, words):
    _order(net, (net.a, 1))

    with pytest.raises(service.ValidationFailed) as refused:
        start_simulation(
            scope=_manager(net.tenant),
            draft=draft,
            date_from=net.day1 + timedelta(days=days[0]),
            date_to=net.day1 + timedelta(days=days[1]),
        )

    errors = refused.value.extra["errors"]
    assert path in errors and words in " ".join(errors[path]), errors
    assert not RoutingSimulation.objects.for_tenant(net.tenant).exists()


def test_a_period_of_92_days_is_accepted(net):
    _order(net, (net.a, 1))

    started = start_simulation(
        scope=_manager(net.tenant),
        draft={},
        date_from=net.day1 - timedelta(days=81),
        date_to=net.day1 + timedelta(days=10),
    )

    assert (started.date_to - started.date_from).days + 1 == 92


def test_a_period_with_too_many_orders_or_none_is_refused(net, monkeypatch):
    for _ in range(3):
        _order(net, (net.a, 1))
    monkeypatch.setattr(service, "MAX_ORDERS", 2)

    with pytest.raises(service.ValidationFailed) as too_many:
        start_simulation(scope=_manager(net.tenant), draft={}, date_from=net.day1, date_to=net.day1)
    with pytest.raises(service.ValidationFailed) as empty:
        start_simulation(
            scope=_manager(net.tenant),
            draft={},
            date_from=net.day1 - timedelta(days=3),
            date_to=net.day1 - timedelta(days=2),
        )

    assert (
        "holds 3 orders" in too_many.value.extra["errors"]["to"][0]
        and "at most 2" in too_many.value.extra["errors"]["to"][0]
    )
    assert "nothing to replay" in empty.value.extra["errors"]["to"][0]


# --- the API ---------------------------------------------------------------------------------------------------


def _body(net, draft=None, **dates):
    return {
        "policy": STORES_FIRST if draft is None else draft,
        "from": dates.get("date_from", net.day1).isoformat(),
        "to": dates.get("date_to", net.day1 + timedelta(days=1)).isoformat(),
    }


def test_starting_one_answers_202_then_progress_and_results(api, net):
    order = _order(net, (net.a, 1))

    answer = api.post(API, _body(net), format="json")

    assert answer.status_code == 202, answer.json()
    body = answer.json()
    assert body["status"] == "queued" and body["progress"] == {"done": 0, "total": 1}
    assert body["from"] == net.day1.isoformat() and body["to"] == (net.day1 + timedelta(days=1)).isoformat()
    assert body["active_version"] == 1 and body["results"] is None
    assert body["policy"]["objectives"] == STORES_FIRST["objectives"]
    assert body["url"].endswith(f"{API}{body['id']}/") and answer["Location"] == body["url"]

    run_simulation(body["id"])
    done = api.get(f"{API}{body['id']}/").json()

    assert done["status"] == "done" and done["progress"] == {"done": 1, "total": 1}
    assert done["results"]["changed"]["first"][0]["number"] == order.number
    assert done["results"]["difference"]["mean_km"] < 0


def test_the_list_is_newest_first_without_the_results(api, net):
    _order(net, (net.a, 1))
    first = api.post(API, _body(net), format="json").json()["id"]
    second = api.post(API, _body(net, draft={}), format="json").json()["id"]
    run_simulation(first)

    listed = api.get(API, {"page_size": 1})

    assert listed.status_code == 200
    page = listed.json()
    assert [item["id"] for item in page["results"]] == [second] and page["next"]
    assert "results" not in page["results"][0] and page["results"][0]["progress"]["total"] == 1
    assert [item["id"] for item in api.get(page["next"]).json()["results"]] == [first]


@pytest.mark.parametrize(
    "change,path",
    [
        ({"policy": {"objectives": ["cheapest"]}}, "policy.objectives[0]"),
        ({"policy": {"eligibility": {"capacity": True}}}, "policy.eligibility.capacity"),
        ({"from": "01/02/2026"}, "from"),
        ({"to": None}, "to"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_requests_are_400_naming_the_path(api, net, change, path):
    _order(net, (net.a, 1))

    answer = api.post(API, {**_body(net), **change}, format="json")

    assert answer.status_code == 400
    assert path in answer.json()["errors"], answer.json()
    assert not RoutingSimulation.objects.for_tenant(net.tenant).exists()


def test_a_period_too_long_is_400_saying_the_cap(api, net):
    answer = api.post(API, _body(net, date_from=net.day1 - timedelta(days=100)), format="json")

    assert answer.status_code == 400 and "at most 92 days" in answer.json()["errors"]["to"][0]


def test_another_tenants_simulation_is_not_found(api, other_api, net):
    _order(net, (net.a, 1))
    mine = api.post(API, _body(net), format="json").json()["id"]

    assert other_api.get(f"{API}{mine}/").status_code == 404
    assert other_api.get(API).json()["results"] == []
    assert api.get(f"{API}{mine + 1000}/").status_code == 404


def test_a_channel_key_neither_starts_nor_reads_simulations(api, net):
    _order(net, (net.a, 1))
    mine = api.post(API, _body(net), format="json").json()["id"]
    shop = make_api_client(net.tenant, channel=net.channel)

    assert shop.post(API, _body(net), format="json").status_code == 403
    assert shop.get(API).status_code == 403
    assert shop.get(f"{API}{mine}/").status_code == 403


@pytest.mark.parametrize(
    "role,can_read,can_start",
    [
        (Role.ADMIN, True, True),
        (Role.MANAGER, True, True),
        (Role.BACK_OFFICE, True, False),
        (Role.VIEWER, True, False),
        (Role.STORE_CLERK, False, False),
    ],
)
def test_roles(user_client, net, role, can_read, can_start):
    _order(net, (net.a, 1))
    client = user_client(role)

    started = client.post(API, json.dumps(_body(net)), content_type="application/json")

    assert (started.status_code == 202) is can_start
    assert (client.get(API).status_code == 200) is can_read


# --- the page --------------------------------------------------------------------------------------------------


def test_the_routing_page_offers_a_draft_starting_from_the_active_rules(user_client, net):
    page = user_client(Role.MANAGER).get(PAGE).content.decode()

    assert 'id="simulate"' in page and 'action="/fulfillment/routing/simulations/"' in page
    assert "today's stock and network" in page
    assert "&quot;warehouses_first&quot;" in page  # the draft starts as the active policy
    assert (net.day1 + timedelta(days=9)).isoformat() in page  # yesterday, the end of the default period


def test_a_viewer_sees_simulations_but_cannot_start_one(user_client, net):
    client = user_client(Role.VIEWER)

    assert 'action="/fulfillment/routing/simulations/"' not in client.get(PAGE).content.decode()
    answer = client.post(f"{PAGE}simulations/", {"draft": "{}", "date_from": net.day1, "date_to": net.day1})
    assert answer.status_code == 403
    assert not RoutingSimulation.objects.for_tenant(net.tenant).exists()


def test_starting_one_from_the_page_shows_its_progress_then_the_comparison(user_client, net):
    changed = _order(net, (net.a, 1))
    unfillable = _order(net, (net.c, 1))
    client = user_client(Role.MANAGER)

    started = client.post(
        f"{PAGE}simulations/",
        {"draft": json.dumps(STORES_FIRST), "date_from": net.day1.isoformat(), "date_to": net.day1.isoformat()},
    )

    assert started.status_code == 302
    simulation = RoutingSimulation.objects.for_tenant(net.tenant).get()
    assert started["Location"] == f"{PAGE}simulations/{simulation.id}/"
    page = client.get(started["Location"]).content.decode()
    progress_url = f"{PAGE}simulations/{simulation.id}/progress/"
    assert f'hx-get="{progress_url}"' in page and "0 of 2 orders replayed" in page

    run_simulation(simulation.id)
    fragment = client.get(progress_url).content.decode()

    assert "hx-get" not in fragment  # done: the polling stops
    assert 'id="simulation-summary"' in fragment and 'id="simulation-locations"' in fragment
    assert f'href="/orders/{changed.id}/">{changed.number}</a>' in fragment
    assert f'href="/orders/{unfillable.id}/">{unfillable.number}</a>' in fragment
    assert "PAR · " in fragment and "WH · " in fragment
    assert client.get(PAGE).content.decode().count(f"{PAGE}simulations/{simulation.id}/") == 1


@pytest.mark.parametrize(
    "draft,problem",
    [("{not json", "Not valid JSON"), (json.dumps({"objectives": ["cheapest"]}), "objectives[0]: Unknown objective")],
)
def test_a_refused_draft_is_shown_on_the_form(user_client, net, draft, problem):
    _order(net, (net.a, 1))

    answer = user_client(Role.ADMIN).post(
        f"{PAGE}simulations/", {"draft": draft, "date_from": net.day1.isoformat(), "date_to": net.day1.isoformat()}
    )

    assert answer.status_code == 400 and problem in answer.content.decode()
    assert not RoutingSimulation.objects.for_tenant(net.tenant).exists()


def test_a_failed_simulation_says_why(user_client, net):
    _order(net, (net.a, 1))
    started = start_simulation(scope=_manager(net.tenant), draft={}, date_from=net.day1, date_to=net.day1)
    service.fail_simulation(simulation_id=started.id, error="The replay stopped: broken")

    fragment = user_client(Role.VIEWER).get(f"{PAGE}simulations/{started.id}/progress/").content.decode()

    assert "broken" in fragment and "hx-get" not in fragment


def test_another_tenants_simulation_page_is_not_found(user_client, net, other_tenant):
    other = factories.ChannelFactory(tenant=other_tenant, code="WEB")
    factories.OrderFactory(
        tenant=other_tenant, channel=other, placed_at=datetime.combine(net.day1, time(12), tzinfo=PARIS)
    )
    theirs = start_simulation(scope=_manager(other_tenant), draft={}, date_from=net.day1, date_to=net.day1)
    client = user_client(Role.ADMIN)

    assert client.get(f"{PAGE}simulations/{theirs.id}/").status_code == 404
    assert client.get(f"{PAGE}simulations/{theirs.id}/progress/").status_code == 404
