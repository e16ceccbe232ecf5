"""Errors keep their context: the cause behind them, the request and return value they are about,
their exit code; every error for bad input is an ``AMTError``.

Exit codes are written out as ``docs/errors.md`` and ``docs/cli.md`` document them, not read from
``amtkit.exceptions.EXIT_CODES``.
"""

from __future__ import annotations

import socket

import pytest

import amtkit
from amtkit import exceptions as exc
from amtkit.boot import BootTarget
from amtkit.config import Timeout, normalize_fingerprint
from amtkit.defense.cbfilters import parse_bytes
from amtkit.defense.engine import parse_manager_spec
from amtkit.defense.model import IPHeaderFilter, LimitError, Policy
from amtkit.defense.plan import prepare
from amtkit.events.manager import DeviceAuth, Manager
from amtkit.store import Store


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_refused_connection_keeps_its_errno_as_the_cause() -> None:
    with pytest.raises(exc.UnreachableError) as caught, amtkit.Client(
            "127.0.0.1", port=closed_port(), password="x", retries=0, timeout=2.0) as client:
        client.identify()
    error = caught.value
    assert isinstance(error.__cause__, ConnectionRefusedError)
    described = error.to_dict()
    assert described["errno"] == "ECONNREFUSED"
    assert str(described["cause"]).startswith("ConnectionRefusedError: ")
    assert (error.exit_code, described["exit_code"]) == (3, 3)


def test_a_fault_names_the_request_it_answers(amt_device, connect) -> None:  # type: ignore[no-untyped-def]
    amt_device.control.inject(internal_error_classes=["AMT_GeneralSettings"])
    with pytest.raises(exc.WSManFault) as caught:
        connect(amt_device).get("AMT_GeneralSettings")
    described = caught.value.to_dict()
    assert described["resource_uri"] == "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_GeneralSettings"
    assert described["action"] == "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"
    assert (described["subcode"], described["amt_status"], described["exit_code"]) == ("InternalError", 1, 8)


def refused_power_change(device, connect) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """``to_dict()`` of the error for RequestPowerStateChange(PowerState=99), a state no device has."""
    selectors = {"CreationClassName": "CIM_PowerManagementService", "Name": "Intel(r) AMT Power Management Service",
                 "SystemCreationClassName": "CIM_ComputerSystem", "SystemName": "Intel(r) AMT"}
    with pytest.raises(exc.AMTReturnError) as caught:
        connect(device).invoke("CIM_PowerManagementService", "RequestPowerStateChange", {"PowerState": 99}, selectors)
    return caught.value.to_dict()


def test_a_return_error_carries_its_return_value_and_meaning(amt_device, connect) -> None:  # type: ignore[no-untyped-def]
    described = refused_power_change(amt_device, connect)
    assert (described["return_value"], described["status"]) == (5, "5 (INVALID_PARAMETER)")
    assert described["method"] and described["exit_code"] == 10


def test_a_return_error_names_the_request_it_answers(amt_device, connect) -> None:  # type: ignore[no-untyped-def]
    described = refused_power_change(amt_device, connect)
    assert described["resource_uri"] == "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_PowerManagementService"
    assert described["action"] == ("http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_PowerManagementService"
                                   "/RequestPowerStateChange")


# docs/errors.md: category and exit code of every class of the tree.
DOCUMENTED_EXIT_CODES = [
    (exc.UnreachableError, 3), (exc.ConnectTimeoutError, 3), (exc.ReadTimeoutError, 3), (exc.NotDetectedError, 5),
    (exc.AuthenticationError, 6), (exc.LocalProtocolError, 11), (exc.RemoteProtocolError, 11),
    (exc.FeatureUnavailableError, 9), (exc.UsageError, 2), (exc.PowerError, 12), (exc.PowerChangeInProgress, 12),
    (exc.PowerStateUnknownError, 13), (exc.PowerWaitTimeout, 16), (exc.SystemDefenseError, 1), (exc.AMTError, 1),
]


@pytest.mark.parametrize(("error_class", "code"), DOCUMENTED_EXIT_CODES, ids=[c.__name__ for c, _ in DOCUMENTED_EXIT_CODES])
def test_every_error_has_its_documented_exit_code(error_class: type[exc.AMTError], code: int) -> None:
    assert error_class("x").exit_code == code


def test_errors_built_with_arguments_have_their_exit_codes_too() -> None:
    assert exc.LockoutError("x", blocked=[]).exit_code == 14
    assert exc.DefenseLimitError("x", what="filters").exit_code == 10
    assert exc.DefenseMismatchError("x", differences=[]).exit_code == 11
    assert exc.TLSError("x", reason="protocol").exit_code == 4
    assert exc.AMTReturnError("x", return_value=1).exit_code == 10
    assert exc.NotProvisionedError("x", return_value=3).exit_code == 7
    fault = {"code": "Sender", "subcode": "x", "reason": "x"}
    assert (exc.WSManFault("x", **fault).exit_code, exc.DestinationUnreachableFault("x", **fault).exit_code,
            exc.AccessDeniedFault("x", **fault).exit_code, exc.DeviceBusyError("x", **fault).exit_code) == (8, 9, 8, 17)


BAD_INPUT = {
    "timeout": lambda: Timeout(-1),
    "fingerprint": lambda: normalize_fingerprint("abc"),
    "boot target": lambda: BootTarget.parse("tape"),
    "manager spec": lambda: parse_manager_spec("10.0.0.5:99999"),
    "filter": lambda: IPHeaderFilter(direction=0, profile=0, dst_ports=(1, 2)),  # type: ignore[arg-type]
    "filter file": lambda: parse_bytes(b"<filterSet"),
    "policy": lambda: Policy(name=""),
    "client class": lambda: amtkit.Client("127.0.0.1", password="x")._uri("NotAClass"),
    "listener authentication": lambda: DeviceAuth({"amt": "pw"}, "kerberos"),
    "listener users": lambda: DeviceAuth(None, "digest"),
    "basic listener without TLS": lambda: Manager(Store.open(":memory:"), users={"amt": "pw"}, auth="basic"),
}


@pytest.mark.parametrize("call", BAD_INPUT.values(), ids=list(BAD_INPUT))
def test_bad_input_is_a_usage_error_and_still_a_value_error(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(exc.UsageError) as caught:
        call()
    assert isinstance(caught.value, ValueError)
    assert caught.value.exit_code == 2 and caught.value.category == "usage"


def test_a_set_too_large_for_amt_is_an_amt_limit_error() -> None:
    from amtkit.defense.model import FilterDirection, FilterProfile, IPProtocol, PortRange

    too_many = Policy(name="big", filters=tuple(
        IPHeaderFilter(direction=FilterDirection.RECEIVE, profile=FilterProfile.DROP, protocol=IPProtocol.TCP,
                       dst_ports=PortRange.single(1 + i)) for i in range(81)))
    with pytest.raises(LimitError) as caught:
        prepare(too_many, ["10.0.0.5"])
    assert (caught.value.category, caught.value.exit_code) == ("amt-status", 10)


def test_no_error_drops_its_cause() -> None:
    # ``raise ... from None`` hid the errno or TLS reason behind 78 errors; causes are kept now.
    import ast
    from pathlib import Path

    import amtkit as package

    offenders = [
        f"{path.name}:{node.lineno}" for path in Path(package.__file__).parent.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Raise) and isinstance(node.cause, ast.Constant) and node.cause.value is None
    ]
    assert offenders == []
