"""What every ``amtkit`` command shares: connection options, output, errors -> exit codes.

Passwords never come from the command line: ``AMT_PASSWORD`` in the environment, or a
prompt when a terminal is attached. Errors print one line (plus a hint) on stderr and exit
with the code of their category (:data:`amtkit.exceptions.EXIT_CODES`); never a traceback.
"""

from __future__ import annotations

import functools
import getpass
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .. import exceptions as exc
from ..config import Timeout, TLSConfig
from ..text import printable_data, terminal_safe

if TYPE_CHECKING:
    from ..client import Client
    from ..store import Store

F = TypeVar("F", bound=Callable[..., Any])

PASSWORD_ENV = "AMT_PASSWORD"
USER_ENV = "AMT_USER"
GENERATION_ENV = "AMTKIT_GENERATION"
TRANSPORT_ENV = "AMTKIT_TRANSPORT"


@dataclass
class Connection:
    """Parsed connection options; :meth:`client` opens a :class:`Client` for one host."""

    username: str
    port: int | None
    tls: TLSConfig | None
    timeout: float
    as_json: bool
    generation: str = "auto"
    """``--generation``: WS-Man, legacy SOAP (AMT 2.x-8.x), or chosen from the version."""
    transport: str = "builtin"
    """``--transport``: the built-in WS-Man transport or requests (proxies from the environment)."""
    _password: str | None = field(default=None, repr=False)
    """Never in the repr: a Connection may end up in a log line or a traceback."""

    def password(self) -> str:
        if self._password is None:
            self._password = os.environ.get(PASSWORD_ENV)
        if self._password is None:
            if not sys.stdin.isatty():
                raise click.UsageError(f"no password: set {PASSWORD_ENV} (passwords are never taken as arguments)")
            self._password = getpass.getpass(f"AMT password for {self.username}: ")
        return self._password

    def client(self, host: str) -> Client:
        from ..client import Client

        return Client(host, username=self.username, password=self.password(), **self.client_options())

    def client_options(self) -> dict[str, Any]:
        """What every client of this command is built with, credentials aside."""
        return {"port": self.port, "tls": self.tls, "timeout": Timeout(self.timeout),
                "generation": self.generation, "transport": self.transport}


def connection_options(command: F) -> F:
    """Add ``--user --port --tls --ca-file --pin-sha256 --pin-file --insecure --client-cert --allow-old-tls
    --timeout --generation --transport --json``."""
    options = [
        click.option("--user", "-u", "username", envvar=USER_ENV, default="admin", show_default=True,
                     help=f"Digest user (or {USER_ENV}). The password comes from {PASSWORD_ENV} or a prompt."),
        click.option("--port", type=click.IntRange(1, 65535), default=None,
                     help="WS-Man port [16992, or 16993 with --tls]."),
        click.option("--tls", is_flag=True, help="Use TLS (port 16993); the certificate is verified."),
        click.option("--ca-file", type=click.Path(exists=True, dir_okay=False), help="CA bundle to verify TLS with."),
        click.option("--pin-sha256", help="Trust exactly the certificate with this SHA-256 fingerprint."),
        click.option("--pin-file", type=click.Path(dir_okay=False),
                     help="Pins per host ('HOST SHA256' lines, filled by `amtkit fingerprint --pin-file`): "
                          "each host must present its own pinned certificate."),
        click.option("--insecure", is_flag=True, help="Do not verify the TLS certificate (not recommended)."),
        click.option("--client-cert", type=click.Path(exists=True, dir_okay=False),
                     help="PEM with client certificate and key for mutual TLS."),
        click.option("--allow-old-tls", is_flag=True,
                     help="Also accept TLS 1.0/1.1 and their SHA-1 suites, all firmware before AMT 12 speaks "
                          "(implies --tls; warns when a connection uses them)."),
        click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=30.0, show_default=True,
                     help="Seconds to wait for each answer."),
        click.option("--generation", type=click.Choice(["auto", "wsman", "eoi"]), envvar=GENERATION_ENV,
                     default="auto", show_default=True,
                     help="AMT generation: WS-Man, legacy SOAP (eoi, AMT 2.x-8.x), or auto (from the "
                          f"version; or {GENERATION_ENV})."),
        click.option("--transport", type=click.Choice(["builtin", "requests"]), envvar=TRANSPORT_ENV,
                     default="builtin", show_default=True,
                     help="WS-Man transport: built-in (fastest) or requests (HTTPS_PROXY and friends; "
                          f"or {TRANSPORT_ENV})."),
        click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def make_connection(username: str, port: int | None, tls: bool, ca_file: str | None, pin_sha256: str | None,
                    insecure: bool, client_cert: str | None, timeout: float, as_json: bool,
                    generation: str = "auto", transport: str = "builtin", pin_file: str | None = None,
                    allow_old_tls: bool = False) -> Connection:
    tls_config = None
    if tls or ca_file or pin_sha256 or pin_file or insecure or client_cert or allow_old_tls:
        try:
            tls_config = TLSConfig(ca_file=ca_file, pin_sha256=pin_sha256, insecure=insecure, client_cert=client_cert,
                                   pin_file=pin_file, allow_old_tls=allow_old_tls)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--pin-sha256") from error
    return Connection(username=username, port=port, tls=tls_config, timeout=timeout, as_json=as_json,
                      generation=generation, transport=transport)


STORE_HELP = "The store [$AMTKIT_STORE, else the user data directory]."


def store_option(command: F) -> F:
    """Add ``--store FILE`` (passed as ``store_path``)."""
    return click.option("--store", "store_path", type=click.Path(dir_okay=False), default=None,
                        help=STORE_HELP)(command)


def profile_options(command: F) -> F:
    """Add ``--profiles FILE`` and ``--profile NAME`` (credential profiles; see :func:`open_client`)."""
    options = [
        click.option("--profiles", "profiles_file", type=click.Path(dir_okay=False), default=None,
                     help="Credential profile file (TOML): try its profiles in order instead of "
                          f"{PASSWORD_ENV}; the one that works is remembered per host."),
        click.option("--profile", "profile_name", default=None,
                     help="Use only this profile (from --profiles, else from the default profile file)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def open_client(conn: Connection, host: str, profiles_file: str | None, profile_name: str | None) -> Client:
    """A client for ``host``: the password path (:meth:`Connection.client`) unless profiles are asked for.

    ``--profile NAME`` uses that profile alone. ``--profiles FILE`` tries the file's profiles in order
    (the host's remembered profile first, at most the file's ``max_tries``), logging in with each, and
    remembers the one that worked in the local store (``$AMTKIT_STORE``; names only, never secrets).
    """
    if profiles_file is None and profile_name is None:
        return conn.client(host)
    from ..profiles import ProfileSet, connect

    profiles = ProfileSet.load(profiles_file)
    options: dict[str, Any] = conn.client_options()
    if profile_name is not None:
        from ..client import Client

        credentials = profiles[profile_name].credentials()
        return Client(host, username=credentials.username, password=credentials.password, **options)
    store = open_store_quietly()
    try:
        _profile, client = connect(host, profiles, store, **options)
    finally:
        if store is not None:
            store.close()
    return client


QUIET_STORE_WAIT = 2.0
"""Seconds a command that only records in the store waits for a store another process holds locked."""


def open_store_quietly(path: str | None = None) -> Store | None:
    """The local store, or ``None`` with a warning on stderr when it cannot be opened (corrupt, locked,
    unreadable): it only remembers, so the command goes on without it."""
    from ..store import Store, StoreError

    try:
        return Store.open(path, busy_timeout=QUIET_STORE_WAIT)
    except StoreError as error:
        click.echo(terminal_safe(f"amtkit: warning: {error}; continuing without the local store"), err=True)
        return None


@contextmanager
def logged(host: str, operation: str, parameters: Mapping[str, Any] | None = None) -> Iterator[None]:
    """Record the operation done inside in the activity log (:mod:`amtkit.activity`), with its outcome,
    error category and AMT return code; the error, if any, goes on to the caller unchanged."""
    try:
        yield
    except exc.AMTError as error:
        from ..fleet.report import return_code_of

        _log_activity(host, operation, parameters, "failed", error.category, return_code_of(error))
        raise
    except KeyboardInterrupt:
        _log_activity(host, operation, parameters, "cancelled", "cancelled", None)
        raise
    _log_activity(host, operation, parameters, "ok", None, None)


def _log_activity(host: str, operation: str, parameters: Mapping[str, Any] | None, outcome: str,
                  category: str | None, return_code: int | None) -> None:
    import sqlite3

    from ..activity import Entry, append
    from ..store import StoreError, normalize_host

    store = open_store_quietly()
    if store is None:
        return
    try:
        with store:
            append(store, [Entry(normalize_host(host), operation, outcome, dict(parameters or {}), category,
                                 return_code)])
    except (StoreError, sqlite3.Error) as error:
        click.echo(f"amtkit: warning: the activity log was not written: {error}", err=True)


def emit(data: dict[str, Any], as_json: bool, text: Callable[[dict[str, Any]], str]) -> None:
    """Print a result: JSON (ASCII-only, device text escaped by the encoder), or the text ``text`` makes
    of it, every device string in ``data`` made :func:`~amtkit.text.printable` first."""
    if as_json:
        click.echo(json.dumps(data, default=str, sort_keys=False))
    else:
        click.echo(terminal_safe(text(printable_data(data))))


def report_error(error: exc.AMTError, as_json: bool) -> int:
    code = exc.EXIT_CODES.get(error.category, 1)
    if as_json:
        click.echo(json.dumps({"ok": False, **error.to_dict(), "exit_code": code}))
    else:
        click.echo(terminal_safe(f"amtkit: {error}"), err=True)
        if error.hint:
            click.echo(terminal_safe(f"  hint: {error.hint}"), err=True)
    return code


def _why_refused(error: exc.AMTError, kwargs: dict[str, Any]) -> exc.AMTError:
    """A refused login or connection of one machine, told apart from a device that is not provisioned by its
    RMCP presence pong (as fleet jobs do; no login spent). The port: the command's ``--rmcp-port`` (its own or
    its fleet options'), else AMT's."""
    if error.host is None or not isinstance(error, (exc.AuthenticationError, exc.UnreachableError)):
        return error
    from ..discovery.presence import explain_refusal
    from ..discovery.rmcp import RMCP_PORT

    port = kwargs.get("rmcp_port") or getattr(kwargs.get("fleet"), "rmcp_port", None) or RMCP_PORT
    return explain_refusal(error.host, error, port) or error


def handle_errors(command: F) -> F:
    """Turn amtkit errors into one readable line and the category's exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        as_json = bool(kwargs.get("as_json"))
        try:
            return command(*args, **kwargs)
        except exc.AMTError as error:
            sys.exit(report_error(_why_refused(error, kwargs), as_json))
        except click.ClickException as error:
            if not as_json:
                raise
            # Scripts asked for JSON: give them JSON for usage errors too, with the usage exit code.
            sys.exit(report_error(exc.UsageError(error.format_message()), as_json))
        except KeyboardInterrupt:
            click.echo("amtkit: interrupted", err=True)
            sys.exit(130)
        except Exception as error:  # the backstop: a bug in amtkit still ends in one line, not a traceback
            if os.environ.get("AMTKIT_DEBUG"):
                raise
            message = f"internal error: {type(error).__name__}: {error} (please report it with the output of --trace; AMTKIT_DEBUG=1 shows the traceback)"
            sys.exit(report_error(exc.AMTError(message), as_json))

    return wrapper  # type: ignore[return-value]
