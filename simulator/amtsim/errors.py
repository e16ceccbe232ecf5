"""Domain errors of the simulator, each carrying the WS-Man fault it is rendered as.

Backends and handlers raise :class:`SimFault`; one place (:mod:`amtsim.dispatch`) renders it.
"""

from __future__ import annotations

from amtkit.wsman.faults import FAULTS, FaultKind


class SimFault(Exception):
    def __init__(self, kind: FaultKind, detail: str = "") -> None:
        super().__init__(f"{kind.subcode}: {detail}" if detail else kind.subcode)
        self.kind = kind
        self.detail = detail


class Deferred(Exception):
    """Not a fault: the device makes the request wait ``seconds`` (a power change waits for the one
    in progress). :mod:`amtsim.dispatch` answers it later, or with ``TimedOut`` past its
    ``OperationTimeout``."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"wait {seconds:.3f} s")
        self.seconds = seconds


def destination_unreachable(detail: str = "") -> SimFault:
    return SimFault(FAULTS.DESTINATION_UNREACHABLE, detail)


def invalid_selectors(detail: str = "") -> SimFault:
    return SimFault(FAULTS.INVALID_SELECTORS, detail)


def action_not_supported(detail: str = "") -> SimFault:
    return SimFault(FAULTS.ACTION_NOT_SUPPORTED, detail)


def invalid_representation(detail: str = "") -> SimFault:
    return SimFault(FAULTS.INVALID_REPRESENTATION, detail)


def internal_error(pt_status: int) -> SimFault:
    """AMT reports intrinsic-operation failures as InternalError with ``AMT-STATUS <n>``."""
    return SimFault(FAULTS.INTERNAL_ERROR, f"AMT-STATUS {pt_status}")
