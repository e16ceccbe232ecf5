"""The local SQLite store: location, schema versioning, discovery records, remembered profile names, threads."""

from __future__ import annotations

import ipaddress
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amtkit.discovery import Classification, ControlMode, HostRecord, ProvisioningState
from amtkit.store import MIGRATIONS, SCHEMA_VERSION, Store, StoreError, default_store_path, normalize_host

SEEN = datetime(2024, 5, 1, 12, 30, tzinfo=timezone.utc)


def amt_record(host: str = "10.0.0.5", **changes: object) -> HostRecord:
    fields: dict[str, object] = dict(
        host=host,
        address=host,
        classification=Classification.AMT_PRESENT,
        seen_at=SEEN,
        version="15.0.23.1706",
        provisioning_state=ProvisioningState.POST,
        control_mode=ControlMode.ACM,
        tls_only=True,
        ports_open=(16993,),
        rmcp_answered=True,
        dash=True,
        server="Intel(R) Active Management Technology 15.0.23.1706",
        detail="",
    )
    fields.update(changes)
    return HostRecord(**fields)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = Store.open(tmp_path / "amtkit.db")
    yield opened  # type: ignore[misc]
    opened.close()


def test_open_creates_file_and_parent_directories(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "amtkit.db"
    with Store.open(path):
        pass
    assert path.is_file()


def test_new_store_has_current_schema_version(store: Store) -> None:
    assert store.schema_version == SCHEMA_VERSION == len(MIGRATIONS)


def test_default_path_follows_amtkit_store_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AMTKIT_STORE", str(tmp_path / "x.db"))
    assert default_store_path() == tmp_path / "x.db"


def test_default_path_is_under_xdg_data_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AMTKIT_STORE", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    if default_store_path().parent.parent != tmp_path:
        pytest.skip("not an XDG platform")
    assert default_store_path() == tmp_path / "amtkit" / "amtkit.db"


def test_open_without_path_uses_the_env_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AMTKIT_STORE", str(tmp_path / "env.db"))
    with Store.open() as opened:
        assert opened.path == str(tmp_path / "env.db")


def test_saved_record_comes_back_field_for_field(store: Store) -> None:
    record = amt_record()
    store.save_discovery([record])
    assert store.get("10.0.0.5") == record


def test_record_with_unknown_fields_round_trips(store: Store) -> None:
    record = amt_record("10.0.0.6", classification=Classification.NO_RESPONSE, version=None,
                        provisioning_state=None, control_mode=ControlMode.UNKNOWN, tls_only=False,
                        ports_open=(), rmcp_answered=False, dash=None, server=None, detail="timeout")
    store.save_discovery([record])
    assert store.get("10.0.0.6") == record


def test_newer_record_replaces_older_one(store: Store) -> None:
    store.save_discovery([amt_record()])
    store.save_discovery([amt_record(version="16.1.25.2020")])
    assert store.get("10.0.0.5").version == "16.1.25.2020"  # type: ignore[union-attr]
    assert store.hosts() == ["10.0.0.5"]


def test_save_returns_number_of_records(store: Store) -> None:
    assert store.save_discovery(amt_record(f"10.0.0.{i}") for i in range(1, 4)) == 3


def test_hosts_are_sorted_and_filterable_by_classification(store: Store) -> None:
    store.save_discovery([
        amt_record("10.0.0.9"),
        amt_record("10.0.0.1", classification=Classification.PORTS_CLOSED),
        amt_record("10.0.0.3"),
    ])
    assert store.hosts() == ["10.0.0.1", "10.0.0.3", "10.0.0.9"]
    assert store.hosts(Classification.AMT_PRESENT) == ["10.0.0.3", "10.0.0.9"]


def test_records_lists_every_host(store: Store) -> None:
    store.save_discovery([amt_record("b.example"), amt_record("a.example")])
    assert [r.host for r in store.records()] == ["a.example", "b.example"]


def test_get_unknown_host_is_none(store: Store) -> None:
    assert store.get("10.9.9.9") is None


def test_host_names_are_matched_case_insensitively(store: Store) -> None:
    store.save_discovery([amt_record("AMT-01.Example.com")])
    assert store.get("amt-01.example.COM") is not None


def test_remembered_profile_name_is_returned(store: Store) -> None:
    store.remember_profile("10.0.0.5", "corp")
    assert store.profile_for("10.0.0.5") == "corp"


def test_remembering_again_replaces_the_profile(store: Store) -> None:
    store.remember_profile("10.0.0.5", "corp")
    store.remember_profile("10.0.0.5", "lab")
    assert store.profile_for("10.0.0.5") == "lab"


def test_forgotten_profile_is_gone(store: Store) -> None:
    store.remember_profile("10.0.0.5", "corp")
    store.forget_profile("10.0.0.5")
    assert store.profile_for("10.0.0.5") is None


def test_profile_for_unknown_host_is_none(store: Store) -> None:
    assert store.profile_for("10.0.0.77") is None


def test_data_survives_reopening(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.db") as first:
        first.save_discovery([amt_record()])
        first.remember_profile("10.0.0.5", "corp")
    with Store.open(tmp_path / "s.db") as second:
        assert second.get("10.0.0.5") == amt_record() and second.profile_for("10.0.0.5") == "corp"


def test_missing_migrations_are_applied_to_an_old_store(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    db.execute("INSERT INTO schema_version VALUES (0)")
    db.commit()
    db.close()
    with Store.open(path) as opened:
        opened.remember_profile("h", "p")
        assert opened.schema_version == SCHEMA_VERSION


def test_store_from_a_newer_amtkit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    Store.open(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    db.commit()
    db.close()
    with pytest.raises(StoreError, match=f"schema version {SCHEMA_VERSION + 1}"):
        Store.open(path)


def test_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="junk.db"):
        Store.open(path)


def test_in_memory_store_works() -> None:
    with Store.open(":memory:") as memory:
        memory.save_discovery([amt_record()])
        assert memory.hosts() == ["10.0.0.5"]


def test_store_never_holds_a_password_column(store: Store) -> None:
    db = sqlite3.connect(store.path)
    columns = [row[1] for table in ("discovery", "credential_profile")
               for row in db.execute(f"PRAGMA table_info({table})")]
    db.close()
    assert not any("pass" in column or "secret" in column for column in columns)


def test_threads_can_share_one_store(store: Store) -> None:
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(25):
                store.save_discovery([amt_record(f"10.{n}.0.{i}")])
                store.remember_profile(f"10.{n}.0.{i}", "corp")
                store.get(f"10.{n}.0.{i}")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(store.hosts()) == 200


_ADDRESS_LIKE = st.text(alphabet="0123456789.:abcdefABCDEF%x -", max_size=24)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_ADDRESS_LIKE, st.ip_addresses().map(str), st.ip_addresses(v=4).map(lambda a: str(a) + ".")))
def test_hosts_are_keyed_as_the_ipaddress_module_writes_addresses(text: str) -> None:
    stripped = text.strip().lower().rstrip(".")
    try:
        expected = str(ipaddress.ip_address(stripped))
    except ValueError:
        expected = stripped
    assert normalize_host(text) == expected


def test_a_store_opened_without_a_path_is_created_where_default_store_path_says(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("AMTKIT_STORE", str(tmp_path / "new" / "dir" / "x.db"))
    with Store.open() as store:
        assert Path(store.path) == default_store_path() == tmp_path / "new" / "dir" / "x.db"
    assert (tmp_path / "new" / "dir" / "x.db").exists()
