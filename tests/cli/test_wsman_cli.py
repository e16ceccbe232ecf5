"""``amtkit wsman``: generic WS-Management from the shell against a simulated device (issue #13).

Class names, selectors and property names are written from the Intel AMT SDK, not taken from amtkit.
"""

from __future__ import annotations

import json
from pathlib import Path

from test_cli_end_to_end import amtkit, at

ERROR_KEYS = {"ok", "error", "category", "message", "host", "hint", "exit_code"}


def run(device, *args: str):  # type: ignore[no-untyped-def]
    return amtkit(*at(device, "wsman", args[0]), *args[1:], password=device.password)


def test_get_prints_the_properties_of_a_singleton(amt_device) -> None:
    result = run(amt_device, "get", "AMT_GeneralSettings")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"AMT_GeneralSettings on {amt_device.host}:"
    assert "  HostName: amt-device" in lines


def test_get_with_a_selector_reads_that_instance_as_json(amt_device) -> None:
    result = run(amt_device, "get", "CIM_SoftwareIdentity", "-s", "InstanceID=AMT", "--json")
    data = json.loads(result.stdout)
    assert (data["ok"], data["class"], data["instance"]["InstanceID"]) == (True, "CIM_SoftwareIdentity", "AMT")
    assert data["instance"]["VersionString"] == amt_device.device.config.amt_version


def test_enumerate_lists_every_instance_and_references(amt_device) -> None:
    objects = json.loads(run(amt_device, "enumerate", "CIM_SoftwareIdentity", "--json").stdout)
    refs = json.loads(run(amt_device, "enumerate", "CIM_SoftwareIdentity", "--references", "--json").stdout)
    assert objects["count"] == len(objects["instances"]) == refs["count"] > 1
    assert {"AMT", "Flash"} <= {i["InstanceID"] for i in objects["instances"]}
    assert {r["selectors"]["InstanceID"] for r in refs["references"]} == {i["InstanceID"] for i in objects["instances"]}


def test_put_with_a_change_reads_the_object_and_writes_it_back(amt_device) -> None:
    result = run(amt_device, "put", "AMT_GeneralSettings", "-k", "PingResponseEnabled=false")
    assert result.returncode == 0, result.stderr
    after = json.loads(run(amt_device, "get", "AMT_GeneralSettings", "--json").stdout)["instance"]
    assert after["PingResponseEnabled"] is False and after["HostName"] == "amt-device"


def test_get_json_edited_and_put_from_the_file_round_trips(amt_device, tmp_path: Path) -> None:
    answer = json.loads(run(amt_device, "get", "AMT_GeneralSettings", "--json").stdout)
    answer["instance"]["HostName"] = "renamed-by-file"
    saved = tmp_path / "settings.json"
    saved.write_text(json.dumps(answer))
    assert run(amt_device, "put", "AMT_GeneralSettings", "-i", str(saved)).returncode == 0
    again = json.loads(run(amt_device, "get", "AMT_GeneralSettings", "--json").stdout)["instance"]
    assert again["HostName"] == "renamed-by-file"


def test_create_and_delete_a_filter(amt_device, tmp_path: Path) -> None:
    spec = tmp_path / "filter.json"
    spec.write_text(json.dumps({"Name": "shell-made", "FilterProfile": 0, "FilterDirection": 0,
                                "ActionEventOnMatch": False, "HdrIPVersion": 4, "HdrProtocolID": 6,
                                "HdrDestPortStart": 23, "HdrDestPortEnd": 23}))
    created = json.loads(run(amt_device, "create", "AMT_IPHeadersFilter", "-i", str(spec), "--json").stdout)
    assert created["ok"] is True
    instance_id = created["created"]["selectors"]["InstanceID"]
    listed = json.loads(run(amt_device, "enumerate", "AMT_IPHeadersFilter", "--json").stdout)["instances"]
    assert [i["Name"] for i in listed] == ["shell-made"]
    deleted = run(amt_device, "delete", "AMT_IPHeadersFilter", "-s", f"InstanceID={instance_id}")
    assert deleted.returncode == 0, deleted.stderr
    assert json.loads(run(amt_device, "enumerate", "AMT_IPHeadersFilter", "--json").stdout)["count"] == 0


def test_invoke_calls_a_method_with_its_selectors_and_parameters(amt_device) -> None:
    selectors = ["-s", "CreationClassName=CIM_PowerManagementService", "-s",
                 "Name=Intel(r) AMT Power Management Service", "-s", "SystemCreationClassName=CIM_ComputerSystem",
                 "-s", "SystemName=Intel(r) AMT"]
    result = run(amt_device, "invoke", "CIM_PowerManagementService", "RequestPowerStateChange", *selectors,
                 "-k", "PowerState=8", "--json")  # 8: off (soft), DSP1027
    assert json.loads(result.stdout)["return_value"] == 0, result.stderr
    assert amt_device.control.power_state.value in (6, 8)  # off hard or soft as the simulated host settles


def test_a_refused_method_is_a_json_error_with_the_usual_keys(amt_device) -> None:
    result = run(amt_device, "invoke", "CIM_PowerManagementService", "RequestPowerStateChange", "-k", "PowerState=99",
                 "-s", "Name=Intel(r) AMT Power Management Service", "--json")
    data = json.loads(result.stdout)
    assert ERROR_KEYS <= set(data) and data["ok"] is False
    assert result.returncode == data["exit_code"] != 0


def test_a_delete_without_selectors_is_refused_before_sending(amt_device) -> None:
    result = run(amt_device, "delete", "AMT_IPHeadersFilter")
    assert result.returncode == 2
    assert "wsman enumerate HOST CLASS --references" in result.stderr


def test_an_unreadable_input_file_is_a_usage_error(amt_device, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = run(amt_device, "put", "AMT_GeneralSettings", "-i", str(bad))
    assert result.returncode == 2 and "not a readable JSON file" in result.stderr
    assert "Traceback" not in result.stderr
