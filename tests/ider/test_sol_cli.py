"""``amtkit sol`` as a user runs it (a pipe, and a real terminal), and amtterm against the simulator's SOL."""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
import termios
import time
from collections.abc import Iterator

import pytest
from ider_e2e import ider_device, redirection_port

from amtkit.cli.sol import parse_escape
from amtkit.pytest_plugin import AMTDeviceInfo

WAIT = 30.0


def sol_command(device: AMTDeviceInfo, *args: str) -> list[str]:
    return [sys.executable, "-m", "amtkit.cli.main", "sol", device.host, "--port", str(device.port),
            "--redirection-port", str(redirection_port(device)), *args]


def environment(device: AMTDeviceInfo) -> dict[str, str]:
    return {**os.environ, "AMT_PASSWORD": device.password}


# -- from a pipe


def test_a_script_logs_in_and_runs_a_command_through_a_pipe(device: AMTDeviceInfo) -> None:
    result = subprocess.run(sol_command(device, "--idle-exit", "0.5"), input=b"\rbob\ramtsim\rhostname\r",
                            capture_output=True, env=environment(device), timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "amt-device login: bob" in out and "Welcome to amtsim OS 1.0" in out
    assert "hostname\r\namt-device\r\n" in out
    assert b"Traceback" not in result.stderr


def test_sol_switched_off_is_a_clear_error(device: AMTDeviceInfo) -> None:
    device.control.set_redirection(sol=False)
    result = subprocess.run(sol_command(device), input=b"", capture_output=True, env=environment(device),
                            timeout=120, check=False)
    assert result.returncode == 9  # feature not available (docs/cli.md)
    assert b"refused an SOL session" in result.stderr and b"Traceback" not in result.stderr


# -- on a terminal


class Terminal:
    """``amtkit sol`` on a pseudo-terminal: type into it, read what it shows."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.master, self.slave = os.openpty()
        self.initial = termios.tcgetattr(self.slave)
        self.process = subprocess.Popen(command, stdin=self.slave, stdout=self.slave, stderr=self.slave, env=env,
                                        start_new_session=True)
        self.screen = b""

    def wait_for(self, text: bytes) -> None:
        deadline = time.monotonic() + WAIT
        while text not in self.screen:
            assert time.monotonic() < deadline, f"{text!r} not shown; screen: {self.screen!r}"
            ready, _, _ = select.select([self.master], [], [], 0.5)
            if ready:
                self.screen += os.read(self.master, 4096)

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def finish(self) -> int:
        code = self.process.wait(WAIT)
        with self._quiet():
            while select.select([self.master], [], [], 0.1)[0]:
                self.screen += os.read(self.master, 4096)
        return code

    @staticmethod
    def _quiet():  # type: ignore[no-untyped-def]
        import contextlib

        return contextlib.suppress(OSError)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def terminal(device: AMTDeviceInfo) -> Iterator[Terminal]:
    term = Terminal(sol_command(device), environment(device))
    yield term
    term.close()


def test_the_terminal_is_raw_and_the_escape_key_leaves(terminal: Terminal) -> None:
    terminal.wait_for(b"^] leaves.")
    assert termios.tcgetattr(terminal.slave)[3] & termios.ICANON == 0  # raw: no line editing, no echo
    terminal.type(b"\r")
    terminal.wait_for(b"login: ")
    terminal.type(b"\x03")  # Ctrl-C goes to the host, it does not end amtkit
    terminal.wait_for(b"^C")
    terminal.type(b"\x1d")  # Ctrl-]
    assert terminal.finish() == 0
    assert b"Disconnected from" in terminal.screen and b"(escape)" in terminal.screen
    assert termios.tcgetattr(terminal.slave) == terminal.initial


def test_the_terminal_is_restored_on_sigterm(terminal: Terminal) -> None:
    terminal.wait_for(b"^] leaves.")
    os.kill(terminal.process.pid, signal.SIGTERM)
    assert terminal.finish() == 0
    assert b"signal SIGTERM" in terminal.screen
    assert termios.tcgetattr(terminal.slave) == terminal.initial


@pytest.mark.parametrize(("text", "byte"), [("^]", 0x1D), ("^a", 0x01), ("~", 0x7E), ("none", None)])
def test_escape_keys(text: str, byte: int | None) -> None:
    assert parse_escape(text) == byte


# -- amtterm (Debian's amtterm package; opt-in)

AMTTERM = shutil.which("amtterm")


@pytest.mark.skipif(AMTTERM is None, reason="needs amtterm (Debian package amtterm)")
@pytest.mark.parametrize(("version", "works"), [("11.8.50", True), ("16.1.25", False)])
def test_amtterm_logs_in_where_amt_takes_its_plain_password(amt_simulator, version: str,  # type: ignore[no-untyped-def]
                                                            works: bool) -> None:
    assert AMTTERM is not None
    with ider_device(amt_simulator, amt_version=version) as info:
        term = Terminal([AMTTERM, "-u", info.username, "-p", info.password, info.host, str(redirection_port(info))],
                        dict(os.environ))
        try:
            if not works:  # amtterm only sends user/password in clear, which AMT 12 and later refuse
                term.finish()  # amtterm exits (with status 0) after saying why
                assert b"session authentication failed" in term.screen
                return
            term.wait_for(b"serial-over-lan redirection ok")
            term.type(b"\r")
            term.wait_for(b"login: ")
            term.type(b"bob\r")
            term.wait_for(b"Password: ")
            term.type(b"amtsim\r")
            term.wait_for(b"$ ")
            term.type(b"uname -a\r")
            term.wait_for(b"6.1.0-amtsim")
            term.type(b"\x1d")
            term.finish()
        finally:
            term.close()
