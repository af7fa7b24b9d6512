"""Webhook targets: an address is public only if it is, and so is every IPv4 address an IPv6 form wraps (NAT64,
6to4, IPv4-mapped, IPv4-compatible): otherwise a subscription could reach the private network through them."""

import ipaddress

import pytest

from oms.webhooks import _is_public


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "127.0.0.1",
        "169.254.169.254",  # cloud metadata
        "::1",
        "fc00::1",
        "fe80::1",
        "::ffff:10.0.0.1",  # IPv4-mapped
        "::ffff:169.254.169.254",
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b:1::a00:1",  # local-use NAT64 prefix
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "::a00:1",  # IPv4-compatible 10.0.0.1
        "224.0.0.1",
        "ff02::1",
    ],
)
def test_private_addresses_and_ipv6_forms_that_wrap_them_are_not_public(address):
    assert not _is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"],
)
def test_public_addresses_stay_public(address):
    assert _is_public(ipaddress.ip_address(address))
