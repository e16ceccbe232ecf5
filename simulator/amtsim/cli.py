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
import signal
import sys
from pathlib import Path

import click

from amtkit.wsman import names

from .config import DeviceConfig
from .fleetgen import CONDITIONS, FleetSpec, generate, parse_mix, render
from .scenario import EXAMPLE, ScenarioError, load_scenario, parse_scenario
from .server import Simulator
from .services import default_rmcp_port
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
def run(scenario: Path | None, count: int | None, address: str | None, http_port: int, tls_port: int,
        rmcp_port: int | None, username: str, password: str, amt_version: str, instant: bool, cert_dir: Path | None,
        tls_cert: Path | None, tls_key: Path | None, as_json: bool) -> None:
    """Serve simulated devices until interrupted (Ctrl-C or SIGTERM)."""
    configs = device_configs(scenario, count=count, address=address, http_port=http_port, tls_port=tls_port,
                             rmcp_port=rmcp_port, username=username, password=password, amt_version=amt_version,
                             instant=instant)
    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError("--tls-cert and --tls-key go together")
    certificate = CertificateFiles(tls_cert, tls_key) if tls_cert is not None and tls_key is not None else None
    asyncio.run(_serve(configs, cert_dir, certificate, as_json))


def device_configs(scenario: Path | None, *, count: int | None = None, address: str | None = None,
                   http_port: int = names.PORT_HTTP, tls_port: int = names.PORT_TLS, rmcp_port: int | None = None,
                   username: str = "admin", password: str = "P@ssw0rd", amt_version: str = "16.1.25",
                   instant: bool = False) -> list[DeviceConfig]:
    """The devices ``amtkit-sim run`` serves for its options (a scenario file, or the command line's).

    ``instant`` zeroes the power transition times and keeps every other timing the scenario sets.
    Raises :class:`click.ClickException` for a bad scenario.
    """
    try:
        if scenario is not None:
            configs = load_scenario(scenario)
        else:
            defaults = {"username": username, "password": password, "amt_version": amt_version,
                        "http_port": http_port, "tls_port": None if tls_port < 0 else tls_port}
            data: dict[str, object] = {"defaults": defaults}
            if count:
                data["fleet"] = {"count": count, "first_address": address or "127.1.0.1"}
            else:
                data["device"] = [{"address": address or "127.0.0.1"}]
            configs = parse_scenario(data, "command line")
    except ScenarioError as error:
        raise click.ClickException(str(error)) from None
    if rmcp_port is not None or scenario is None:
        port = default_rmcp_port() if rmcp_port is None else (None if rmcp_port < 0 else rmcp_port)
        for config in configs:
            config.rmcp_port = port
    if instant:
        for config in configs:
            config.timing = config.timing.with_instant_power()
    return configs


async def _serve(configs: list[DeviceConfig], cert_dir: Path | None, certificate: CertificateFiles | None,
                 as_json: bool) -> None:
    simulator = Simulator(cert_dir=cert_dir, certificate=certificate)
    for config in configs:
        simulator.add_device(config)  # not started yet: start_devices() below binds them
    try:
        await simulator.start_devices()
    except (OSError, OverflowError) as error:
        # The message names the address and port (asyncio and the RMCP binder both say which).
        click.echo(f"amtkit-sim: cannot listen: {error}", err=True)
        click.echo("  hint: another simulator or service may hold the port; choose other ports "
                   "(0 = any free, -1 = none)", err=True)
        sys.exit(3)
    listing = [{"name": d.name, "address": d.address, "http_port": d.config.http_port,
                "tls_port": d.config.tls_port, "rmcp_port": d.config.rmcp_port,
                "version": d.config.amt_version} for d in simulator.devices]
    if as_json:
        click.echo(json.dumps({"devices": listing, "tls_sha256": simulator.certificate.sha256}))
    else:
        for item in listing[:20]:
            click.echo(f"{item['name']:<16} {item['address']}:{item['http_port']} tls:{item['tls_port']} "
                       f"rmcp:{item['rmcp_port']} AMT {item['version']}")
        if len(listing) > 20:
            click.echo(f"... and {len(listing) - 20} more")
        if any(d.config.tls_port for d in simulator.devices):
            click.echo(f"TLS certificate SHA-256: {simulator.certificate.sha256}")
        click.echo("ready; Ctrl-C to stop")
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


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
def fleet_scenario(count: int, mix: str, delay: str, first_address: str, seed: int, password: str) -> None:
    """Print a scenario of COUNT devices with the given mix of conditions, each device's truth stated."""
    try:
        spec = FleetSpec(count=count, mix=parse_mix(mix), delay=_delay_range(delay), first_address=first_address,
                         seed=seed, password=password)
        scenario = generate(spec)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    comment = (f"amtkit-sim fleet-scenario --count {count} --mix '{mix}' --delay {delay} "
               f"--first-address {first_address} --seed {seed}\n"
               "Each device states its condition: the truth a console's verdict is compared with.")
    click.echo(render(scenario, comment), nl=False)


@main.command("example-scenario")
def example_scenario() -> None:
    """Print an example scenario file."""
    click.echo(EXAMPLE, nl=False)


if __name__ == "__main__":  # pragma: no cover
    main()
