"""The host's serial console as Serial-over-LAN shows it: what the simulated machine prints, and a
small shell that answers what is typed.  State and text only; the wire is :mod:`amtsim.redirection`.

Theory of operation:

* Rule 1: the serial port is the host's, not AMT's.  What the host prints while no SOL session is
  attached is lost, as on a real UART; a console attaching later sees what comes next.
* Rule 2: every power-up prints the BIOS banner (the simulated BIOS always redirects its console to
  the serial port) and the boot device it tries.  PXE and the host's CD drive find nothing and fall
  back to the hard disk, as a BIOS boot order does; BIOS setup shows its screen until Esc.
* Rule 3: an IDE-R boot prints its outcome when the transfer ends (the boot record): the rescue
  system on the image answers on the console, or the failure is printed and the host falls back to
  its disk.
* Rule 4: a booted system offers a login prompt.  The installed system takes any user name with the
  password :data:`OS_PASSWORD`; a rescue system logs ``root`` in without a password.  Its shell knows
  a few commands (``help`` lists them); ``reboot`` resets the host the way a power request does.
* Rule 5: typing follows a terminal's line discipline: characters are echoed (not a password),
  backspace erases, Enter submits, Ctrl-C abandons the line.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TYPE_CHECKING

from amtkit.boot import BootTarget
from amtkit.codes import PowerAction, PowerState

if TYPE_CHECKING:
    from ..device import SimulatedDevice
    from .boot import BootPlan, BootRecord

__all__ = ["OS_PASSWORD", "HostConsole", "host_console_of"]

HOST_CONSOLE_KEY = "host-console"
OS_PASSWORD = "amtsim"
"""The password of every user of the simulated installed system."""
CRLF = "\r\n"

Listener = Callable[[bytes], None]
"""Receives what the host prints (called with the device lock held: hand the bytes off, return fast)."""


class Stage(enum.Enum):
    OFF = "off"
    BIOS = "bios"
    """Power-on self test and boot: typing goes nowhere."""
    SETUP = "setup"
    """The BIOS setup screen, until Esc."""
    LOGIN = "login"
    PASSWORD = "password"
    SHELL = "shell"


class HostConsole:
    """The simulated host's serial console (see the module docstring)."""

    def __init__(self, device: SimulatedDevice) -> None:
        self.device = device
        self.listeners: list[Listener] = []
        self.stage = Stage.BIOS if device.power.state is PowerState.ON else Stage.OFF
        self.system = "os"
        """``os`` (the installed system) or ``rescue`` (booted from an IDE-R image)."""
        self.volume = ""
        self.user = ""
        self._line = bytearray()
        self._last_was_cr = False
        if self.stage is Stage.BIOS:
            self._login_prompt()  # a machine already running sits at its login prompt

    # -- listeners -------------------------------------------------------------------------------
    def attach(self, listener: Listener) -> None:
        self.listeners.append(listener)

    def detach(self, listener: Listener) -> None:
        if listener in self.listeners:
            self.listeners.remove(listener)

    def print(self, text: str) -> None:
        """The host writes ``text`` to its serial port (Rule 1)."""
        data = text.encode("utf-8", "replace")
        for listener in list(self.listeners):
            listener(data)

    # -- the boot (Rules 2 and 3) ------------------------------------------------------------------
    def power_up(self, plan: BootPlan) -> None:
        config = self.device.config
        self.stage, self.system, self.volume, self._line = Stage.BIOS, "os", "", bytearray()
        memory = sum(config.memory_gib)
        self.print(f"{CRLF}amtsim BIOS {config.bios_version} ({config.bios_release_date}){CRLF}"
                   f"{config.manufacturer} {config.model}{CRLF}"
                   f"CPU: {config.cpu_count} x {config.cpu_speed_mhz} MHz   Memory: {memory} GB{CRLF}"
                   f"Intel(R) AMT {config.amt_version}: console redirection on Serial-over-LAN{CRLF}{CRLF}")
        if plan.note:
            self.print(f"Note: {plan.note}{CRLF}")
        target = plan.target
        if target is BootTarget.BIOS:
            self.stage = Stage.SETUP
            self.print(f"BIOS Setup Utility{CRLF}  Main  Advanced  Boot  Security  Exit{CRLF}"
                       f"  System time, boot order and AMT settings would be here.{CRLF}Press Esc to exit setup.{CRLF}")
        elif target in (BootTarget.IDER_CD, BootTarget.IDER_FLOPPY):
            drive = "CD-ROM" if target is BootTarget.IDER_CD else "floppy"
            self.print(f"Booting from IDE-R {drive} (Intel AMT storage redirection)...{CRLF}")
        elif target is BootTarget.PXE:
            self.print(f"Booting from network (PXE)...{CRLF}PXE-E51: No DHCP or proxy DHCP offers were received."
                       f"{CRLF}")
            self._boot_disk()
        elif target is BootTarget.CD:
            self.print(f"Booting from CD/DVD...{CRLF}No disc in the CD/DVD drive.{CRLF}")
            self._boot_disk()
        else:
            self._boot_disk()

    def boot_recorded(self, record: BootRecord) -> None:
        """An IDE-R boot has ended (Rule 3); other records were printed at power-up."""
        result = record.result
        if result is None:
            return
        if result.booted:
            self.system, self.volume = "rescue", result.volume_id or "RESCUE"
            self.print(f"Loaded the boot image of {self.volume} ({result.loaded_bytes} bytes).{CRLF}{CRLF}"
                       f"amtsim rescue system on {self.volume} (ttyS0){CRLF}{CRLF}")
            self._login_prompt()
        else:
            self.print(f"IDE-R boot failed: {result.reason}{CRLF}")
            self._boot_disk()

    def _boot_disk(self) -> None:
        self.print(f"Booting from hard disk...{CRLF}{CRLF}amtsim OS 1.0 {self.device.config.hostname} ttyS0{CRLF}{CRLF}")
        self._login_prompt()

    def _login_prompt(self) -> None:
        self.stage = Stage.LOGIN
        self.print(f"{self._host()} login: ")

    def _host(self) -> str:
        return "rescue" if self.system == "rescue" else self.device.config.hostname

    def powered_off(self) -> None:
        self.stage, self._line = Stage.OFF, bytearray()

    # -- typing (Rules 4 and 5) ------------------------------------------------------------------
    def type(self, data: bytes) -> None:
        """Keystrokes arriving over SOL (a host that is off reads nothing)."""
        if self.device.power.state is not PowerState.ON:
            self.powered_off()
            return
        for byte in data:
            self._key(byte)

    def _key(self, byte: int) -> None:
        if self.stage is Stage.SETUP:
            if byte == 0x1B:  # Esc
                self.print(f"{CRLF}Exiting setup, saving nothing.{CRLF}")
                self._boot_disk()
            return
        if self.stage not in (Stage.LOGIN, Stage.PASSWORD, Stage.SHELL):
            return
        echo = self.stage is not Stage.PASSWORD
        if byte in (0x0D, 0x0A):
            if byte == 0x0A and self._last_was_cr:
                self._last_was_cr = False
                return  # CR LF from a terminal is one Enter
            self._last_was_cr = byte == 0x0D
            line, self._line = self._line.decode("utf-8", "replace"), bytearray()
            self.print(CRLF)
            self._submit(line)
            return
        self._last_was_cr = False
        if byte in (0x7F, 0x08):
            if self._line:
                self._line.pop()
                if echo:
                    self.print("\b \b")
        elif byte == 0x03:  # Ctrl-C
            self._line = bytearray()
            self.print(f"^C{CRLF}")
            self._prompt()
        elif byte == 0x04 and not self._line and self.stage is Stage.SHELL:  # Ctrl-D: logout
            self.print(f"logout{CRLF}")
            self._login_prompt()
        elif byte >= 0x20 and len(self._line) < 1024:
            self._line.append(byte)
            if echo:
                self.print(chr(byte) if byte < 0x80 else "?")

    def _prompt(self) -> None:
        if self.stage is Stage.SHELL:
            self.print(self._shell_prompt())
        elif self.stage is Stage.LOGIN:
            self.print(f"{self._host()} login: ")
        elif self.stage is Stage.PASSWORD:
            self.print("Password: ")

    def _shell_prompt(self) -> str:
        return f"{self.user}@{self._host()}:~{'#' if self.user == 'root' else '$'} "

    def _submit(self, line: str) -> None:
        if self.stage is Stage.LOGIN:
            user = line.strip()
            if not user:
                self._prompt()
            elif self.system == "rescue" and user == "root":
                self._logged_in(user)
            else:
                self.user, self.stage = user, Stage.PASSWORD
                self._prompt()
        elif self.stage is Stage.PASSWORD:
            if self.system == "os" and line == OS_PASSWORD:
                self._logged_in(self.user)
            else:
                self.print(f"{CRLF}Login incorrect{CRLF}")
                self._login_prompt()
        else:
            self._run(line.strip())

    def _logged_in(self, user: str) -> None:
        self.user, self.stage = user, Stage.SHELL
        what = f"the rescue system on {self.volume}" if self.system == "rescue" else "amtsim OS 1.0"
        self.print(f"Welcome to {what}. Type 'help' for the commands.{CRLF}{self._shell_prompt()}")

    # -- the shell -------------------------------------------------------------------------------
    def _run(self, command: str) -> None:
        name, _, rest = command.partition(" ")
        outputs: dict[str, Callable[[], str]] = {
            "help": lambda: "commands: help uname hostname whoami echo ls cat uptime reboot exit",
            "uname": lambda: ("Linux " + self._host() + " 6.1.0-amtsim #1 SMP x86_64 GNU/Linux"
                              if rest.strip() == "-a" else "Linux"),
            "hostname": self._host,
            "whoami": lambda: self.user,
            "echo": lambda: rest,
            "ls": lambda: "README.TXT  boot  tools" if self.system == "rescue" else "notes.txt",
            "cat": lambda: self._cat(rest.strip()),
            "uptime": lambda: " up 0 min,  1 user,  load average: 0.00, 0.00, 0.00",
        }
        if not name:
            pass
        elif name in ("exit", "logout"):
            self.print(f"logout{CRLF}")
            self._login_prompt()
            return
        elif name == "reboot":
            self.print(f"Rebooting.{CRLF}")
            self.device.power.request(PowerAction.RESET)
            return
        elif name in outputs:
            self.print(outputs[name]() + CRLF)
        else:
            self.print(f"-sh: {name}: command not found{CRLF}")
        if self.stage is Stage.SHELL:
            self.print(self._shell_prompt())

    def _cat(self, path: str) -> str:
        files = {
            "/etc/os-release": (f'NAME="amtsim rescue"{CRLF}VOLUME="{self.volume}"' if self.system == "rescue"
                                else f'NAME="amtsim OS"{CRLF}VERSION="1.0"'),
            "README.TXT": "amtkit rescue" if self.system == "rescue" else "",
            "notes.txt": "served over Serial-over-LAN by amtsim",
        }
        if path not in files or not files[path]:
            return f"cat: {path}: No such file or directory"
        return files[path]


def host_console_of(device: SimulatedDevice) -> HostConsole:
    """The device's host console, created on first use and hooked to its boots."""
    console = device.extensions.get(HOST_CONSOLE_KEY)
    if isinstance(console, HostConsole):
        return console
    from .boot import boot_backend_of

    console = HostConsole(device)
    device.extensions[HOST_CONSOLE_KEY] = console
    boot = boot_backend_of(device)
    boot.on_plan.append(console.power_up)
    boot.on_record.append(console.boot_recorded)
    return console
