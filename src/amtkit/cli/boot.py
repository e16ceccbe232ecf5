"""``amtkit boot`` (one-time boot to PXE, disk, CD, BIOS setup) and ``amtkit ider boot`` (boot from an image).

::

    amtkit boot HOST pxe --then reset          # next boot from the network, now
    amtkit boot HOST bios                      # BIOS setup at the next boot, whenever it comes
    amtkit boot HOST clear                     # forget a one-time boot not used yet
    amtkit ider boot HOST --cd rescue.iso      # serve the ISO over IDE-R and boot the host from it

``ider boot`` opens the IDE-R session, sets the one-time IDE-R boot, resets the host (powers it on when
it is off) and serves the image until the host has loaded the boot image; with ``--keep-serving`` it
goes on serving (a live system reads on) until interrupted.  Progress goes to stderr when it is a
terminal.  ``--timeout`` is the wait for the boot image; each WS-Man answer waits at most 60 s of it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..boot import THEN_ACTIONS, BootTarget
from .common import (
    connection_options,
    emit,
    handle_errors,
    logged,
    make_connection,
    open_client,
    profile_options,
)
from .fleet import FleetArgs, fleet_options, one_host_argument, run_fleet, single_host, task_text

if TYPE_CHECKING:
    from ..fleet.report import HostResult

__all__ = ["boot_command", "ider_group"]

_ONCE_TARGETS = [BootTarget.PXE.value, BootTarget.DISK.value, BootTarget.CD.value, BootTarget.BIOS.value]
_WSMAN_TIMEOUT_CAP = 60.0


@click.command("boot")
@click.argument("hosts", nargs=-1, required=True, metavar="TARGETS...")
@click.argument("target", type=click.Choice([*_ONCE_TARGETS, "clear"], case_sensitive=False))
@click.option("--then", "then", type=click.Choice(list(THEN_ACTIONS), case_sensitive=False), default=None,
              help="Power action that makes the boot happen now (auto: on when off, reset otherwise).")
@connection_options
@profile_options
@fleet_options
@handle_errors
def boot_command(hosts: tuple[str, ...], target: str, then: str | None, as_json: bool, profiles_file: str | None,
                 profile_name: str | None, fleet: FleetArgs, **options: Any) -> None:
    """Boot TARGETS once to TARGET: pxe (network), disk, cd (its own CD/DVD drive), bios (BIOS setup).

    The override is used by the next boot only, then AMT forgets it; `clear` removes one not used yet.
    TARGETS is one host, or many for a fleet job.
    """
    if target.lower() == "clear" and then is not None:
        raise click.UsageError("--then makes no sense with clear")
    conn = make_connection(as_json=as_json, **options)
    host = single_host(hosts, fleet)
    if host is None:
        from ..fleet import tasks

        run_fleet(tasks.boot(target.lower(), then=then), hosts, conn, profiles_file, profile_name, fleet)
        return
    parameters = {"target": target.lower(), **({"then": then} if then else {})}
    with logged(host, "boot", parameters), open_client(conn, host, profiles_file, profile_name) as client:
        if target.lower() == "clear":
            settings = client.boot.clear()
            data: dict[str, Any] = {"ok": True, "host": host, "target": "clear", "settings": settings.to_dict()}
        else:
            done = client.boot.boot_once(target, then=then)
            data = {"ok": True, "host": host, **done.to_dict()}
    emit(data, as_json, _boot_text)


@task_text("boot")
def _boot_line(result: HostResult) -> str:
    return _boot_text({"host": result.host, **(result.data or {})}).split(": ", 1)[-1]


def _boot_text(data: dict[str, Any]) -> str:
    if data["target"] == "clear":
        return f"{data['host']}: one-time boot cleared"
    when = f"{data['then']} requested" if data.get("then") else "at the next boot"
    return f"{data['host']}: boots once to {data['meaning']}, {when}"


@click.group("ider")
def ider_group() -> None:
    """IDE redirection: boot a host from a CD or floppy image served by this machine."""


@ider_group.command("boot")
@one_host_argument("one redirection session serving the image")
@click.option("--cd", "cd", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="ISO image to serve as the host's CD/DVD drive.")
@click.option("--floppy", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Floppy image (512-byte sectors) to serve as the host's floppy drive.")
@click.option("--then", "then", type=click.Choice(list(THEN_ACTIONS), case_sensitive=False), default="auto",
              show_default=True, help="How to start the boot (auto: power on when off, reset otherwise).")
@click.option("--redirection-port", type=int, default=None,
              help="Redirection port [16994, or 16995 with --tls].")
@click.option("--keep-serving", is_flag=True,
              help="After the boot image is loaded, keep serving (a live system reads on) until Ctrl-C.")
@click.option("--force", is_flag=True,
              help="Serve an image that does not look bootable anyway, for --timeout seconds (or until Ctrl-C).")
@connection_options
@handle_errors
def ider_boot(host: str, cd: Path | None, floppy: Path | None, then: str, redirection_port: int | None,
              keep_serving: bool, force: bool, as_json: bool, timeout: float, **options: Any) -> None:
    """Boot HOST from an image served over IDE-R: --cd image.iso or --floppy image.img."""
    if (cd is None) == (floppy is None):
        raise click.UsageError("give exactly one of --cd IMAGE and --floppy IMAGE")
    from ..boot import BootTarget as Target
    from ..ider.session import IDERImageNotBootable

    image, device = (cd, "cd") if cd is not None else (floppy, "floppy")
    assert image is not None
    conn = make_connection(as_json=as_json, timeout=min(timeout, _WSMAN_TIMEOUT_CAP), **options)
    progress = _Progress(sys.stderr.isatty() and not as_json)
    with logged(host, "ider.boot", {"image": str(image), "device": device, "then": then}), \
            conn.client(host) as client:
        session = client.ider.session(image, device, port=redirection_port)
        if not force and not session.boot_image.bootable:
            session.stop()
            raise IDERImageNotBootable(f"{image} cannot boot: {session.boot_image.reason}", host=host,
                                       hint="pass --force to serve it anyway")
        with session:
            client.boot.boot_once(Target.IDER_CD if device == "cd" else Target.IDER_FLOPPY, then=then)
            progress.say(f"{host}: IDE-R session open, host {then}; serving {image.name}")
            if not session.boot_image.bootable:  # --force: nothing will say when the host is done
                progress.say(f"{host}: {session.boot_image.reason}; serving for {timeout:g} s, Ctrl-C to stop")
                session.wait_closed(timeout)
                data: dict[str, Any] = {"ok": True, "host": host, "image": str(image), "device": device,
                                        "volume_id": session.boot_image.volume_id, "boot_image": None,
                                        "reason": session.boot_image.reason, **session.stats.to_dict()}
                emit(data, as_json, _served_text)
                return
            delivered = session.wait_for_boot(timeout, progress=progress.stats)
            progress.done()
            data = {"ok": True, "host": host, "image": str(image), **delivered.to_dict()}
            if keep_serving:
                emit(data, as_json, _ider_text)
                progress.say(f"{host}: boot image loaded; serving on until Ctrl-C")
                session.wait_closed()
                return
    emit(data, as_json, _ider_text)


def _served_text(data: dict[str, Any]) -> str:
    return (f"{data['host']}: served the IDE-R {data['device']} for {data['seconds']:.1f} s without a boot image "
            f"({data['commands']} commands, {data['bytes_served']} bytes)")


def _ider_text(data: dict[str, Any]) -> str:
    volume = f" (volume {data['volume_id']})" if data.get("volume_id") else ""
    return (f"{data['host']}: host loaded the boot image from the IDE-R {data['device']}{volume}: "
            f"{data['commands']} commands, {data['bytes_served']} bytes served in {data['seconds']:.1f} s")


class _Progress:
    """One self-overwriting status line on stderr, only when stderr is a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._drawn = False

    def say(self, text: str) -> None:
        if self.enabled:
            self.done()
            click.echo(text, err=True)

    def stats(self, stats: object) -> None:
        if not self.enabled:
            return
        from ..ider.session import IDERStats

        assert isinstance(stats, IDERStats)
        line = (f"  {stats.commands} commands, {stats.bytes_served / 1e6:.1f} MB served, "
                f"boot image {stats.boot_image_bytes} bytes, {stats.seconds:.0f} s")
        click.echo("\r" + line.ljust(72), err=True, nl=False)
        self._drawn = True

    def done(self) -> None:
        if self._drawn:
            click.echo(err=True)
            self._drawn = False


def _boot_wait_timeout(command: click.Command) -> None:
    """``--timeout`` of ``ider boot`` is the wait for the boot image: a longer default, its own help."""
    for param in command.params:
        if isinstance(param, click.Option) and param.name == "timeout":
            param.default = 300.0
            param.help = "Seconds to wait for the host to load the boot image (WS-Man answers: at most 60 s)."


_boot_wait_timeout(ider_boot)
