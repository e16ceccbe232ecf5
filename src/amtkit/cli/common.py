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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from .. import exceptions as exc
from ..client import Client
from ..config import Timeout, TLSConfig

F = TypeVar("F", bound=Callable[..., Any])

PASSWORD_ENV = "AMT_PASSWORD"
USER_ENV = "AMT_USER"


@dataclass
class Connection:
    """Parsed connection options; :meth:`client` opens a :class:`Client` for one host."""

    username: str
    port: int | None
    tls: TLSConfig | None
    timeout: float
    as_json: bool
    _password: str | None = None

    def password(self) -> str:
        if self._password is None:
            self._password = os.environ.get(PASSWORD_ENV)
        if self._password is None:
            if not sys.stdin.isatty():
                raise click.UsageError(f"no password: set {PASSWORD_ENV} (passwords are never taken as arguments)")
            self._password = getpass.getpass(f"AMT password for {self.username}: ")
        return self._password

    def client(self, host: str) -> Client:
        return Client(host, username=self.username, password=self.password(), port=self.port, tls=self.tls,
                      timeout=Timeout(self.timeout))


def connection_options(command: F) -> F:
    """Add ``--user --port --tls --ca-file --pin-sha256 --insecure --client-cert --timeout --json``."""
    options = [
        click.option("--user", "-u", "username", envvar=USER_ENV, default="admin", show_default=True,
                     help=f"Digest user (or {USER_ENV}). The password comes from {PASSWORD_ENV} or a prompt."),
        click.option("--port", type=int, default=None, help="WS-Man port [16992, or 16993 with --tls]."),
        click.option("--tls", is_flag=True, help="Use TLS (port 16993); the certificate is verified."),
        click.option("--ca-file", type=click.Path(exists=True, dir_okay=False), help="CA bundle to verify TLS with."),
        click.option("--pin-sha256", help="Trust exactly the certificate with this SHA-256 fingerprint."),
        click.option("--insecure", is_flag=True, help="Do not verify the TLS certificate (not recommended)."),
        click.option("--client-cert", type=click.Path(exists=True, dir_okay=False),
                     help="PEM with client certificate and key for mutual TLS."),
        click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds to wait for answers."),
        click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def make_connection(username: str, port: int | None, tls: bool, ca_file: str | None, pin_sha256: str | None,
                    insecure: bool, client_cert: str | None, timeout: float, as_json: bool) -> Connection:
    tls_config = None
    if tls or ca_file or pin_sha256 or insecure or client_cert:
        try:
            tls_config = TLSConfig(ca_file=ca_file, pin_sha256=pin_sha256, insecure=insecure, client_cert=client_cert)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--pin-sha256") from None
    return Connection(username=username, port=port, tls=tls_config, timeout=timeout, as_json=as_json)


def emit(data: dict[str, Any], as_json: bool, text: Callable[[dict[str, Any]], str]) -> None:
    if as_json:
        click.echo(json.dumps(data, default=str, sort_keys=False))
    else:
        click.echo(text(data))


def report_error(error: exc.AMTError, as_json: bool) -> int:
    code = exc.EXIT_CODES.get(error.category, 1)
    if as_json:
        click.echo(json.dumps({"ok": False, **error.to_dict(), "exit_code": code}))
    else:
        click.echo(f"amtkit: {error}", err=True)
        if error.hint:
            click.echo(f"  hint: {error.hint}", err=True)
    return code


def handle_errors(command: F) -> F:
    """Turn amtkit errors into one readable line and the category's exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        as_json = bool(kwargs.get("as_json"))
        try:
            return command(*args, **kwargs)
        except exc.AMTError as error:
            sys.exit(report_error(error, as_json))
        except KeyboardInterrupt:
            click.echo("amtkit: interrupted", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]
