"""The egress policy: which destinations push webhooks may reach (no request forgery)."""

from __future__ import annotations

import pytest

from rayguild.config import load_config
from rayguild.egress import EgressPolicy, EgressRefused
from rayguild.errors import ConfigError

REFUSED = {
    "127.0.0.1": "loopback",
    "127.8.9.10": "loopback",
    "10.1.2.3": "private",
    "172.16.0.1": "private",
    "192.168.1.1": "private",
    "169.254.169.254": "link-local",  # cloud metadata
    "224.0.0.1": "multicast",
    "0.0.0.0": "unspecified",
    "240.0.0.1": "reserved",
    "100.64.0.1": "non-global",  # carrier-grade NAT
    "::1": "loopback",
    "::": "unspecified",
    "fe80::1": "link-local",
    "fc00::1": "private",
    "ff02::1": "multicast",
    "::ffff:127.0.0.1": "loopback address 127.0.0.1",  # IPv4-mapped
    "::ffff:10.0.0.1": "private",
    "2002:a00:1::": "private address 10.0.0.1",  # 6to4 carrying 10.0.0.1
    "64:ff9b::7f00:1": "loopback address 127.0.0.1",  # NAT64 of 127.0.0.1
    "2001:db8::1": "private",  # documentation
    "2001:0:4136:e378:8000:63bf:f5ff:fffe": "private",  # Teredo
}
PUBLIC = ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "64:ff9b::808:808"]


@pytest.mark.parametrize(("address", "kind"), sorted(REFUSED.items()))
def test_non_public_addresses_are_refused_by_default(address: str, kind: str) -> None:
    reason = EgressPolicy().refusal(address)
    assert reason is not None and kind in reason
    with pytest.raises(EgressRefused, match="push_allowed_networks"):
        EgressPolicy().check(address)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert EgressPolicy().refusal(address) is None


def test_allowed_networks_open_exactly_their_ranges_also_when_mapped() -> None:
    policy = EgressPolicy.of(("127.0.0.0/8",))
    assert policy.refusal("127.0.0.1") is None and policy.refusal("::ffff:127.0.0.1") is None
    assert policy.refusal("10.0.0.1") is not None and policy.refusal("::1") is not None


def test_a_name_passes_only_if_every_address_it_resolves_to_does() -> None:
    def info(address: str) -> tuple[object, ...]:
        return (0, 0, 0, "", (address, 80))

    policy = EgressPolicy()
    assert policy.checked([info("8.8.8.8")], "example") == [info("8.8.8.8")]
    with pytest.raises(EgressRefused):
        policy.checked([info("8.8.8.8"), info("10.0.0.1")], "example")
    with pytest.raises(EgressRefused, match="no address"):
        policy.checked([], "example")


def test_ip_literals_are_checked_before_any_client_skips_resolving_them() -> None:
    with pytest.raises(EgressRefused):
        EgressPolicy().check_literal("[::1]")
    EgressPolicy().check_literal("example.com")  # a name: the resolver checks it


def test_config_reads_cidrs_and_names_a_bad_one() -> None:
    config = load_config(environ={"RAYGUILD_PUSH_ALLOWED_NETWORKS": "127.0.0.0/8, ::1/128"})
    assert config.push_allowed_networks == ("127.0.0.0/8", "::1/128")
    with pytest.raises(ConfigError, match="push_allowed_networks"):
        load_config(environ={"RAYGUILD_PUSH_ALLOWED_NETWORKS": "localhost"})
