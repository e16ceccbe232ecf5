"""Credential profiles: file format, password sources, try order, the per-host cap, secrets kept out of sight."""

from __future__ import annotations

import asyncio
import os
import sys
import types
from pathlib import Path

import pytest

from amtkit.exceptions import AuthenticationError
from amtkit.http.digest import Credentials
from amtkit.profiles import (
    DEFAULT_MAX_TRIES,
    NoWorkingProfileError,
    Profile,
    ProfileError,
    ProfileSet,
    default_profiles_path,
)
from amtkit.store import Store

SECRET = "S3cret-never-shown"

FILE = f"""
default = "corp"
order = ["lab", "corp"]

[profiles.corp]
username = "admin"
password = "{SECRET}"

[profiles.lab]
username = "labadmin"
password_env = "AMTKIT_TEST_LAB_PASSWORD"

[profiles.vault]
username = "ops"
password_keyring = "amtkit-test"

[profiles.spare]
username = "admin"
password = "spare-{SECRET}"
"""


def write(tmp_path: Path, text: str = FILE) -> Path:
    path = tmp_path / "profiles.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.fixture
def profiles(tmp_path: Path) -> ProfileSet:
    return ProfileSet.load(write(tmp_path))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = Store.open(tmp_path / "store.db")
    yield opened  # type: ignore[misc]
    opened.close()


def rejecting(*accepted: str) -> tuple[list[str], object]:
    """An attempt function that accepts only the given usernames/passwords, raising AuthenticationError otherwise."""
    seen: list[str] = []

    def attempt(credentials: Credentials) -> str:
        seen.append(credentials.username)
        if credentials.password in accepted:
            return "ok"
        raise AuthenticationError("digest rejected", username=credentials.username)

    return seen, attempt


# ------------------------------------------------------------------------------------- loading


def test_load_reads_profiles_order_and_default(profiles: ProfileSet) -> None:
    assert list(profiles.profiles) == ["corp", "lab", "vault", "spare"]
    assert profiles.order == ("lab", "corp") and profiles.default == "corp"
    assert profiles.max_tries == DEFAULT_MAX_TRIES == 3


def test_max_tries_comes_from_file(tmp_path: Path) -> None:
    loaded = ProfileSet.load(write(tmp_path, "max_tries = 1\n" + FILE))
    assert loaded.max_tries == 1


def test_default_path_follows_amtkit_profiles_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AMTKIT_PROFILES", str(tmp_path / "p.toml"))
    assert default_profiles_path() == tmp_path / "p.toml"


def test_load_without_path_reads_default_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AMTKIT_PROFILES", str(write(tmp_path)))
    assert "corp" in ProfileSet.load().profiles


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[profiles.a]\nusername = 'x'\n", "exactly one of"),
        ("[profiles.a]\nusername = 'x'\npassword = 'p'\npassword_env = 'E'\n", "exactly one of"),
        ("[profiles.a]\npassword = 'p'\n", "username must be"),
        ("[profiles.a]\nusername = 'x'\npasword = 'p'\n", "unknown key"),
        ("default = 'b'\n[profiles.a]\nusername = 'x'\npassword = 'p'\n", "'b'.*not a defined profile"),
        ("order = ['a', 'c']\n[profiles.a]\nusername = 'x'\npassword = 'p'\n", "'c'.*not a defined profile"),
        ("max_tries = 0\n[profiles.a]\nusername = 'x'\npassword = 'p'\n", "max_tries"),
        ("colour = 'red'\n[profiles.a]\nusername = 'x'\npassword = 'p'\n", "unknown key"),
        ("title = 'no profiles'\n", "unknown key"),
        ("", "no \\[profiles"),
        ("[profiles\n", "not valid TOML"),
    ],
    ids=["no-source", "two-sources", "no-user", "typo", "bad-default", "bad-order", "zero-tries", "top-typo",
         "no-profiles-typo", "empty", "syntax"],
)
def test_invalid_file_is_a_profile_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ProfileError, match=message):
        ProfileSet.load(write(tmp_path, text))


def test_missing_file_is_a_profile_error(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="cannot read profile file"):
        ProfileSet.load(tmp_path / "absent.toml")


def test_toml_error_does_not_echo_the_password(tmp_path: Path) -> None:
    with pytest.raises(ProfileError) as info:
        ProfileSet.load(write(tmp_path, f'[profiles.a]\nusername = "x"\npassword = "{SECRET}"\npassword = "again"\n'))
    assert SECRET not in str(info.value)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_world_readable_file_with_inline_passwords_warns(tmp_path: Path) -> None:
    path = write(tmp_path)
    path.chmod(0o644)
    with pytest.warns(UserWarning, match="chmod 600"):
        ProfileSet.load(path)


# ------------------------------------------------------------------------------------- secrets


def test_profile_repr_never_shows_the_password(profiles: ProfileSet) -> None:
    assert SECRET not in repr(profiles["corp"]) and "***" in repr(profiles["corp"])


def test_profile_set_repr_never_shows_passwords(profiles: ProfileSet) -> None:
    assert SECRET not in repr(profiles)


def test_credentials_repr_never_shows_the_password(profiles: ProfileSet) -> None:
    assert SECRET not in repr(profiles["corp"].credentials())


def test_inline_password_gives_digest_credentials(profiles: ProfileSet) -> None:
    assert profiles["corp"].credentials() == Credentials("admin", SECRET)


def test_env_password_is_read_when_needed(profiles: ProfileSet, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMTKIT_TEST_LAB_PASSWORD", "from-env")
    assert profiles["lab"].credentials() == Credentials("labadmin", "from-env")


def test_unset_env_variable_error_names_the_variable(profiles: ProfileSet, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AMTKIT_TEST_LAB_PASSWORD", raising=False)
    with pytest.raises(ProfileError, match="AMTKIT_TEST_LAB_PASSWORD is not set"):
        profiles["lab"].credentials()


def test_keyring_password_uses_service_and_username(profiles: ProfileSet, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.ModuleType("keyring")
    fake.get_password = lambda service, user: f"{service}/{user}"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keyring", fake)
    assert profiles["vault"].credentials() == Credentials("ops", "amtkit-test/ops")


def test_keyring_without_entry_is_a_profile_error(profiles: ProfileSet, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.ModuleType("keyring")
    fake.get_password = lambda service, user: None  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keyring", fake)
    with pytest.raises(ProfileError, match="no password in keyring service 'amtkit-test'"):
        profiles["vault"].credentials()


def test_keyring_not_installed_is_a_clear_error(profiles: ProfileSet, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)  # makes "import keyring" fail
    with pytest.raises(ProfileError, match="'keyring' package is not installed"):
        profiles["vault"].credentials()


def test_unknown_profile_name_lists_known_ones(profiles: ProfileSet) -> None:
    with pytest.raises(ProfileError, match="no profile named 'x'.*corp"):
        profiles["x"]


# ------------------------------------------------------------------------------------- order and cap


def names(profile_list: list[Profile]) -> list[str]:
    return [p.name for p in profile_list]


def test_order_is_default_then_order_then_rest_capped_at_3(profiles: ProfileSet) -> None:
    assert names(profiles.ordered_for("10.0.0.5")) == ["corp", "lab", "vault"]


def test_remembered_profile_comes_first(profiles: ProfileSet, store: Store) -> None:
    store.remember_profile("10.0.0.5", "spare")
    assert names(profiles.ordered_for("10.0.0.5", store)) == ["spare", "corp", "lab"]


def test_remembered_profile_no_longer_in_file_is_skipped(profiles: ProfileSet, store: Store) -> None:
    store.remember_profile("10.0.0.5", "deleted")
    assert names(profiles.ordered_for("10.0.0.5", store)) == ["corp", "lab", "vault"]


def test_cap_can_be_raised_per_call(profiles: ProfileSet) -> None:
    assert names(profiles.ordered_for("h", max_tries=10)) == ["corp", "lab", "vault", "spare"]


def test_first_working_returns_profile_and_result_and_remembers_it(profiles: ProfileSet, store: Store) -> None:
    seen, attempt = rejecting(f"spare-{SECRET}")
    profile, result = profiles.first_working("10.0.0.5", attempt, store, max_tries=4,  # type: ignore[arg-type]
                                              rejected=AuthenticationError)
    assert (profile.name, result) == ("spare", "ok") and store.profile_for("10.0.0.5") == "spare"


def test_remembered_profile_is_tried_first_next_time(profiles: ProfileSet, store: Store) -> None:
    store.remember_profile("10.0.0.5", "spare")
    seen, attempt = rejecting(f"spare-{SECRET}")
    profiles.first_working("10.0.0.5", attempt, store)  # type: ignore[arg-type]
    assert len(seen) == 1


def test_exhausted_profiles_error_lists_names_tried_and_untried(
    profiles: ProfileSet, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMTKIT_TEST_LAB_PASSWORD", "wrong")
    monkeypatch.setitem(sys.modules, "keyring", types.SimpleNamespace(get_password=lambda s, u: "wrong"))
    seen, attempt = rejecting()
    with pytest.raises(NoWorkingProfileError) as info:
        profiles.first_working("10.0.0.5", attempt, store)  # type: ignore[arg-type]
    error = info.value
    assert error.tried == ("corp", "lab", "vault") and error.untried == ("spare",)
    assert "corp, lab, vault" in str(error) and error.host == "10.0.0.5"
    assert SECRET not in str(error) and SECRET not in repr(error.to_dict())
    assert len(seen) == 3  # the cap: never more logins than max_tries


def test_profile_without_obtainable_password_is_skipped_without_costing_a_try(
    profiles: ProfileSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AMTKIT_TEST_LAB_PASSWORD", raising=False)
    monkeypatch.setitem(sys.modules, "keyring", None)
    seen, attempt = rejecting()
    with pytest.raises(NoWorkingProfileError) as info:
        profiles.first_working("10.0.0.5", attempt)  # type: ignore[arg-type]
    assert info.value.tried == ("corp", "spare") and info.value.untried == ()
    assert "AMTKIT_TEST_LAB_PASSWORD is not set" in str(info.value) and "'keyring' package" in str(info.value)
    assert SECRET not in str(info.value)


def test_exhausted_profiles_forget_the_remembered_name(profiles: ProfileSet, store: Store) -> None:
    store.remember_profile("10.0.0.5", "corp")
    _, attempt = rejecting()
    with pytest.raises(NoWorkingProfileError):
        profiles.first_working("10.0.0.5", attempt, store, max_tries=1)  # type: ignore[arg-type]
    assert store.profile_for("10.0.0.5") is None


def test_exhausted_error_is_an_authentication_error() -> None:
    assert issubclass(NoWorkingProfileError, AuthenticationError)


def test_non_rejection_error_stops_at_once(profiles: ProfileSet) -> None:
    calls: list[str] = []

    def attempt(credentials: Credentials) -> str:
        calls.append(credentials.username)
        raise ConnectionRefusedError("down")

    with pytest.raises(ConnectionRefusedError):
        profiles.first_working("10.0.0.5", attempt)
    assert calls == ["admin"]


def test_first_working_async_behaves_like_the_blocking_one(profiles: ProfileSet, store: Store) -> None:
    async def attempt(credentials: Credentials) -> int:
        if credentials.password != SECRET:
            raise AuthenticationError("no")
        return 7

    profile, result = asyncio.run(profiles.first_working_async("10.0.0.8", attempt, store))
    assert (profile.name, result) == ("corp", 7) and store.profile_for("10.0.0.8") == "corp"
