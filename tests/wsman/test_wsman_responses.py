"""Responses the simulator writes are read back unchanged by the client's parser (sans-IO).

Every response kind round-trips through the writer -> bytes -> ``parse_response`` and its typed
accessors with arbitrary values.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from amtkit.wsman import names, schema
from amtkit.wsman import responses as rs
from amtkit.wsman.faults import FAULTS, KIND_BY_SUBCODE
from amtkit.wsman.responses import EnumItem
from amtkit.wsman.values import CimInstance, EndpointReference

ROUND_TRIP_CLASS = "CIM_SpineResponseRoundTrip"
schema.register(ROUND_TRIP_CLASS, {
    "Text": "str", "Texts": "str[]", "Number": "int", "Numbers": "int[]", "Flag": "bool",
    "When": "datetime", "Whens": "datetime[]", "Ref": "ref",
}, keys=("InstanceID",))

FAST = settings(max_examples=40, deadline=None)

# Wire facts written out (DSP0226), not taken from amtkit.wsman.names.
TRANSFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer/"
ENUMERATION = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/"
POWER_SERVICE = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_PowerManagementService"

_XML_CHAR = st.characters(
    blacklist_categories=("Cs",),
    blacklist_characters=[chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"] + ["\ufffe", "\uffff"],
)
xml_text = st.text(st.one_of(st.sampled_from('<>&"\'];\r\n\t '), _XML_CHAR), max_size=40)
token_text = xml_text.map(str.strip)
property_name = st.from_regex(r"[A-Z][A-Za-z0-9_]{0,15}", fullmatch=True)
eprs = st.builds(
    EndpointReference,
    resource_uri=st.sampled_from([names.Cls.CIM_ComputerSystem, names.Cls.AMT_GeneralSettings]).map(names.resource_uri),
    selectors=st.dictionaries(property_name, token_text, max_size=3),
)
timezones = st.builds(dt.timezone, st.timedeltas(min_value=dt.timedelta(hours=-14), max_value=dt.timedelta(hours=14)))
datetimes = st.datetimes(min_value=dt.datetime(2, 1, 1), max_value=dt.datetime(9998, 12, 31), timezones=timezones)
integers = st.integers(min_value=-(2**63), max_value=2**64)
instances = st.builds(CimInstance, st.just(ROUND_TRIP_CLASS), st.fixed_dictionaries({}, optional={
    "Text": st.one_of(xml_text, st.none()),
    "Texts": st.lists(xml_text, min_size=1, max_size=3),
    "Number": integers,
    "Numbers": st.lists(integers, min_size=1, max_size=3),
    "Flag": st.booleans(),
    "When": datetimes,
    "Whens": st.lists(datetimes, min_size=1, max_size=2),
    "Ref": eprs,
    "InstanceID": token_text,
}))
message_ids = token_text.filter(bool)
contexts = st.one_of(st.none(), token_text.filter(bool))
modes = st.sampled_from([None, names.ENUM_MODE_EPR, names.ENUM_MODE_OBJECT_AND_EPR])


def _items_for(mode: str | None, objects: list[CimInstance], refs: list[EndpointReference]) -> list[EnumItem]:
    pairs = list(zip(objects, refs[: len(objects)], strict=True))
    if mode == names.ENUM_MODE_EPR:
        return [EnumItem(epr=ref) for _, ref in pairs]
    if mode == names.ENUM_MODE_OBJECT_AND_EPR:
        return [EnumItem(instance=obj, epr=ref) for obj, ref in pairs]
    return [EnumItem(instance=obj) for obj, _ in pairs]


@FAST
@given(message_ids, message_ids, instances)
def test_get_response_round_trips_headers_and_typed_object(relates_to: str, message_id: str,
                                                           instance: CimInstance) -> None:
    response = rs.parse_response(rs.get_response(relates_to, message_id, instance))
    assert response.action == TRANSFER + "GetResponse"
    assert response.relates_to == relates_to
    assert response.message_id == message_id
    assert response.resource_uri == instance.resource_uri
    assert response.fault is None
    assert response.instance() == instance


@FAST
@given(instances)
def test_put_response_round_trips_the_stored_object(instance: CimInstance) -> None:
    response = rs.parse_response(rs.get_response("1", "m", instance, action=names.Action.PUT))
    assert response.action == TRANSFER + "PutResponse"
    assert response.instance() == instance


@FAST
@given(eprs)
def test_create_response_round_trips_the_new_reference(created: EndpointReference) -> None:
    response = rs.parse_response(rs.create_response("1", "m", created))
    assert response.action == TRANSFER + "CreateResponse"
    assert response.created() == created


def test_delete_response_has_an_empty_body() -> None:
    uri = names.resource_uri(names.Cls.AMT_GeneralSettings)
    response = rs.parse_response(rs.delete_response("3", "m", uri))
    assert response.action == TRANSFER + "DeleteResponse"
    assert response.resource_uri == uri
    assert response.payload is None


@FAST
@given(contexts)
def test_plain_enumerate_response_round_trips_the_context(context: str | None) -> None:
    uri = names.resource_uri(ROUND_TRIP_CLASS)
    page = rs.parse_response(rs.enumerate_response("1", "m", uri, context)).enumeration()
    assert page.context == context
    assert page.items == []


@FAST
@given(modes, st.lists(instances, max_size=4), st.lists(eprs, min_size=4, max_size=4), contexts)
def test_optimized_enumerate_response_round_trips_items_in_every_mode(
    mode: str | None, objects: list[CimInstance], refs: list[EndpointReference], context: str | None
) -> None:
    items = _items_for(mode, objects, refs)
    uri = names.resource_uri(ROUND_TRIP_CLASS)
    page = rs.parse_response(rs.enumerate_response("1", "m", uri, context, items=items, mode=mode)).enumeration()
    assert page.items == items
    assert page.context == context
    assert page.end_of_sequence == (context is None)


@FAST
@given(modes, st.lists(instances, max_size=4), st.lists(eprs, min_size=4, max_size=4), contexts)
def test_pull_response_round_trips_items_and_end_of_sequence(
    mode: str | None, objects: list[CimInstance], refs: list[EndpointReference], context: str | None
) -> None:
    items = _items_for(mode, objects, refs)
    uri = names.resource_uri(ROUND_TRIP_CLASS)
    response = rs.parse_response(rs.pull_response("1", "m", uri, items, context, mode=mode))
    assert response.action == ENUMERATION + "PullResponse"
    page = response.enumeration()
    assert page.items == items
    assert page.context == context
    assert page.end_of_sequence == (context is None)


@FAST
@given(property_name, st.integers(min_value=0, max_value=2**32),
       st.dictionaries(property_name.filter(lambda n: n != "ReturnValue"), st.one_of(token_text, eprs), max_size=4))
def test_method_response_round_trips_return_value_and_outputs(method: str, return_value: int, outputs: dict) -> None:
    data = rs.method_response("1", "m", names.Cls.CIM_PowerManagementService, method, return_value, outputs)
    response = rs.parse_response(data)
    assert response.action == f"{POWER_SERVICE}/{method}Response"
    result = response.method_output()
    assert result.return_value == return_value
    assert result.outputs == outputs


@FAST
@given(st.sampled_from(sorted(KIND_BY_SUBCODE)), token_text, message_ids)
def test_fault_response_round_trips_code_subcode_reason_detail_and_action(subcode: str, detail: str,
                                                                          relates_to: str) -> None:
    kind = KIND_BY_SUBCODE[subcode]
    response = rs.parse_response(rs.fault_response(relates_to, "m", kind, detail))
    fault = response.fault
    assert fault is not None
    assert (fault.subcode, fault.reason, fault.detail, fault.action) == (kind.subcode, kind.reason, detail, kind.action)
    assert fault.code == kind.code
    assert fault.kind is kind
    assert response.relates_to == relates_to


def test_internal_error_detail_exposes_the_amt_status() -> None:
    response = rs.parse_response(rs.fault_response("1", "m", FAULTS.INTERNAL_ERROR, "AMT-STATUS 1"))
    assert response.fault is not None and response.fault.amt_status == 1


@FAST
@given(st.from_regex(r"AMT [0-9]{1,2}\.[0-9]{1,2}", fullmatch=True), st.lists(token_text, max_size=3))
def test_identify_response_round_trips_version_and_profiles(product_version: str, profiles: list[str]) -> None:
    result = rs.parse_identify(rs.identify_response(product_version, profiles=profiles))
    assert result.product_version == product_version
    assert result.amt_version == product_version[4:]
    assert result.product_vendor == "Intel(r)"
    assert result.protocol_version == "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"  # DSP0226 Identify
    assert result.dash_version == "1.0.0"
    assert result.security_profiles == tuple(profiles)


def test_identify_from_something_other_than_amt_has_no_amt_version() -> None:
    result = rs.parse_identify(rs.identify_response("Openwsman 2.6", vendor="Openwsman Project"))
    assert result.amt_version is None
