"""Requests the client builds are read back unchanged by the simulator's parser (sans-IO).

Every request kind round-trips through ``build_*`` -> bytes -> ``parse_request`` with arbitrary
values: unicode text with XML specials, selectors (plain and endpoint references), arrays,
datetimes, integers, booleans and nil.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amtkit.wsman import names, schema
from amtkit.wsman import requests as wr
from amtkit.wsman.values import CimInstance, EndpointReference

# A class of our own whose schema has one property of every type, so typed values round-trip.
ROUND_TRIP_CLASS = "CIM_SpineRoundTrip"
schema.register(ROUND_TRIP_CLASS, {
    "Text": "str", "Texts": "str[]", "Number": "int", "Numbers": "int[]", "Flag": "bool", "Flags": "bool[]",
    "When": "datetime", "Ref": "ref", "Refs": "ref[]",
}, keys=("InstanceID",))

FAST = settings(max_examples=40, deadline=None)

# Wire facts written out (DSP0226; DSP0227 class URIs), not taken from amtkit.wsman.names.
TRANSFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer/"
ENUMERATION = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/"
CLASS_URIS = {
    "AMT_GeneralSettings": "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_GeneralSettings",
    "CIM_ComputerSystem": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ComputerSystem",
    "CIM_PowerManagementService": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_PowerManagementService",
    "IPS_HostBasedSetupService": "http://intel.com/wbem/wscim/1/ips-schema/1/IPS_HostBasedSetupService",
}

# Characters XML 1.0 can carry (no NUL, no C0 controls but tab/LF/CR, no surrogates, no U+FFFE/F).
_XML_CHAR = st.characters(
    blacklist_categories=("Cs",),
    blacklist_characters=[chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"] + ["\ufffe", "\uffff"],
)
xml_text = st.text(st.one_of(st.sampled_from('<>&"\'];\r\n\t '), _XML_CHAR), max_size=40)
# Selector values, header texts and method parameters are read back stripped of outer white space.
token_text = xml_text.map(str.strip)
property_name = st.from_regex(r"[A-Z][A-Za-z0-9_]{0,15}", fullmatch=True)
class_names = st.sampled_from([names.Cls.AMT_GeneralSettings, names.Cls.CIM_ComputerSystem,
                               names.Cls.CIM_PowerManagementService, "IPS_HostBasedSetupService"])
plain_selectors = st.dictionaries(property_name, token_text, max_size=4)
eprs = st.builds(
    EndpointReference,
    resource_uri=class_names.map(names.resource_uri),
    selectors=plain_selectors,
    address=st.sampled_from([names.ANONYMOUS, names.WSA]),
)
selectors = st.dictionaries(property_name, st.one_of(token_text, eprs), max_size=4)
timezones = st.builds(dt.timezone, st.timedeltas(min_value=dt.timedelta(hours=-14), max_value=dt.timedelta(hours=14)))
datetimes = st.datetimes(min_value=dt.datetime(2, 1, 1), max_value=dt.datetime(9998, 12, 31), timezones=timezones)
integers = st.integers(min_value=-(2**63), max_value=2**64)

round_trip_properties = st.fixed_dictionaries({}, optional={
    "Text": st.one_of(xml_text, st.none()),
    "Texts": st.lists(xml_text, min_size=1, max_size=4),
    "Number": integers,
    "Numbers": st.lists(integers, min_size=1, max_size=4),
    "Flag": st.booleans(),
    "Flags": st.lists(st.booleans(), min_size=1, max_size=3),
    "When": datetimes,
    "Ref": eprs,
    "Refs": st.lists(eprs, min_size=1, max_size=3),
    "InstanceID": token_text,
})


@FAST
@given(class_names, selectors, token_text)
def test_get_round_trips_resource_selectors_and_message_id(class_name: str, sel: dict, message_id: str) -> None:
    uri = CLASS_URIS[class_name]
    request = wr.parse_request(wr.build_get(names.resource_uri(class_name), sel, message_id=message_id or None))
    assert request.action == TRANSFER + "Get"
    assert request.resource_uri == uri
    assert request.class_name == class_name
    assert request.selectors == sel
    if message_id:
        assert request.message_id == message_id
    assert request.operation_timeout == wr.DEFAULT_OPERATION_TIMEOUT
    assert request.to == "/wsman"
    assert request.must_understand_unknown == []


@FAST
@given(round_trip_properties, selectors)
def test_put_round_trips_the_whole_typed_object(properties: dict, sel: dict) -> None:
    instance = CimInstance(ROUND_TRIP_CLASS, properties)
    request = wr.parse_request(wr.build_put(instance, sel))
    assert request.action == TRANSFER + "Put"
    assert request.resource_uri == instance.resource_uri
    assert request.selectors == sel
    assert request.body_instance() == instance


@FAST
@given(round_trip_properties)
def test_create_round_trips_the_new_object(properties: dict) -> None:
    request = wr.parse_request(wr.build_create(ROUND_TRIP_CLASS, properties))
    assert request.action == TRANSFER + "Create"
    assert request.body_instance() == CimInstance(ROUND_TRIP_CLASS, properties)


@FAST
@given(class_names, selectors)
def test_delete_round_trips_selectors_including_endpoint_references(class_name: str, sel: dict) -> None:
    request = wr.parse_request(wr.build_delete(names.resource_uri(class_name), sel))
    assert request.action == TRANSFER + "Delete"
    assert request.selectors == sel


@FAST
@given(
    class_names,
    st.booleans(),
    st.one_of(st.none(), st.integers(min_value=1, max_value=10_000)),
    st.sampled_from([None, names.ENUM_MODE_EPR, names.ENUM_MODE_OBJECT_AND_EPR]),
)
def test_enumerate_round_trips_optimization_max_elements_and_mode(
    class_name: str, optimize: bool, max_elements: int | None, mode: str | None
) -> None:
    options = wr.EnumerateOptions(optimize=optimize, max_elements=max_elements, mode=mode)
    request = wr.parse_request(wr.build_enumerate(names.resource_uri(class_name), options))
    assert request.action == ENUMERATION + "Enumerate"
    # MaxElements belongs to optimized enumeration only (DSP0226 8.2.3).
    expected = wr.EnumerateOptions(optimize=optimize, max_elements=max_elements if optimize else None, mode=mode)
    assert request.enumerate_options() == expected


@FAST
@given(class_names, token_text.filter(bool), st.integers(min_value=-5, max_value=10_000))
def test_pull_round_trips_context_and_at_least_one_element(class_name: str, context: str, max_elements: int) -> None:
    request = wr.parse_request(wr.build_pull(names.resource_uri(class_name), context, max_elements))
    assert request.action == ENUMERATION + "Pull"
    assert request.enumeration_context() == context
    assert request.pull_max_elements() == max(1, max_elements)


@FAST
@given(class_names, token_text.filter(bool))
def test_release_round_trips_context(class_name: str, context: str) -> None:
    request = wr.parse_request(wr.build_release(names.resource_uri(class_name), context))
    assert request.action == ENUMERATION + "Release"
    assert request.enumeration_context() == context


method_params = st.dictionaries(
    property_name,
    st.one_of(token_text, eprs, integers, st.lists(token_text, min_size=2, max_size=3)),
    max_size=5,
)


@FAST
@given(class_names, property_name, method_params, selectors)
def test_invoke_round_trips_method_parameters_and_selectors(
    class_name: str, method: str, params: dict, sel: dict
) -> None:
    request = wr.parse_request(wr.build_invoke(class_name, method, params, sel))
    assert request.action == f"{CLASS_URIS[class_name]}/{method}"
    assert request.method == method
    assert request.selectors == sel
    assert request.body is not None and request.body.tag == f"{{{CLASS_URIS[class_name]}}}{method}_INPUT"
    # Parameters come back as text (the body carries no types), endpoint references as objects.
    expected = {key: str(value) if isinstance(value, int) else value for key, value in params.items()}
    assert request.method_params() == expected


def test_identify_parses_as_identify_without_addressing_headers() -> None:
    request = wr.parse_request(wr.build_identify())
    assert request.is_identify
    assert request.resource_uri is None


@FAST
@given(st.integers(min_value=30, max_value=86_400 * 10) | st.floats(min_value=30, max_value=1e6))
def test_operation_timeout_round_trips_to_the_millisecond(seconds: float) -> None:
    request = wr.parse_request(wr.build_get(names.resource_uri("AMT_GeneralSettings"), operation_timeout=seconds))
    assert request.operation_timeout == pytest.approx(seconds, abs=0.0005)


def test_max_envelope_size_round_trips() -> None:
    body = wr.build_get(names.resource_uri("AMT_GeneralSettings"), max_envelope_size=153600)
    assert wr.parse_request(body).max_envelope_size == 153600


def test_request_without_operation_timeout_parses_as_none() -> None:
    body = wr.build_get(names.resource_uri("AMT_GeneralSettings"), operation_timeout=None)
    assert wr.parse_request(body).operation_timeout is None


@pytest.mark.parametrize("bad", ["\x00", "a\x01b", "\ud800", "\uffff", "tab\x0bvertical"])
def test_building_refuses_text_xml_cannot_carry(bad: str) -> None:
    with pytest.raises(ValueError, match="XML cannot carry"):
        wr.build_put(CimInstance(ROUND_TRIP_CLASS, {"Text": bad}))


def test_carriage_return_in_a_value_survives_the_round_trip() -> None:
    instance = CimInstance(ROUND_TRIP_CLASS, {"Text": "line1\r\nline2\r"})
    assert wr.parse_request(wr.build_put(instance)).body_instance()["Text"] == "line1\r\nline2\r"


def test_message_ids_are_unique_amt_style_uuids() -> None:
    first, second = wr.next_message_id(), wr.next_message_id()
    assert first != second
    for message_id in (first, second):
        assert message_id.startswith("uuid:00000000-8086-8086-8086-")
        assert len(message_id.rsplit("-", 1)[1]) == 12
