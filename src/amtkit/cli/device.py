"""``amtkit identify`` and ``amtkit fingerprint``: what a device is and which certificate it shows.

Registered on the ``amtkit`` group by :mod:`amtkit.cli.main` and imported only when one of them is
run (or ``--help`` lists them): a power read does not build their options.
"""

from __future__ import annotations

import os
from typing import Any

import click

from ..wsman import names
from .common import PASSWORD_ENV, connection_options, emit, handle_errors, logged, make_connection
from .fleet import FleetArgs, fleet_options, run_fleet, single_host

__all__ = ["fingerprint", "identify"]


@click.command()
@click.argument("targets", nargs=-1, required=True)
@connection_options
@fleet_options
@handle_errors
def identify(targets: tuple[str, ...], as_json: bool, fleet: FleetArgs, **options: Any) -> None:
    """Ask TARGETS what they are (WS-Man Identify: vendor, AMT version, security profiles).

    Identify needs no credentials and amtkit sends none, unless the firmware asks for them anyway:
    then --user and AMT_PASSWORD (if set; never prompted) are used.
    """
    conn = make_connection(as_json=as_json, **options)
    host = single_host(targets, fleet)
    if host is None:
        from ..fleet import Login, tasks

        run_fleet(tasks.identify(), targets, conn, None, None, fleet, login=Login(conn.username))
        return
    from ..client import Client
    from ..config import Timeout

    # Identify is answered without credentials; firmware that wants them anyway gets AMT_PASSWORD if set.
    password = os.environ.get(PASSWORD_ENV)
    with logged(host, "identify"), Client(host, username=conn.username, password=password, port=conn.port,
                                          tls=conn.tls, timeout=Timeout(conn.timeout)) as client:
        result = client.identify()
    data = {"ok": True, "host": host, "vendor": result.product_vendor, "product_version": result.product_version,
            "amt_version": result.amt_version, "protocol_version": result.protocol_version,
            "dash_version": result.dash_version, "security_profiles": list(result.security_profiles)}
    emit(data, as_json, lambda d: (
        f"{host}: {d['vendor']} {d['product_version']}\n  protocol: {d['protocol_version']}\n"
        + "".join(f"  profile: {p}\n" for p in d["security_profiles"])).rstrip())


for _param in identify.params:  # Identify sends no credentials: --user says when it is used at all
    if _param.name == "username":
        _param.help = ("Digest user, used only if the firmware asks for credentials even for Identify (with "
                       "AMT_PASSWORD if set; never prompted).")


@click.command()
@click.argument("hosts", nargs=-1, required=True)
@click.option("--port", type=click.IntRange(1, 65535), default=names.PORT_TLS, show_default=True,
              help="The TLS port.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=10.0, show_default=True,
              help="Seconds to wait.")
@click.option("--pin-file", type=click.Path(dir_okay=False),
              help="Record each new host's fingerprint in this pin file (trust on first use) and check "
                   "the ones already in it.")
@click.option("--allow-old-tls", is_flag=True,
              help="Also accept TLS 1.0/1.1, all firmware before AMT 12 speaks (warns when a host uses them).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@handle_errors
def fingerprint(hosts: tuple[str, ...], port: int, timeout: float, pin_file: str | None, allow_old_tls: bool,
                as_json: bool) -> None:
    """Show the SHA-256 fingerprint of each HOST's TLS certificate, to pin it with --pin-sha256.

    Nothing is verified: compare the fingerprint with one you trust (the provisioning record,
    the MEBx) before pinning it. With --pin-file, a host not yet in the file is added: that is
    trust on first use, and only as good as the network path of this first contact. A host whose
    certificate differs from its recorded pin is an error (exit 4) and the file keeps the old pin.
    """
    from ..exceptions import TLSError
    from ..tls import PinFile, fetch_sha256

    pins = PinFile(pin_file) if pin_file else None
    mismatched: list[str] = []
    for host in hosts:
        digest = fetch_sha256(host, port, timeout=timeout, allow_old_tls=allow_old_tls)
        data: dict[str, Any] = {"ok": True, "host": host, "port": port, "sha256": digest}
        if pins is not None:
            recorded = pins.pin_for(host)
            if recorded is None:
                pins.add(host, digest, note="trusted on first use")
                data["pin"] = "recorded"
            elif recorded == digest:
                data["pin"] = "matches"
            else:
                data.update(ok=False, pin="mismatch", pinned=recorded)
                mismatched.append(host)
        emit(data, as_json, _fingerprint_line)
    if mismatched:
        raise TLSError(f"{len(mismatched)} host(s) present a certificate other than the pinned one: "
                       f"{', '.join(mismatched[:5])}", reason="pin-mismatch",
                       hint="a changed certificate is expected only after reprovisioning; check before removing "
                            "the old pin from the pin file")


def _fingerprint_line(data: dict[str, Any]) -> str:
    notes = {"recorded": " (new: recorded in the pin file, trusted on first use)",
             "matches": " (matches the pin file)",
             "mismatch": f" (DIFFERS from the pinned {data.get('pinned')}: not changed)"}
    return f"{data['host']}:{data['port']} sha256 {data['sha256']}{notes.get(data.get('pin', ''), '')}"
