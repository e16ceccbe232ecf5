"""Target expansion: syntax, files, bounds, and errors that name the bad token."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amtkit.discovery.targets import DEFAULT_LIMIT, TargetError, expand_targets, read_target_file
from amtkit.exceptions import AMTError


def test_single_address_expands_to_itself() -> None:
    assert expand_targets("10.1.2.3") == ["10.1.2.3"]


def test_cidr_22_expands_to_its_1022_usable_hosts() -> None:
    hosts = expand_targets("127.0.0.0/22")
    assert len(hosts) == 1022 and hosts[0] == "127.0.0.1" and hosts[-1] == "127.0.3.254"


def test_cidr_with_host_bits_set_means_its_network() -> None:
    assert expand_targets("10.0.0.77/30") == ["10.0.0.77", "10.0.0.78"]


def test_cidr_32_is_one_address() -> None:
    assert expand_targets("10.0.0.9/32") == ["10.0.0.9"]


def test_cidr_31_keeps_both_addresses() -> None:
    assert expand_targets("10.0.0.8/31") == ["10.0.0.8", "10.0.0.9"]


def test_full_range_is_inclusive() -> None:
    assert expand_targets("127.0.0.1-127.0.0.20") == [f"127.0.0.{i}" for i in range(1, 21)]


def test_range_may_cross_octets() -> None:
    assert expand_targets("10.0.0.254-10.0.1.1") == ["10.0.0.254", "10.0.0.255", "10.0.1.0", "10.0.1.1"]


def test_short_range_replaces_last_octet() -> None:
    assert expand_targets("127.0.1.1-20") == [f"127.0.1.{i}" for i in range(1, 21)]


def test_ipv6_range_and_address() -> None:
    assert expand_targets("fd00::1-fd00::3 ::1") == ["fd00::1", "fd00::2", "fd00::3", "::1"]


def test_hostname_is_kept_lower_case() -> None:
    assert expand_targets("AMT-01.Example.COM.") == ["amt-01.example.com"]


def test_hostname_with_hyphen_is_not_a_range() -> None:
    assert expand_targets("amt-lab-7") == ["amt-lab-7"]


def test_tokens_split_on_commas_and_spaces() -> None:
    assert expand_targets("10.0.0.1,10.0.0.2  10.0.0.3\n10.0.0.4") == [f"10.0.0.{i}" for i in range(1, 5)]


def test_list_of_specs_is_accepted() -> None:
    assert expand_targets(["10.0.0.1", "10.0.0.2-3"]) == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]


def test_duplicates_are_removed_keeping_first_position() -> None:
    assert expand_targets("10.0.0.2 10.0.0.1-3") == ["10.0.0.2", "10.0.0.1", "10.0.0.3"]


def test_empty_input_gives_no_targets() -> None:
    assert expand_targets(" , ") == []


def test_file_lists_targets_with_comments(tmp_path: Path) -> None:
    path = tmp_path / "hosts.txt"
    path.write_text("# lab machines\n10.0.0.1  # desk\n\n10.0.0.2-3, amt-9\n", encoding="utf-8")
    assert expand_targets(f"@{path}") == ["10.0.0.1", "10.0.0.2", "10.0.0.3", "amt-9"]


def test_file_errors_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "hosts.txt"
    path.write_text("10.0.0.1\n10.0.0.300\n", encoding="utf-8")
    with pytest.raises(TargetError, match=r"'10\.0\.0\.300' \(.*hosts\.txt:2\)") as info:
        expand_targets(f"@{path}")
    assert info.value.token == "10.0.0.300" and info.value.source == f"{path}:2"


def test_file_cannot_include_another_file(tmp_path: Path) -> None:
    path = tmp_path / "hosts.txt"
    path.write_text("@other.txt\n", encoding="utf-8")
    with pytest.raises(TargetError, match="cannot include another file"):
        expand_targets(f"@{path}")


def test_missing_file_is_a_target_error(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="cannot read target file"):
        expand_targets(f"@{tmp_path / 'nope.txt'}")


def test_read_target_file_returns_tokens_with_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("a # x\nb c\n", encoding="utf-8")
    assert read_target_file(path) == [("a", f"{path}:1"), ("b", f"{path}:2"), ("c", f"{path}:2")]


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("10.0.0.300", "not an address"),
        ("10.0.0.0/33", "CIDR"),
        ("10.0.0.9-10.0.0.1", "below its start"),
        ("10.0.0.1-300", "range end"),
        ("10.0.0.1-::1", "range end"),
        ("bad_host!", "not an address"),
        ("-leading", "not an address"),
        ("@", "must be followed"),
    ],
)
def test_bad_token_error_names_the_token(token: str, reason: str) -> None:
    with pytest.raises(TargetError, match=reason) as info:
        expand_targets(f"10.0.0.1 {token}")
    assert info.value.token == token and repr(token) in str(info.value)


def test_target_error_is_a_value_error_and_an_amt_usage_error() -> None:
    with pytest.raises(TargetError) as info:
        expand_targets("nope!")
    assert isinstance(info.value, ValueError) and isinstance(info.value, AMTError) and info.value.category == "usage"


def test_expansion_over_default_limit_is_refused_naming_token() -> None:
    with pytest.raises(TargetError, match="over the limit of 65536") as info:
        expand_targets("10.0.0.1 10.0.0.0/8")
    assert info.value.token == "10.0.0.0/8"


def test_limit_counts_across_tokens() -> None:
    with pytest.raises(TargetError, match="limit of 300") as info:
        expand_targets("10.0.0.0/24 10.0.1.0/24", limit=300)
    assert info.value.token == "10.0.1.0/24"


def test_explicit_larger_limit_allows_big_networks() -> None:
    assert len(expand_targets("10.0.0.0/15", limit=2**17)) == 2**17 - 2


def test_limit_none_means_no_cap() -> None:
    assert len(expand_targets("10.0.0.0/16", limit=None)) == 65534


def test_default_limit_is_65536() -> None:
    assert DEFAULT_LIMIT == 65536


# ----------------------------------------------------------------------------------- properties

ipv4 = st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address)


@given(start=ipv4, span=st.integers(0, 300))
def test_range_is_the_contiguous_addresses_between_its_ends(start: ipaddress.IPv4Address, span: int) -> None:
    end = ipaddress.IPv4Address(min(int(start) + span, 2**32 - 1))
    hosts = expand_targets(f"{start}-{end}")
    assert [int(ipaddress.IPv4Address(h)) for h in hosts] == list(range(int(start), int(end) + 1))


@given(start=ipv4, last=st.integers(0, 255))
def test_short_range_equals_long_range(start: ipaddress.IPv4Address, last: int) -> None:
    end = ipaddress.IPv4Address(int(start) & 0xFFFFFF00 | last)
    if end < start:
        return
    assert expand_targets(f"{start}-{last}") == expand_targets(f"{start}-{end}")


@given(address=ipv4, prefix=st.integers(20, 32))
def test_cidr_expands_to_the_networks_hosts(address: ipaddress.IPv4Address, prefix: int) -> None:
    network = ipaddress.IPv4Network(f"{address}/{prefix}", strict=False)
    assert expand_targets(f"{address}/{prefix}") == [str(h) for h in network.hosts()]


@given(tokens=st.lists(st.sampled_from(["10.0.0.1", "10.0.0.0/30", "10.0.0.2-5", "amt-1", "AMT-1"]), max_size=6))
def test_output_has_no_duplicates_and_respects_limit(tokens: list[str]) -> None:
    hosts = expand_targets(tokens, limit=100)
    assert len(hosts) == len(set(hosts)) <= 100


@given(text=st.text(max_size=30))
def test_any_input_either_expands_or_raises_target_error(text: str) -> None:
    try:
        expand_targets(text, limit=1000)
    except TargetError as error:
        assert error.token and error.token in text
