"""A method's ReturnValue is read by class: generic CIM codes for CIM_ methods, PT_STATUS for AMT's."""

from __future__ import annotations

import amtkit
from amtkit.codes import describe_return_value, pt_status_of


def test_a_small_cim_return_value_is_a_generic_cim_code_not_a_pt_status() -> None:
    assert pt_status_of("CIM_PowerManagementService", 2) is None
    assert describe_return_value("CIM_PowerManagementService", 2) == "2 (UNKNOWN_ERROR)"


def test_a_cim_return_value_above_32768_carries_a_pt_status() -> None:
    assert pt_status_of("CIM_BootService", 32768 + 0x24) == 0x24
    assert "INVALID_PARAMETER" in describe_return_value("CIM_BootService", 32768 + 0x24)


def test_an_amt_class_return_value_is_a_pt_status() -> None:
    assert describe_return_value("AMT_SetupAndConfigurationService", 0x80A) == "2058 (0x080A DUPLICATE)"


def test_power_request_on_an_unknown_state_device_says_unknown_error(amt_device) -> None:
    amt_device.control.inject(power_state_unknown=True)
    with amtkit.Client(amt_device.host, **amt_device.client_kwargs()) as client:  # type: ignore[arg-type]
        try:
            client.power.request("on", check_offered=False)
        except amtkit.AMTReturnError as error:
            assert "UNKNOWN_ERROR" in str(error) and "NOT_READY" not in str(error)
        else:  # pragma: no cover - the device must refuse
            raise AssertionError("a device with an unknown power state accepted a power action")
