"""The store fails as a StoreError with a message, never as an SQLite error; an older discovery record
never replaces a newer one; a corrupt or locked store never stops a power command."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from amtkit.discovery import Classification, ControlMode, HostRecord, ProvisioningState
from amtkit.store import Store, StoreError

SEEN = datetime(2024, 5, 1, 12, 30, tzinfo=timezone.utc)


def record(seen_at: datetime, version: str) -> HostRecord:
    return HostRecord(host="10.0.0.5", address="10.0.0.5", classification=Classification.AMT_PRESENT,
                      seen_at=seen_at, version=version, provisioning_state=ProvisioningState.POST,
                      control_mode=ControlMode.ACM, tls_only=False, ports_open=(16992,), rmcp_answered=True,
                      dash=None, server=None, detail="")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "amtkit.db") as opened:
        yield opened


def test_an_older_record_does_not_replace_a_newer_one(store: Store) -> None:
    store.save_discovery([record(SEEN, "16.1.25")])
    store.save_discovery([record(SEEN - timedelta(hours=1), "15.0.23")])
    assert store.get("10.0.0.5").version == "16.1.25"  # type: ignore[union-attr]


def test_a_newer_record_replaces_an_older_one_even_within_one_second(store: Store) -> None:
    store.save_discovery([record(SEEN, "15.0.23")])
    store.save_discovery([record(SEEN + timedelta(milliseconds=250), "16.1.25")])
    assert store.get("10.0.0.5").version == "16.1.25"  # type: ignore[union-attr]


def test_in_one_batch_the_newest_record_of_a_host_wins(store: Store) -> None:
    store.save_discovery([record(SEEN, "16.1.25"), record(SEEN - timedelta(days=1), "11.8.50")])
    assert store.get("10.0.0.5").version == "16.1.25"  # type: ignore[union-attr]


def test_a_closed_store_fails_with_a_store_error(tmp_path: Path) -> None:
    opened = Store.open(tmp_path / "amtkit.db")
    opened.close()
    for use in (opened.hosts, opened.records, lambda: opened.get("h"), lambda: opened.profile_for("h"),
                lambda: opened.remember_profile("h", "p"), lambda: opened.save_discovery([record(SEEN, "1")])):
        with pytest.raises(StoreError, match="amtkit.db"):
            use()


def test_a_record_this_amtkit_cannot_read_is_a_store_error(store: Store) -> None:
    store.save_discovery([record(SEEN, "16.1.25")])
    with store.transaction() as db:
        db.execute("UPDATE discovery SET classification = 'martian'")
    with pytest.raises(StoreError, match="cannot read"):
        store.records()


def test_an_sql_failure_inside_a_transaction_is_a_store_error_and_rolled_back(store: Store) -> None:
    with pytest.raises(StoreError, match="cannot write"), store.transaction() as db:
        db.execute("INSERT INTO credential_profile (host, profile, updated_at) VALUES ('h', 'p', 'now')")
        db.execute("INSERT INTO no_such_table VALUES (1)")
    assert store.profile_for("h") is None


def test_a_store_locked_by_another_process_is_a_store_error_after_the_wait(tmp_path: Path) -> None:
    path = tmp_path / "amtkit.db"
    Store.open(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreError, match="locked"):
            Store.open(path, busy_timeout=0.2)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_an_unwritable_location_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="cannot open store"):
        Store.open(blocker / "amtkit.db")


# -- a power command goes on without the store ----------------------------------------------------------


def power_status(device, store_path: Path) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    env = {**os.environ, "AMT_PASSWORD": device.password, "AMTKIT_STORE": str(store_path)}
    return subprocess.run(
        [sys.executable, "-m", "amtkit.cli.main", "power", "status", device.host, "--port", str(device.port),
         "--timeout", "5"], capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=60)


def test_a_corrupt_store_costs_a_power_command_only_a_warning(amt_device, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    corrupt = tmp_path / "amtkit.db"
    corrupt.write_bytes(b"this is not an SQLite database, just bytes" * 100)
    done = power_status(amt_device, corrupt)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{amt_device.host}: on")
    assert "warning:" in done.stderr and "continuing without the local store" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_locked_store_costs_a_power_command_only_a_warning(amt_device, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "amtkit.db"
    Store.open(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        done = power_status(amt_device, path)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{amt_device.host}: on")
    assert "warning:" in done.stderr and "Traceback" not in done.stderr
