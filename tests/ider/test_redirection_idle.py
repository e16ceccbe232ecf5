"""Idle redirection sessions: what the simulated firmware keeps, what it closes, and the timings behind it.

Public IDE-R consoles (MeshCommander, MeshCentral, ui-toolkit) send nothing while they wait for the
host to reboot and ignore the firmware's heartbeats, and they work on real AMT: an open IDE-R session
is never closed for silence.  A connection that never opens IDE-R is.
"""

from __future__ import annotations

import time
from pathlib import Path

from ider_e2e import QuietConsole, ider_device, pycdlib_iso

from amtkit.client import Client
from amtkit.redirection.messages import IDERHeartbeat
from amtsim import Timing
from amtsim.cli import device_configs

IDLE_TIMEOUT = 0.2


def idle_timing() -> Timing:
    return Timing(power_transition=0, power_off_phase=0, redirection_idle_timeout=IDLE_TIMEOUT)


def test_a_silent_ide_r_console_keeps_its_drive_for_a_late_reboot(amt_simulator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    image = pycdlib_iso(tmp_path / "rescue.iso", volume_id="LATE_REBOOT").read_bytes()
    with ider_device(amt_simulator, timing=idle_timing()) as info:
        console = QuietConsole(info, image, heartbeat_ms=50)
        try:
            # The firmware heartbeats at the asked 50 ms; the console never answers. Count heartbeats
            # until well past the idle timeout (events, not a sleep).
            quiet_since = time.monotonic()
            heartbeats = 0
            while time.monotonic() - quiet_since < 3 * IDLE_TIMEOUT:
                message = console.next_message()
                assert message is not None, "the firmware closed a silent IDE-R session"
                heartbeats += isinstance(message, IDERHeartbeat)
            assert heartbeats >= 3 and info.control.redirection_sessions() == 1
            with Client(info.host, port=info.port, username=info.username, password=info.password) as client:
                client.boot.boot_once("ider-cd", then="reset")
            console.serve_until_closed_or(lambda: len(info.control.boot_results()) >= 1)
            record = info.control.wait_for_boot(1)
        finally:
            console.close()
    assert record.booted and record.volume_id == "LATE_REBOOT"
    assert info.control.redirection_stats()["idle_closed"] == 0


def test_a_connection_that_never_opens_ide_r_is_closed_when_idle(amt_simulator) -> None:  # type: ignore[no-untyped-def]
    with ider_device(amt_simulator, timing=idle_timing()) as info:
        console = QuietConsole(info, open_ider=False)  # authenticated, then nothing
        try:
            assert console.next_message() is None  # the firmware hangs up
        finally:
            console.close()
        assert info.control.redirection_stats()["idle_closed"] == 1


def test_instant_only_zeroes_the_power_transitions(tmp_path: Path) -> None:
    scenario = tmp_path / "lab.toml"
    scenario.write_text("[defaults.timing]\nredirection_idle_timeout = 7.5\npower_transition = 3.0\n"
                        "lockout_threshold = 9\n\n[[device]]\naddress = \"127.0.0.1\"\n")
    (config,) = device_configs(scenario, instant=True, rmcp_port=-1)
    timing = config.timing
    assert (timing.power_transition, timing.power_off_phase) == (0, 0)
    assert timing.redirection_idle_timeout == 7.5 and timing.lockout_threshold == 9
    (plain,) = device_configs(scenario, rmcp_port=-1)
    assert plain.timing.power_transition == 3.0
