"""Which URLs and addresses a webhook may post to (the SSRF checks)."""

from __future__ import annotations

import pytest

from bot.webhooks.addresses import AddressRefused, checked_addresses, parse_url, refusal
from tests.support.webhook_receiver import FakeDNS


@pytest.mark.parametrize(
    ("address", "code"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.5", "private"),
        ("172.16.3.4", "private"),
        ("192.168.1.1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("169.254.10.1", "link_local"),
        ("fe80::1", "link_local"),
        ("100.64.0.1", "shared"),
        ("100.127.255.254", "shared"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("192.0.2.10", "private"),  # a documentation range: ipaddress counts it private
        # IPv4 carried in IPv6: judged as the IPv4 address it reaches
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.1.2.3", "private"),
        ("::ffff:169.254.169.254", "metadata"),
        ("2002:0a00:0001::1", "private"),  # 6to4 of 10.0.0.1
        ("64:ff9b::a9fe:a9fe", "metadata"),  # NAT64 of 169.254.169.254
        ("not an address", "bad_address"),
    ],
)
def test_refused_addresses(address: str, code: str) -> None:
    assert refusal(address) == code


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:93.184.216.34"]
)
def test_public_addresses_pass(address: str) -> None:
    assert refusal(address) is None


def test_loopback_only_when_allowed() -> None:
    assert refusal("127.0.0.1", allow_loopback=True) is None
    assert refusal("::1", allow_loopback=True) is None
    assert refusal("::ffff:127.0.0.1", allow_loopback=True) is None
    # nothing else comes with it
    assert refusal("10.0.0.1", allow_loopback=True) == "private"
    assert refusal("169.254.169.254", allow_loopback=True) == "metadata"


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://hooks.example.com/x", "not_https"),
        ("ftp://hooks.example.com/x", "not_https"),
        ("https://user:pw@hooks.example.com/x", "has_credentials"),
        ("https:///nohost", "bad_url"),
        ("https://hooks.example.com:99999/x", "bad_url"),
        ("https://hooks.example.com/" + "a" * 2000, "bad_url"),
    ],
)
def test_urls_refused(url: str, code: str) -> None:
    with pytest.raises(AddressRefused) as refused:
        parse_url(url)
    assert refused.value.code == code


async def test_every_address_of_the_host_is_checked() -> None:
    dns = FakeDNS({"mixed.example.com": ["93.184.216.34", "10.0.0.9"]})
    with pytest.raises(AddressRefused) as refused:
        await checked_addresses(dns, parse_url("https://mixed.example.com/h"), allow_loopback=False)
    assert (refused.value.code, refused.value.address) == ("private", "10.0.0.9")


async def test_literal_addresses_are_checked_without_asking_dns() -> None:
    dns = FakeDNS({})
    for url, code in (
        ("https://127.0.0.1/h", "loopback"),
        ("https://[::1]:8443/h", "loopback"),
        ("https://169.254.169.254/latest/meta-data", "metadata"),
        ("https://[::ffff:10.0.0.1]/h", "private"),
    ):
        with pytest.raises(AddressRefused) as refused:
            await checked_addresses(dns, parse_url(url), allow_loopback=False)
        assert refused.value.code == code
    assert dns.asked == []


async def test_a_host_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(AddressRefused) as refused:
        await checked_addresses(
            FakeDNS({}), parse_url("https://nowhere.example.com/h"), allow_loopback=False
        )
    assert refused.value.code == "unresolvable"


async def test_a_public_host_passes_with_its_addresses() -> None:
    dns = FakeDNS({"hooks.example.com": ["93.184.216.34", "2606:2800:220:1::1"]})
    got = await checked_addresses(
        dns, parse_url("https://hooks.example.com/h"), allow_loopback=False
    )
    assert got == ["93.184.216.34", "2606:2800:220:1::1"]


def test_an_international_name_is_resolved_as_dns_knows_it() -> None:
    assert parse_url("https://bücher.example/h").host == "xn--bcher-kva.example"
    assert parse_url("https://Hooks.Example.com./h").host == "hooks.example.com"
