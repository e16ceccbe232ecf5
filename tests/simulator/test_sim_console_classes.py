"""Every class Intel's wsman-messages and MeshCentral's AMT stack read, answered as AMT answers it.

Oracles: the class lists in ``tests/data/consoles`` (taken from the consoles' own sources) and the
recorded AMT answers in ``tests/data/amt-wire``. Everything runs against a simulated device over a
real socket, through amtkit's client.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from lxml import etree

from amtkit import exceptions as exc
from amtkit.client import Client
from amtkit.wsman import responses as rs
from amtkit.wsman.values import CimInstance
from amtsim.coverage import KNOWN_EMPTY, OWNED_ELSEWHERE, SERVED, UNKNOWN, read_list, survey

DATA = Path(__file__).parents[1] / "data"
CONSOLE_LISTS = sorted((DATA / "consoles").glob("*.txt"))


def recorded(name: str) -> bytes:
    path = DATA / "amt-wire" / name
    if not path.exists():
        raise FileNotFoundError(f"recorded AMT message {name} missing from tests/data/amt-wire")
    return path.read_bytes()


@pytest.fixture
def client(amt_device, connect) -> Client:  # type: ignore[no-untyped-def]
    return connect(amt_device)  # type: ignore[no-any-return]


def test_the_console_class_lists_are_there() -> None:
    assert {p.name for p in CONSOLE_LISTS} >= {"wsman-messages-5.14.1.txt", "meshcentral-1.1.55.txt"}
    assert all(len(read_list(p)) > 50 for p in CONSOLE_LISTS)


def test_every_class_the_consoles_read_is_known_to_the_simulator(client: Client) -> None:
    classes = set().union(*(read_list(p) for p in CONSOLE_LISTS))
    unknown = {row.class_name for row in survey(client, classes) if row.verdict == UNKNOWN}
    assert unknown <= set(OWNED_ELSEWHERE), sorted(unknown - set(OWNED_ELSEWHERE))


@pytest.mark.parametrize("class_name", [
    "IPS_KVMRedirectionSettingData", "IPS_PowerManagementService", "IPS_OptInService", "CIM_Card", "CIM_Chip",
    "CIM_MediaAccessDevice", "CIM_PhysicalPackage", "AMT_TimeSynchronizationService", "AMT_TLSSettingData",
    "AMT_AuthorizationService", "AMT_PublicKeyManagementService", "IPS_HostBasedSetupService",
])
def test_classes_the_issue_names_are_served(client: Client, class_name: str) -> None:
    assert client.enumerate(class_name)


@pytest.mark.parametrize("class_name", ["CIM_Fan", "CIM_Sensor", "CIM_WiFiPort", "AMT_PublicKeyCertificate"])
def test_a_known_class_the_machine_lacks_enumerates_empty_and_get_is_unreachable(client: Client,
                                                                                  class_name: str) -> None:
    assert survey(client, [class_name])[0].verdict == KNOWN_EMPTY
    with pytest.raises(exc.DestinationUnreachableFault):
        client.get(class_name)


def test_a_class_amt_does_not_have_is_destination_unreachable(client: Client) -> None:
    assert survey(client, ["CIM_NoSuchClass"])[0].verdict == UNKNOWN


# --- shapes of the recorded answers -----------------------------------------------------------------------


def payload(data: bytes) -> etree._Element:
    body = etree.fromstring(data).find("{http://www.w3.org/2003/05/soap-envelope}Body")
    assert body is not None and len(body)
    return body[0]


def local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


def property_names(element: etree._Element) -> set[str]:
    return {local(child.tag) for child in element if isinstance(child.tag, str)}


def declared_namespaces(data: bytes) -> set[str]:
    return set(etree.fromstring(data).nsmap.values())  # type: ignore[arg-type]


GET_SHAPES = ["CIM_Card.Get.response.2.xml", "CIM_Chip.Get.response.xml", "IPS_KVMRedirectionSettingData.Get.response.xml",
              "IPS_OptInService.Get.response.xml", "IPS_PowerManagementService.Get.response.xml",
              "AMT_TimeSynchronizationService.Get.response.xml", "AMT_AuthorizationService.Get.response.xml",
              "AMT_PublicKeyManagementService.Get.response.xml", "AMT_AlarmClockService.Get.response.xml",
              "IPS_HostBasedSetupService.Get.response.xml", "AMT_8021XProfile.Get.response.xml",
              "AMT_KerberosSettingData.Get.response.xml", "AMT_EnvironmentDetectionSettingData.Get.response.xml",
              "IPS_ProvisioningRecordLog.Get.response.xml", "IPS_SecIOService.Get.response.xml",
              "AMT_RemoteAccessService.Get.response.xml", "CIM_RedirectionService.Get.response.xml"]


@pytest.mark.parametrize("name", GET_SHAPES)
def test_get_answers_the_properties_and_namespaces_of_the_recorded_answer(amt_device, client: Client,
                                                                          name: str) -> None:
    expected = recorded(name)
    body = raw_get(client, name.split(".")[0])
    assert property_names(payload(body)) >= property_names(payload(expected)) - OPTIONAL_IN_RECORDINGS
    assert declared_namespaces(body) == declared_namespaces(expected)


#: Properties some recordings carry that depend on state the simulated machine does not have.
OPTIONAL_IN_RECORDINGS = {"ConfigurationNonce", "DetectionStrings"}


def raw_get(client: Client, class_name: str) -> bytes:
    """The bytes of a Get answer, fetched with amtkit's transport (digest and all)."""
    from amtkit.wsman import names
    from amtkit.wsman import requests as wr

    reply = client.transport.post(wr.build_get(names.resource_uri(class_name)), idempotent=True)
    assert reply.status == 200, reply.body[:300]
    return reply.body


# --- behaviour consoles rely on ---------------------------------------------------------------------------


def test_napalm_amt_finds_the_cpu_model_on_the_chip_tagged_like_the_processor(client: Client) -> None:
    processors = client.enumerate("CIM_Processor")
    chips = {chip["Tag"]: chip["Version"] for chip in client.enumerate("CIM_Chip")}
    assert [chips[p["DeviceID"]] for p in processors] == ["Intel(R) Core(TM) i7-13700 CPU @ 2.10GHz"]


def test_drives_report_their_size_in_kilobytes(make_device, connect) -> None:
    device = make_device(drives_gb=[512, 2000])
    drives = connect(device).enumerate("CIM_MediaAccessDevice")
    assert [(d["DeviceID"], d["MaxMediaSize"]) for d in drives] == [("MEDIA DEV 0", 512_000_000),
                                                                     ("MEDIA DEV 1", 2_000_000_000)]


def test_physical_package_is_answered_with_the_baseboard_card(client: Client) -> None:
    [card] = client.enumerate("CIM_PhysicalPackage")
    assert card.class_name == "CIM_Card" and card["Tag"] == "CIM_Card"


def test_the_amt_package_vnc_put_enables_port_5900_and_never_reads_back_the_password(amt_device, client: Client) -> None:
    # The body the `amt` package (amtctrl vnc) sends: no BackToBackFbMode or OptInPolicyTimeout.
    settings = client.get("IPS_KVMRedirectionSettingData")
    sent = CimInstance("IPS_KVMRedirectionSettingData", {
        "DefaultScreen": 0, "ElementName": settings["ElementName"], "EnabledByMEBx": True,
        "InstanceID": settings["InstanceID"], "Is5900PortEnabled": True, "OptInPolicy": False,
        "RFBPassword": "P@ssw0rd", "SessionTimeout": 0})
    stored = client.put(sent)
    assert (stored["Is5900PortEnabled"], stored["OptInPolicy"], stored["RFBPassword"]) == (True, False, "")
    assert client.get("IPS_KVMRedirectionSettingData")["Is5900PortEnabled"] is True


def test_kvm_request_state_change_switches_kvm(client: Client) -> None:
    output = client.invoke("CIM_KVMRedirectionSAP", "RequestStateChange", {"RequestedState": 3}, check=False)
    assert output.return_value == 0
    assert client.get("CIM_KVMRedirectionSAP")["EnabledState"] == 3
    client.invoke("CIM_KVMRedirectionSAP", "RequestStateChange", {"RequestedState": 2})
    assert client.get("CIM_KVMRedirectionSAP")["EnabledState"] in (2, 6)


def test_user_consent_takes_the_code_shown_on_the_host_screen(amt_device, client: Client) -> None:
    assert client.invoke("IPS_OptInService", "StartOptIn", check=False).return_value == 0
    assert client.get("IPS_OptInService")["OptInState"] == 2  # displayed
    code = amt_device.control.consent_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert client.invoke("IPS_OptInService", "SendOptInCode", {"OptInCode": wrong}, check=False).return_value == 0x812
    assert client.invoke("IPS_OptInService", "SendOptInCode", {"OptInCode": code}, check=False).return_value == 0
    assert client.get("IPS_OptInService")["OptInState"] == 3  # received
    assert client.invoke("IPS_OptInService", "CancelOptIn", check=False).return_value == 0
    assert client.get("IPS_OptInService")["OptInState"] == 0


def test_a_second_start_opt_in_while_one_is_pending_is_not_ready(client: Client) -> None:
    client.invoke("IPS_OptInService", "StartOptIn")
    assert client.invoke("IPS_OptInService", "StartOptIn", check=False).return_value == 2


def test_time_synchronization_reads_and_sets_amt_clock(client: Client) -> None:
    ta0 = int(client.invoke("AMT_TimeSynchronizationService", "GetLowAccuracyTimeSynch").outputs["Ta0"])  # type: ignore[arg-type]
    assert abs(ta0 - time.time()) < 5
    hour_ahead = ta0 + 3600
    client.invoke("AMT_TimeSynchronizationService", "SetHighAccuracyTimeSynch",
                  {"Ta0": ta0, "Tm1": hour_ahead, "Tm2": hour_ahead})
    later = int(client.invoke("AMT_TimeSynchronizationService", "GetLowAccuracyTimeSynch").outputs["Ta0"])  # type: ignore[arg-type]
    assert abs(later - (time.time() + 3600)) < 5


def test_set_high_accuracy_time_with_a_ta0_amt_never_gave_is_refused(client: Client) -> None:
    output = client.invoke("AMT_TimeSynchronizationService", "SetHighAccuracyTimeSynch",
                           {"Ta0": 12345, "Tm1": 12346, "Tm2": 12346}, check=False)
    assert output.return_value == 0x24  # PT_STATUS INVALID_PARAMETER


def digest_key(user: str, realm: str, password: str) -> str:
    """``DigestPassword`` as AMT's account methods take it: base64 of the MD5 bytes of user:realm:password."""
    return base64.b64encode(hashlib.md5(f"{user}:{realm}:{password}".encode()).digest()).decode()


def test_setting_the_admin_password_changes_the_digest_login(amt_device, client: Client, connect) -> None:
    realm = amt_device.device.config.realm
    admin = client.invoke("AMT_AuthorizationService", "GetAdminAclEntry").outputs["Username"]
    assert admin == amt_device.username
    client.invoke("AMT_AuthorizationService", "SetAdminAclEntryEx",
                  {"Username": admin, "DigestPassword": digest_key(str(admin), realm, "N3w-Secret!")})
    with pytest.raises(exc.AuthenticationError):
        connect(amt_device).get("AMT_GeneralSettings")
    assert connect(amt_device, password="N3w-Secret!").get("AMT_GeneralSettings")


def test_a_user_added_by_acl_entry_logs_in_until_removed(amt_device, client: Client, connect) -> None:
    realm = amt_device.device.config.realm
    added = client.invoke("AMT_AuthorizationService", "AddUserAclEntryEx", {
        "DigestUsername": "operator", "DigestPassword": digest_key("operator", realm, "0perator!"),
        "AccessPermission": 2, "Realms": [3, 5]})
    handle = int(str(added.outputs["Handle"]))
    listed = client.invoke("AMT_AuthorizationService", "EnumerateUserAclEntries", {"StartIndex": 1}).outputs
    assert (listed["TotalCount"], listed["Handles"]) == ("1", str(handle))
    assert connect(amt_device, username="operator", password="0perator!").get("AMT_GeneralSettings")
    client.invoke("AMT_AuthorizationService", "RemoveUserAclEntry", {"Handle": handle})
    with pytest.raises(exc.AuthenticationError):
        connect(amt_device, username="operator", password="0perator!").get("AMT_GeneralSettings")


def self_signed(common_name: str) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "amtkit tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now)
                   .not_valid_after(now + dt.timedelta(days=30)).sign(key, hashes.SHA256()))
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()


def test_a_trusted_root_added_shows_as_a_certificate_and_goes_with_delete(client: Client) -> None:
    blob = self_signed("MPSRoot-test")
    added = client.invoke("AMT_PublicKeyManagementService", "AddTrustedRootCertificate", {"CertificateBlob": blob})
    [certificate] = client.enumerate("AMT_PublicKeyCertificate")
    assert certificate["Subject"] == "C=US,O=amtkit tests,CN=MPSRoot-test"
    assert certificate["InstanceID"] == "Intel(r) AMT Certificate: Handle: 0"
    assert added.outputs["CreatedCertificate"].selectors == {"InstanceID": certificate["InstanceID"]}  # type: ignore[union-attr]
    again = client.invoke("AMT_PublicKeyManagementService", "AddTrustedRootCertificate", {"CertificateBlob": blob},
                          check=False)
    assert again.return_value == 0x80A  # DUPLICATE
    client.delete("AMT_PublicKeyCertificate", {"InstanceID": str(certificate["InstanceID"])})
    assert client.enumerate("AMT_PublicKeyCertificate") == []


def test_os_power_saving_state_is_reported_only_while_the_host_is_on(make_device, connect) -> None:
    from amtkit.codes import PowerState

    on = connect(make_device()).get("IPS_PowerManagementService")
    off = connect(make_device(power_state=PowerState.OFF_SOFT)).get("IPS_PowerManagementService")
    assert on["OSPowerSavingState"] == 2 and "OSPowerSavingState" not in off


def test_an_alarm_added_the_wsman_messages_way_is_listed_and_deleted(amt_device, client: Client) -> None:
    from amtkit.wsman import names
    from amtkit.wsman import requests as wr

    occurrence = "http://intel.com/wbem/wscim/1/ips-schema/1/IPS_AlarmClockOccurrence"
    template = (f'<s:InstanceID xmlns:s="{occurrence}">wake-up</s:InstanceID>'
                f'<s:StartTime xmlns:s="{occurrence}"><p:Datetime xmlns:p="{names.CIM_COMMON}">'
                "2030-01-01T06:00:00Z</p:Datetime></s:StartTime>"
                f'<s:DeleteOnCompletion xmlns:s="{occurrence}">true</s:DeleteOnCompletion>')
    service = names.resource_uri("AMT_AlarmClockService")
    body = (f'<p:AddAlarm_INPUT xmlns:p="{service}"><p:AlarmTemplate>{template}</p:AlarmTemplate>'
            "</p:AddAlarm_INPUT>")
    request = wr.build_request(f"{service}/AddAlarm", service, body)
    reply = rs.parse_response(client.transport.post(request, idempotent=False).body)
    assert reply.method_output().return_value == 0
    [alarm] = client.enumerate("IPS_AlarmClockOccurrence")
    assert (alarm["InstanceID"], alarm["StartTime"]) == ("wake-up", "2030-01-01T06:00:00Z")
    client.delete("IPS_AlarmClockOccurrence", {"InstanceID": "wake-up"})
    assert client.enumerate("IPS_AlarmClockOccurrence") == []


def test_coverage_table_lists_each_class_once_with_its_verdict(client: Client) -> None:
    from amtsim.coverage import markdown

    lists = {p.stem: set(read_list(p)) for p in CONSOLE_LISTS}
    rows = survey(client, set().union(*lists.values()))
    table = markdown(rows, lists)
    assert table.count("| `CIM_Chip` |") == 1
    assert f"| {SERVED} |" in table and f"| {KNOWN_EMPTY} |" in table


def test_a_selector_named_with_the_wsman_prefix_is_understood_as_the_amt_package_writes_it(
        amt_device, client: Client) -> None:  # type: ignore[no-untyped-def]
    service = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_BootService"
    setting = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_BootConfigSetting"
    envelope = (
        '<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
        f'xmlns:wsman="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:n1="{service}"><s:Header>'
        f'<wsa:Action s:mustUnderstand="true">{service}/SetBootConfigRole</wsa:Action>'
        f'<wsa:To s:mustUnderstand="true">http://{amt_device.host}:{amt_device.port}/wsman</wsa:To>'
        f'<wsman:ResourceURI s:mustUnderstand="true">{service}</wsman:ResourceURI>'
        '<wsa:MessageID s:mustUnderstand="true">uuid:5c1b-amt-package</wsa:MessageID></s:Header><s:Body>'
        "<n1:SetBootConfigRole_INPUT><n1:BootConfigSetting>"
        "<wsa:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:Address>"
        f"<wsa:ReferenceParameters><wsman:ResourceURI>{setting}</wsman:ResourceURI><wsman:SelectorSet>"
        '<wsman:Selector wsman:Name="InstanceID">Intel(r) AMT: Boot Configuration 0</wsman:Selector>'
        "</wsman:SelectorSet></wsa:ReferenceParameters></n1:BootConfigSetting><n1:Role>1</n1:Role>"
        "</n1:SetBootConfigRole_INPUT></s:Body></s:Envelope>")
    reply = rs.parse_response(client.transport.post(envelope.encode(), idempotent=False).body)
    assert reply.method_output().return_value == 0
