"""The local store: what amtkit learned about each host, in one SQLite file.

Two kinds of facts live here, never secrets:

* the **OOB capability record** of each host, the latest :class:`~amtkit.discovery.HostRecord` seen
  by discovery (a newer record of a host replaces the older one; an older one never replaces a newer);
* the **credential profile name** last known to work for each host, so a fleet job tries it first
  (see :mod:`amtkit.profiles`). Only the name is stored; passwords stay in the profile file, the
  environment or the keyring.

Location: the ``path`` given to :meth:`Store.open`, else ``$AMTKIT_STORE``, else the user data
directory (``$XDG_DATA_HOME/amtkit/amtkit.db``, ``~/.local/share/amtkit/amtkit.db``; on Windows
``%LOCALAPPDATA%\\amtkit``, on macOS ``~/Library/Application Support/amtkit``).

Schema: the ``schema_version`` table holds one row, the number of :data:`MIGRATIONS` applied. Opening
a store applies the missing ones in order, each in its own transaction; a store written by a newer
amtkit (higher version) is refused rather than misread. To change the schema, append a migration;
never edit one that has shipped.

One connection is shared by all threads behind a lock, enough for a fleet job whose workers record
results as they come. WAL journaling lets other processes read meanwhile.

Every failure is a :class:`StoreError` saying what could not be done and why (the SQLite error is its
``__cause__``): an unreadable or corrupt file, a store locked by another process for longer than the
busy timeout, a record this amtkit cannot read. The store only remembers: commands that do not need it
warn and go on without it.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

from amtkit.codes import ProvisioningState
from amtkit.exceptions import AMTError

if TYPE_CHECKING:  # the prober (and asyncio) only for those who read discovery records: every command records
    from pathlib import Path

    from amtkit.discovery.probe import Classification, HostRecord

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Store", "StoreError", "default_store_path", "normalize_host"]

MIGRATIONS: Sequence[Sequence[str]] = (
    # 1: discovery records and remembered credential profile names
    (
        """CREATE TABLE discovery (
            host TEXT PRIMARY KEY,
            address TEXT,
            seen_at TEXT NOT NULL,
            classification TEXT NOT NULL,
            version TEXT,
            provisioning_state INTEGER,
            control_mode TEXT NOT NULL,
            ports TEXT NOT NULL,
            tls_only INTEGER NOT NULL,
            rmcp_answered INTEGER NOT NULL,
            dash INTEGER,
            server TEXT,
            detail TEXT NOT NULL
        )""",
        "CREATE INDEX discovery_classification ON discovery (classification)",
        """CREATE TABLE credential_profile (
            host TEXT PRIMARY KEY,
            profile TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
    ),
    # 2: fleet jobs and each host's result, written as hosts finish (resume after a crash)
    (
        """CREATE TABLE job (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            operator TEXT NOT NULL,
            task TEXT NOT NULL,
            parameters TEXT NOT NULL,
            options TEXT NOT NULL,
            idempotent INTEGER NOT NULL,
            state TEXT NOT NULL,
            pid INTEGER,
            hosts INTEGER NOT NULL
        )""",
        """CREATE TABLE job_host (
            job_id INTEGER NOT NULL REFERENCES job (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            host TEXT NOT NULL,
            state TEXT NOT NULL,
            outcome TEXT,
            category TEXT,
            message TEXT,
            hint TEXT,
            return_code INTEGER,
            attempts INTEGER NOT NULL DEFAULT 0,
            duration REAL,
            data TEXT,
            started_at TEXT,
            finished_at TEXT,
            PRIMARY KEY (job_id, position)
        )""",
        "CREATE INDEX job_host_state ON job_host (job_id, state)",
    ),
    # 3: the activity log: every operation on a machine, hash-chained (amtkit.activity)
    (
        """CREATE TABLE activity (
            seq INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            operator TEXT NOT NULL,
            host TEXT NOT NULL,
            operation TEXT NOT NULL,
            parameters TEXT NOT NULL,
            outcome TEXT NOT NULL,
            category TEXT,
            return_code INTEGER,
            job_id INTEGER,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        )""",
        "CREATE INDEX activity_host ON activity (host, at)",
        "CREATE INDEX activity_operation ON activity (operation, at)",
        "CREATE INDEX activity_at ON activity (at)",
    ),
    # 4: quarantines: who is cut off since when, by whom, due when, released by whom (amtkit.quarantine)
    (
        """CREATE TABLE quarantine (
            host TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            filters TEXT NOT NULL,
            filters_xml TEXT NOT NULL,
            filters_sha256 TEXT NOT NULL,
            managers TEXT NOT NULL,
            safety_timeout INTEGER NOT NULL,
            reason TEXT,
            requested_by TEXT NOT NULL,
            requested_at TEXT NOT NULL,
            due_at TEXT NOT NULL,
            connection TEXT NOT NULL,
            applied_at TEXT,
            applied_by TEXT,
            refreshed_at TEXT,
            released_at TEXT,
            released_by TEXT,
            last_error TEXT,
            last_category TEXT,
            job_id INTEGER
        )""",
        "CREATE INDEX quarantine_due ON quarantine (state, due_at)",
    ),
    # 5: alerts pushed by devices and stored by the manager, once each (amtkit.events.storage)
    (
        """CREATE TABLE alert (
            seq INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            device TEXT NOT NULL,
            sender TEXT NOT NULL,
            time TEXT,
            stored_at TEXT NOT NULL,
            kind TEXT NOT NULL,
            message_id TEXT NOT NULL,
            arguments TEXT NOT NULL,
            severity TEXT NOT NULL,
            description TEXT NOT NULL,
            identifier TEXT NOT NULL,
            filter TEXT NOT NULL
        )""",
        "CREATE INDEX alert_device ON alert (device, time)",
        "CREATE INDEX alert_kind ON alert (kind, time)",
        "CREATE INDEX alert_time ON alert (time)",
    ),
)
"""Schema migrations; migration N (1-based) brings the schema to version N."""

SCHEMA_VERSION = len(MIGRATIONS)
"""The schema version this amtkit writes."""


class StoreError(AMTError):
    """The store cannot be opened or used (unreadable, corrupt or locked file, schema from a newer
    amtkit, a record that cannot be read); the message says which store and why."""

    category = "error"
    default_hint = "the store only remembers (discovery results, profile names, jobs): move the file away to start afresh"


_T = TypeVar("_T")


def default_store_path() -> Path:
    """``$AMTKIT_STORE`` if set, else ``amtkit.db`` in the platform's user data directory."""
    from pathlib import Path

    return Path(_default_store_name())


def _default_store_name() -> str:
    # os.path, not pathlib: every command opens the store to log its activity, and pathlib (with the
    # urllib.parse it imports) cost 2.8 ms of each CLI call.
    override = os.environ.get("AMTKIT_STORE")
    if override:
        return os.path.expanduser(override)
    home = os.path.expanduser("~")
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.join(home, "AppData", "Local")
    elif sys.platform == "darwin":
        base = os.path.join(home, "Library", "Application Support")
    else:
        base = os.environ.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share")
    return os.path.join(base, "amtkit", "amtkit.db")


def normalize_host(host: str) -> str:
    """The key a host is stored under: lower case, addresses in canonical form."""
    host = host.strip().lower().rstrip(".")
    if ":" not in host and (host.strip("0123456789.") or _canonical_ipv4(host)):
        return host  # a name (no address is written with other characters), or already canonical
    import ipaddress  # only for what may be an address in another form: 1 ms of every CLI call otherwise

    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host


def _canonical_ipv4(text: str) -> bool:
    """Whether ``text`` is a dotted-quad IPv4 address exactly as :mod:`ipaddress` writes it."""
    parts = text.split(".")
    return len(parts) == 4 and all(
        part.isdigit() and part.isascii() and (part == "0" or not part.startswith("0")) and int(part) <= 255
        for part in parts)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


_COLUMNS = (
    "host, address, seen_at, classification, version, provisioning_state, control_mode, "
    "ports, tls_only, rmcp_answered, dash, server, detail"
)


def _row(record: HostRecord) -> tuple[object, ...]:
    return (
        normalize_host(record.host),
        record.address,
        record.seen_at.astimezone(timezone.utc).isoformat(),
        record.classification.value,
        record.version,
        None if record.provisioning_state is None else int(record.provisioning_state),
        record.control_mode.value,
        ",".join(str(port) for port in record.ports_open),
        int(record.tls_only),
        int(record.rmcp_answered),
        None if record.dash is None else int(record.dash),
        record.server,
        record.detail,
    )


def _record(row: sqlite3.Row) -> HostRecord:
    from amtkit.discovery.probe import Classification, ControlMode, HostRecord

    state = row["provisioning_state"]
    dash = row["dash"]
    return HostRecord(
        host=row["host"],
        address=row["address"],
        classification=Classification(row["classification"]),
        seen_at=datetime.fromisoformat(row["seen_at"]),
        version=row["version"],
        provisioning_state=None if state is None else ProvisioningState(state),
        control_mode=ControlMode(row["control_mode"]),
        tls_only=bool(row["tls_only"]),
        ports_open=tuple(int(p) for p in row["ports"].split(",") if p),
        rmcp_answered=bool(row["rmcp_answered"]),
        dash=None if dash is None else bool(dash),
        server=row["server"],
        detail=row["detail"],
    )


class Store:
    """The amtkit store. Open with :meth:`open`; usable as a context manager; thread-safe."""

    def __init__(self, connection: sqlite3.Connection, path: str) -> None:
        self._db = connection
        self._lock = threading.RLock()
        self.path = path

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None, *, busy_timeout: float = 10.0) -> Store:
        """Open (creating if needed) the store at ``path`` (default :func:`default_store_path`).

        ``":memory:"`` gives a private in-memory store. Missing migrations are applied. A store another
        process holds locked is waited for up to ``busy_timeout`` seconds, here and in every later call.
        Raises :class:`StoreError` if the file is not a usable SQLite database, stays locked, or its
        schema is newer than this amtkit knows.
        """
        name = os.fspath(path) if path is not None else _default_store_name()
        try:
            if name != ":memory:":
                os.makedirs(os.path.dirname(os.path.abspath(name)), exist_ok=True)
            connection = sqlite3.connect(name, timeout=busy_timeout, check_same_thread=False, isolation_level=None)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open store {name}: {exc}") from exc
        connection.row_factory = sqlite3.Row
        store = cls(connection, name)
        try:
            if name != ":memory:":
                connection.execute("PRAGMA journal_mode=WAL")
                # In WAL mode NORMAL loses nothing committed when a process is killed (only a power
                # cut may take the last transactions), and a commit costs no fsync.
                connection.execute("PRAGMA synchronous=NORMAL")
            store._migrate()
        except sqlite3.Error as exc:
            connection.close()
            raise StoreError(f"cannot use store {name}: {exc}") from exc
        except StoreError:
            connection.close()
            raise
        return store

    def _migrate(self) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")  # one process migrates at a time
        try:
            db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = db.execute("SELECT version FROM schema_version").fetchone()
            if row is None:
                db.execute("INSERT INTO schema_version (version) VALUES (0)")
                current = 0
            else:
                current = int(row[0])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"store {self.path} has schema version {current}; this amtkit knows up to {SCHEMA_VERSION}"
            )
        for number in range(current + 1, SCHEMA_VERSION + 1):
            db.execute("BEGIN IMMEDIATE")
            try:
                (done,) = db.execute("SELECT version FROM schema_version").fetchone()
                if done < number:  # another process may have applied it meanwhile
                    for statement in MIGRATIONS[number - 1]:
                        db.execute(statement)
                    db.execute("UPDATE schema_version SET version = ?", (number,))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def _run(self, what: str, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """``work(connection)`` under the lock; a failure is a StoreError saying ``what`` failed and why."""
        with self._lock:
            try:
                return work(self._db)
            except (sqlite3.Error, ValueError, TypeError) as error:
                raise StoreError(f"store {self.path}: cannot {what}: {error}") from error

    @property
    def schema_version(self) -> int:
        return self._run("read the schema version",
                         lambda db: int(db.execute("SELECT version FROM schema_version").fetchone()[0]))

    # ------------------------------------------------------------------ discovery records

    def save_discovery(self, records: Iterable[HostRecord]) -> int:
        """Store records in one transaction; return how many were given.

        A host's record replaces the stored one unless that one is newer (a later ``seen_at``): results
        of a slow or resumed scan never overwrite what a later scan found.
        """
        rows = [_row(record) for record in records]
        updates = ", ".join(f"{column} = excluded.{column}" for column in _COLUMNS.split(", ")[1:])
        with self.transaction() as db:
            try:
                db.executemany(
                    f"INSERT INTO discovery ({_COLUMNS}) VALUES ({', '.join('?' * 13)}) "
                    f"ON CONFLICT (host) DO UPDATE SET {updates} "
                    "WHERE julianday(excluded.seen_at) >= julianday(discovery.seen_at)", rows
                )
            except sqlite3.Error as error:
                raise StoreError(f"store {self.path}: cannot save discovery records: {error}") from error
        return len(rows)

    def hosts(self, classification: Classification | None = None) -> list[str]:
        """Hosts with a discovery record, sorted; only those of ``classification`` if given."""
        if classification is None:
            rows = self.query("SELECT host FROM discovery ORDER BY host")
        else:
            rows = self.query("SELECT host FROM discovery WHERE classification = ? ORDER BY host",
                              (classification.value,))
        return [row[0] for row in rows]

    def get(self, host: str) -> HostRecord | None:
        """The latest discovery record of ``host``, or ``None``.

        The record comes back without the raw ``pong`` and ``identify`` evidence.
        """
        rows = self.query(f"SELECT {_COLUMNS} FROM discovery WHERE host = ?", (normalize_host(host),))
        return self._run(f"read the record of {host}", lambda _: _record(rows[0])) if rows else None

    def records(self) -> list[HostRecord]:
        """Every discovery record, sorted by host."""
        rows = self.query(f"SELECT {_COLUMNS} FROM discovery ORDER BY host")
        return self._run("read the discovery records", lambda _: [_record(row) for row in rows])

    # ------------------------------------------------------------------ credential profile names

    def remember_profile(self, host: str, name: str) -> None:
        """Remember that profile ``name`` (a name, never a secret) worked for ``host``."""
        self._run(f"remember the profile of {host}", lambda db: db.execute(
            "INSERT OR REPLACE INTO credential_profile (host, profile, updated_at) VALUES (?, ?, ?)",
            (normalize_host(host), name, _now())))

    def profile_for(self, host: str) -> str | None:
        """The profile name last known to work for ``host``, or ``None``."""
        rows = self.query("SELECT profile FROM credential_profile WHERE host = ?", (normalize_host(host),))
        return str(rows[0][0]) if rows else None

    def forget_profile(self, host: str) -> None:
        """Drop the remembered profile of ``host`` (e.g. after it stopped working)."""
        self._run(f"forget the profile of {host}", lambda db: db.execute(
            "DELETE FROM credential_profile WHERE host = ?", (normalize_host(host),)))

    # ------------------------------------------------------------------ for the modules that own tables

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """The connection inside one ``BEGIN IMMEDIATE`` ... ``COMMIT`` (rolled back on an error), under the
        store's lock: the way fleet jobs, the activity log and quarantines write their own tables.

        Failing to begin or to commit (a locked or broken store) raises :class:`StoreError`; an SQLite
        error inside the block too, after the rollback; other errors go on unchanged."""
        with self._lock:
            self._run("begin a transaction", lambda db: db.execute("BEGIN IMMEDIATE"))
            try:
                yield self._db
                self._run("commit", lambda db: db.execute("COMMIT"))
            except BaseException as error:
                if self._db.in_transaction:
                    try:
                        self._db.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass  # the failure that brought us here is the one to report
                if isinstance(error, sqlite3.Error):
                    raise StoreError(f"store {self.path}: cannot write: {error}") from error
                raise

    def query(self, sql: str, parameters: Sequence[object] | Mapping[str, object] = ()) -> list[sqlite3.Row]:
        """Rows of one read-only statement."""
        return self._run("read", lambda db: db.execute(sql, parameters).fetchall())

    # ------------------------------------------------------------------ lifetime

    def close(self) -> None:
        """Close the connection. Idempotent."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store(path={self.path!r})"
