"""The caller's scope: each visibility rule once, failing closed."""

import pytest

from oms.actors import Actor
from oms.api.scope import ChannelMismatch, Scope, rows
from oms.errors import NotFound, PermissionDenied, ValidationFailed
from oms.models import Role
from oms.services import create_api_key, set_membership
from orders import selectors, services
from orders.models import Order, OrderStatus
from tests import factories

pytestmark = pytest.mark.django_db


def _key_scope(tenant, channel=None):
    issued = create_api_key(
        tenant=tenant, label=f"k-{factories.next_id()}", channel=channel, actor=Actor.system("tests")
    )
    return Scope(tenant=tenant, actor=Actor.for_api_key(issued.api_key), api_key=issued.api_key)


def _clerk_scope(tenant, stores):
    user = factories.UserFactory()
    membership, _ = set_membership(
        tenant=tenant, user=user, role=Role.STORE_CLERK, locations=stores, actor=Actor.system("tests")
    )
    return Scope(tenant=tenant, actor=Actor.for_user(user), role=Role.STORE_CLERK, membership=membership)


def test_without_a_scope_nothing_is_visible(tenant):
    factories.OrderFactory(tenant=tenant)

    assert not rows(Order, None).exists()
    assert not selectors.order_list(scope=None).exists()
    with pytest.raises(NotFound):
        selectors.order_detail(scope=None, order_id=Order.all_tenants.get().id)


def test_a_scope_sees_its_own_tenant_only(tenant, other_tenant):
    mine = factories.OrderFactory(tenant=tenant)
    factories.OrderFactory(tenant=other_tenant)

    assert list(selectors.order_list(scope=Scope.system(tenant))) == [mine]


def test_a_channel_key_sees_its_channel_and_cannot_name_another(tenant):
    shop, store = (
        factories.ChannelFactory(tenant=tenant, code="SHOP"),
        factories.ChannelFactory(tenant=tenant, code="STORE"),
    )
    factories.OrderFactory(tenant=tenant, channel=store)
    own = factories.OrderFactory(tenant=tenant, channel=shop)
    scope = _key_scope(tenant, channel=shop)

    assert list(selectors.order_list(scope=scope)) == [own]
    assert scope.channel_for("", lookup=None) == shop
    assert scope.channel_for("SHOP", lookup=None) == shop
    with pytest.raises(ChannelMismatch) as refused:
        scope.channel_for("STORE", lookup=None)
    assert refused.value.status == 403
    with pytest.raises(PermissionDenied):
        scope.forbid_channel_key("change the catalog")


def test_an_unbound_caller_names_a_known_channel(tenant):
    scope = _key_scope(tenant)

    def lookup(code):
        raise NotFound(code)

    with pytest.raises(ValidationFailed) as missing:
        scope.channel_for("", lookup=lookup)
    assert "channel" in missing.value.extra["errors"]
    with pytest.raises(NotFound) as unknown:
        scope.channel_for("NOPE", lookup=lookup)
    assert "NOPE" in unknown.value.detail
    with pytest.raises(NotFound):
        scope.channel_for("NOPE", lookup=lambda code: None)
    scope.forbid_channel_key("change the catalog")  # an integration key may


def test_a_clerk_sees_their_stores_only_and_others_are_404(tenant):
    paris, lyon = (factories.LocationFactory(tenant=tenant, code=code, kind="store") for code in ("PAR", "LYO"))
    scope = _clerk_scope(tenant, [paris])

    assert scope.store_ids == frozenset({paris.id})
    assert scope.sees_location(paris.id) and not scope.sees_location(lyon.id)
    assert scope.require_location(paris) == paris
    with pytest.raises(NotFound):
        scope.require_location(lyon)
    assert list(scope.narrow_to_stores(type(paris).objects.for_tenant(tenant), "pk")) == [paris]


def test_everyone_but_a_clerk_sees_every_location(tenant):
    lyon = factories.LocationFactory(tenant=tenant, code="LYO", kind="store")

    for scope in (Scope.system(tenant), _key_scope(tenant)):
        assert scope.store_ids is None
        assert scope.require_location(lyon) == lyon


def test_order_services_act_only_within_the_scope(tenant):
    shop, store = (factories.ChannelFactory(tenant=tenant, code=code) for code in ("SHOP", "STORE"))
    order = factories.OrderLineFactory(order=factories.OrderFactory(tenant=tenant, channel=store)).order

    for scope in (None, _key_scope(tenant, channel=shop)):
        with pytest.raises(NotFound):
            services.hold_order(scope=scope, order_id=order.id, reason="check")
    held = services.hold_order(scope=_key_scope(tenant, channel=store), order_id=order.id, reason="check")
    assert held.status == OrderStatus.ON_HOLD
