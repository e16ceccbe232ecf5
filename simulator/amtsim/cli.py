"""``amtkit-sim``: run simulated AMT devices from the command line.

    amtkit-sim run                       one device on 127.0.0.1:16992 (TLS 16993)
    amtkit-sim run --devices 20          twenty devices on 127.1.0.1 ... 127.1.0.20
    amtkit-sim run --scenario lab.toml   devices from a scenario file
    amtkit-sim example-scenario          print a commented scenario to start from
    amtkit-sim fleet-scenario --count N  print a scenario of N devices with a mix of conditions
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from pathlib import Path

import click

from amtkit.discovery.rmcp import RMCP_PORT
from amtkit.wsman import names

from .config import DeviceConfig
from .control_http import ControlServer
from .device import SimulatedDevice
from .fleetgen import CONDITIONS, FleetSpec, generate, parse_mix, render
from .listening import ListenError, reason_of
from .scenario import EXAMPLE, ScenarioError, load_scenario, parse_scenario
from .server import REQUEST_LOG, Simulator
from .services import default_rmcp_port, rmcp_port_state
from .tlscert import CertificateFiles


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="amtkit", prog_name="amtkit-sim")
def main() -> None:
    """Simulated Intel AMT devices for testing amtkit and other AMT consoles."""


@main.command()
@click.option("--scenario", type=click.Path(dir_okay=False, path_type=Path), help="TOML scenario file.")
@click.option("--devices", "count", type=int, default=None, help="Simulate N devices on consecutive loopback addresses.")
@click.option("--address", default=None, help="Address of the first device [127.0.0.1, or 127.1.0.1 with --devices].")
@click.option("--http-port", type=int, default=names.PORT_HTTP, show_default=True, help="WS-Man HTTP port (0 = any free).")
@click.option("--tls-port", type=int, default=names.PORT_TLS, show_default=True, help="WS-Man TLS port (-1 = none).")
@click.option("--redirection-port", type=int, default=None,
              help="SOL/IDE-R redirection port (0 = any free, -1 = none) [16994 with the standard --http-port, "
                   "any free with --http-port 0, else none; a scenario's own setting unless given].")
@click.option("--redirection-tls-port", type=int, default=None,
              help="Redirection over TLS (0 = any free, -1 = none) [16995 with the standard --tls-port, any free "
                   "with --tls-port 0, else none].")
@click.option("--rmcp-port", type=int, default=None,
              help="UDP port answering RMCP presence pings (-1 = none) [623 when allowed, else none; "
                   "a scenario's own setting unless given].")
@click.option("--username", default="admin", show_default=True)
@click.option("--password", envvar="AMTSIM_PASSWORD", default="P@ssw0rd", show_default=True,
              help="Digest password of every device (or AMTSIM_PASSWORD).")
@click.option("--amt-version", "amt_version", default="16.1.25", show_default=True,
              help="AMT firmware version the devices report.")
@click.option("--instant", is_flag=True, help="Power transitions take no time (other timings as configured).")
@click.option("--cert-dir", type=click.Path(file_okay=False, path_type=Path), help="Where the TLS certificate is kept.")
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Serve this PEM certificate instead of the generated one (with --tls-key).")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The PEM private key of --tls-cert.")
@click.option("--json", "as_json", is_flag=True, help="Print the device list as JSON (one line) when ready.")
@click.option("-v", "--verbose", is_flag=True,
              help="Log one line per request to stderr: device, user, action, class, outcome, time.")
@click.option("--control-port", type=click.IntRange(0, 65535), default=None,
              help="Serve the HTTP/JSON control endpoint on 127.0.0.1:PORT (0 = any free) [off].")
@click.option("--control-token", envvar="AMTSIM_CONTROL_TOKEN", default=None,
              help="Bearer token of the control endpoint (or AMTSIM_CONTROL_TOKEN) [random, printed when ready].")
def run(scenario: Path | None, count: int | None, address: str | None, http_port: int, tls_port: int,
        redirection_port: int | None, redirection_tls_port: int | None, rmcp_port: int | None, username: str,
        password: str, amt_version: str, instant: bool, cert_dir: Path | None, tls_cert: Path | None,
        tls_key: Path | None, as_json: bool, verbose: bool, control_port: int | None,
        control_token: str | None) -> None:
    """Serve simulated devices until interrupted (Ctrl-C or SIGTERM)."""
    configs = device_configs(scenario, count=count, address=address, http_port=http_port, tls_port=tls_port,
                             redirection_port=redirection_port, redirection_tls_port=redirection_tls_port,
                             rmcp_port=rmcp_port, username=username, password=password, amt_version=amt_version,
                             instant=instant)
    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError("--tls-cert and --tls-key go together")
    certificate = CertificateFiles(tls_cert, tls_key) if tls_cert is not None and tls_key is not None else None
    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        REQUEST_LOG.addHandler(handler)
        REQUEST_LOG.setLevel(logging.INFO)
    control = None if control_port is None else (control_port, control_token)
    rmcp_note = ""
    if rmcp_port is None and scenario is None and configs and configs[0].rmcp_port is None:
        rmcp_note = (f"no RMCP presence answers: UDP {RMCP_PORT} is {rmcp_port_state(RMCP_PORT)} "
                     "(--rmcp-port 0 answers on a free port)")
    asyncio.run(_serve(configs, cert_dir, certificate, as_json, control, rmcp_note))


def device_configs(scenario: Path | None, *, count: int | None = None, address: str | None = None,
                   http_port: int = names.PORT_HTTP, tls_port: int = names.PORT_TLS,
                   redirection_port: int | None = None, redirection_tls_port: int | None = None,
                   rmcp_port: int | None = None, username: str = "admin", password: str = "P@ssw0rd",
                   amt_version: str = "16.1.25", instant: bool = False) -> list[DeviceConfig]:
    """The devices ``amtkit-sim run`` serves for its options (a scenario file, or the command line's).

    ``instant`` zeroes the power transition times and keeps every other timing the scenario sets.
    Raises :class:`click.ClickException` for a bad scenario.
    """
    try:
        if scenario is not None:
            configs = load_scenario(scenario)
        else:
            defaults = {"username": username, "password": password, "amt_version": amt_version,
                        "http_port": http_port, "tls_port": None if tls_port < 0 else tls_port,
                        "redirection_port": _follow(redirection_port, http_port, names.PORT_HTTP,
                                                    names.PORT_REDIRECTION),
                        "redirection_tls_port": _follow(redirection_tls_port, tls_port, names.PORT_TLS,
                                                        names.PORT_REDIRECTION_TLS)}
            data: dict[str, object] = {"defaults": defaults}
            if count:
                data["fleet"] = {"count": count, "first_address": address or "127.1.0.1"}
            else:
                data["device"] = [{"address": address or "127.0.0.1"}]
            configs = parse_scenario(data, "command line")
    except ScenarioError as error:
        raise click.ClickException(str(error)) from None
    if scenario is not None:
        for config in configs:
            if redirection_port is not None:
                config.redirection_port = None if redirection_port < 0 else redirection_port
            if redirection_tls_port is not None:
                config.redirection_tls_port = None if redirection_tls_port < 0 else redirection_tls_port
    if rmcp_port is not None or scenario is None:
        port = default_rmcp_port() if rmcp_port is None else (None if rmcp_port < 0 else rmcp_port)
        for config in configs:
            config.rmcp_port = port
    if instant:
        for config in configs:
            config.timing = config.timing.with_instant_power()
    return configs


def _follow(given: int | None, web_port: int, standard_web: int, standard: int) -> int | None:
    """A redirection port: the one given (-1: none), else AMT's own beside AMT's web port, any free
    beside any free, none otherwise (so test suites on free ports never collide on 16994)."""
    if given is not None:
        return None if given < 0 else given
    if web_port == standard_web:
        return standard
    return 0 if web_port == 0 else None


def ready_lines(simulator: Simulator, control: ControlServer | None) -> list[str]:
    """What ``amtkit-sim run`` prints when it serves: every port of every device, one device a line."""
    lines = []
    for device in simulator.devices[:20]:
        config = device.config
        if config.faults.amt_disabled:
            lines.append(f"{device.name:<16} {device.address} AMT disabled (nothing listens)")
            continue
        lines.append(f"{device.name:<16} {device.address} http:{config.http_port} tls:{config.tls_port} "
                     f"redirection:{config.redirection_port} redirection-tls:{config.redirection_tls_port} "
                     f"rmcp:{config.rmcp_port} AMT {config.amt_version}")
    if len(simulator.devices) > 20:
        lines.append(f"... and {len(simulator.devices) - 20} more (--json lists them all)")
    tls_devices = [d for d in simulator.devices
                   if (d.config.tls_port or d.config.redirection_tls_port) and not d.config.faults.amt_disabled]
    if any(not d.config.own_certificate for d in tls_devices):
        lines.append(f"TLS certificate SHA-256: {simulator.certificate.sha256}")
    if any(d.config.own_certificate for d in tls_devices):
        lines.append("devices with their own certificate: `amtkit fingerprint HOST --pin-file FILE` records them "
                     "(--json lists each fingerprint)")
    if control is not None:
        lines.append(f"control: {control.url} token {control.token}")
    lines.append("ready; Ctrl-C to stop")
    return lines


def _listed(device: SimulatedDevice) -> dict[str, object]:
    """A device as ``--json`` lists it: a device with AMT disabled has no ports."""
    config = device.config
    off = config.faults.amt_disabled
    ports = {key: None if off else getattr(config, key) for key in
             ("http_port", "tls_port", "redirection_port", "redirection_tls_port", "rmcp_port")}
    return {"name": device.name, "address": device.address, **ports, "version": config.amt_version,
            **({"amt": "disabled"} if off else {})}


def ready_json(simulator: Simulator, control: ControlServer | None) -> dict[str, object]:
    devices = [{**_listed(d), **({"tls_sha256": simulator.tls_sha256(d)}
                                 if d.config.own_certificate and d.config.tls_port else {})}
               for d in simulator.devices]
    ready: dict[str, object] = {"devices": devices, "tls_sha256": simulator.certificate.sha256}
    if control is not None:
        ready["control"] = {"url": control.url, "port": control.port, "token": control.token}
    return ready


async def _serve(configs: list[DeviceConfig], cert_dir: Path | None, certificate: CertificateFiles | None,
                 as_json: bool, control_options: tuple[int, str | None] | None = None, rmcp_note: str = "") -> None:
    simulator = Simulator(cert_dir=cert_dir, certificate=certificate)
    for config in configs:
        simulator.add_device(config)  # not started yet: start_devices() below binds them
    try:
        await simulator.start_devices()
    except ListenError as error:
        click.echo(f"amtkit-sim: {error}", err=True)
        click.echo(f"  hint: {_listen_hint(error)}", err=True)
        sys.exit(3)
    control = None
    if control_options is not None:
        try:
            control = ControlServer(lambda: simulator.devices, port=control_options[0],
                                    token=control_options[1]).start()
        except OSError as error:
            failed = ListenError("TCP", "127.0.0.1", control_options[0], "control endpoint", reason_of(error))
            click.echo(f"amtkit-sim: {failed}", err=True)
            click.echo(f"  hint: {_listen_hint(failed)}", err=True)
            sys.exit(3)
    if as_json:
        click.echo(json.dumps(ready_json(simulator, control)))
    else:
        lines = ready_lines(simulator, control)
        if rmcp_note:
            lines.insert(-1, rmcp_note)  # before "ready": whoever waits for that line has seen it
        for line in lines:
            click.echo(line)
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    if control is not None:
        control.stop()


_PORT_OPTIONS = {"WS-Man HTTP": "--http-port", "WS-Man TLS": "--tls-port", "RMCP": "--rmcp-port",
                 "redirection over TLS": "--redirection-tls-port", "redirection": "--redirection-port",
                 "control": "--control-port"}


def _listen_hint(error: ListenError) -> str:
    option = next((flag for purpose, flag in _PORT_OPTIONS.items() if error.purpose.startswith(purpose)), None)
    if option is None:
        return "choose other ports (0 = any free)"
    if option in ("--http-port", "--control-port"):
        return f"choose {option} 0 (any free port), or another --address; a scenario sets ports per device"
    return f"choose {option} 0 (any free port) or {option} -1 (none), or another --address"


def _delay_range(text: str) -> tuple[float, float]:
    low, _, high = text.removesuffix("ms").partition("-")
    try:
        bounds = (float(low) / 1000, float(high or low) / 1000)
    except ValueError:
        raise click.BadParameter(f"{text!r}: milliseconds, as 20-80 or 50", param_hint="--delay") from None
    if not 0 <= bounds[0] <= bounds[1]:
        raise click.BadParameter(f"{text!r}: want LOW-HIGH with 0 <= LOW <= HIGH", param_hint="--delay")
    return bounds


@main.command("fleet-scenario")
@click.option("--count", type=click.IntRange(1, 65536), required=True, help="Devices in the fleet.")
@click.option("--mix", default="", metavar="COND=SHARE,...",
              help=f"Share of each condition, e.g. hung=5%,no-listener=2% (the rest healthy). Conditions: "
                   f"{', '.join(CONDITIONS)}.")
@click.option("--delay", "delay", default="0", show_default=True, metavar="LOW-HIGH",
              help="Answer delay in milliseconds, drawn per device from the range (e.g. 20-80).")
@click.option("--first-address", default="127.1.0.1", show_default=True, help="Address of the first device.")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same fleet.")
@click.option("--password", envvar="AMTSIM_PASSWORD", default="P@ssw0rd", show_default=True,
              help="The fleet's digest password (wrong-password devices have another).")
@click.option("--rmcp-port", type=click.IntRange(1, 65535), default=None,
              help="UDP port every device answers RMCP presence pings on (none by default; 623 needs privileges).")
def fleet_scenario(count: int, mix: str, delay: str, first_address: str, seed: int, password: str,
                   rmcp_port: int | None) -> None:
    """Print a scenario of COUNT devices with the given mix of conditions, each device's truth stated."""
    try:
        spec = FleetSpec(count=count, mix=parse_mix(mix), delay=_delay_range(delay), first_address=first_address,
                         seed=seed, password=password, rmcp_port=rmcp_port)
        scenario = generate(spec)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    comment = (f"amtkit-sim fleet-scenario --count {count} --mix '{mix}' --delay {delay} "
               f"--first-address {first_address} --seed {seed}"
               + (f" --rmcp-port {rmcp_port}" if rmcp_port is not None else "") + "\n"
               "Each device states its condition: the truth a console's verdict is compared with.")
    click.echo(render(scenario, comment), nl=False)


@main.command("example-scenario")
def example_scenario() -> None:
    """Print an example scenario file."""
    click.echo(EXAMPLE, nl=False)


if __name__ == "__main__":  # pragma: no cover
    main()
