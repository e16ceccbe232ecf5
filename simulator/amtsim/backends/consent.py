"""User consent (opt-in): the code AMT shows on the host's screen before a remote session.

Rules (Intel AMT SDK, ``IPS_OptInService``; codes as Intel's consoles decode them):

* ``OptInRequired``: 0 none, 1 KVM only, 0xFFFFFFFF every redirection and boot change.
* ``StartOptIn`` shows a fresh 6-digit code on the host (state 2, *displayed*); while a consent is
  already pending it answers 2 (NOT_READY).
* ``SendOptInCode`` with the shown code grants consent (state 3, *received*); a wrong code answers
  0x812 (2066, UNSUPPORTED, which Intel's console MPS reports as a wrong code); with none pending, 2.
* ``CancelOptIn`` withdraws a pending or granted consent (state 0); with none, 2.

The code on the host's screen is the test's to read (:attr:`ConsentBackend.displayed_code`), as a
person in front of the machine would.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from amtkit.codes import PTStatus

if TYPE_CHECKING:
    from ..device import SimulatedDevice

__all__ = ["CONSENT_KEY", "ConsentBackend", "OptInState", "consent_of"]

CONSENT_KEY = "consent"
OPT_IN_NONE = 0
OPT_IN_KVM = 1
OPT_IN_ALL = 0xFFFFFFFF


class OptInState:
    NOT_STARTED = 0
    REQUESTED = 1
    DISPLAYED = 2
    RECEIVED = 3
    IN_SESSION = 4


@dataclass
class ConsentBackend:
    required: int = OPT_IN_KVM
    state: int = OptInState.NOT_STARTED
    displayed_code: str | None = None
    """The code on the host's screen while a consent is pending."""
    code_timeout: int = 120
    display_timeout: int = 300

    def start(self) -> int:
        if self.state in (OptInState.REQUESTED, OptInState.DISPLAYED):
            return int(PTStatus.NOT_READY)
        self.displayed_code = f"{secrets.randbelow(1_000_000):06d}"
        self.state = OptInState.DISPLAYED
        return int(PTStatus.SUCCESS)

    def send(self, code: str) -> int:
        if self.state != OptInState.DISPLAYED or self.displayed_code is None:
            return int(PTStatus.NOT_READY)
        if code.strip().zfill(6) != self.displayed_code:
            return int(PTStatus.UNSUPPORTED)
        self.state, self.displayed_code = OptInState.RECEIVED, None
        return int(PTStatus.SUCCESS)

    def cancel(self) -> int:
        if self.state == OptInState.NOT_STARTED:
            return int(PTStatus.NOT_READY)
        self.state, self.displayed_code = OptInState.NOT_STARTED, None
        return int(PTStatus.SUCCESS)


def consent_of(device: SimulatedDevice) -> ConsentBackend:
    return device.extension(CONSENT_KEY, ConsentBackend, ConsentBackend)
