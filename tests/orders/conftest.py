"""Fixtures for order tests: a web channel sourcing from two warehouses and a pickup store."""

import pytest

from tests.conftest import make_api_client
from tests.orders.support import build_shop


@pytest.fixture
def shop(tenant):
    return build_shop(tenant)


@pytest.fixture
def channel_api(tenant, shop):
    """An API client whose key is bound to the shop's channel."""
    return make_api_client(tenant, channel=shop.channel)
