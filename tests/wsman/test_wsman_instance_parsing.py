"""Reading a class element into a typed instance, whatever the sender's XML style (sans-IO).

The parser finds a property's type by its tag (looked up once per class), so these pin down what
must not depend on that: pretty-printed or foreign-prefix answers, properties in another
namespace, text forms other than the canonical ones, and classes whose schema grows at run time.
"""

from __future__ import annotations

from amtkit.wsman import schema
from amtkit.wsman.responses import parse_response

# Wire facts written out (SOAP 1.2, WS-Addressing, DSP0226/DSP0227), not taken from amtkit.wsman.names.
SOAP = "http://www.w3.org/2003/05/soap-envelope"
GENERAL_SETTINGS = "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_GeneralSettings"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def _answer(body: str, *, namespace: str = GENERAL_SETTINGS) -> bytes:
    return (f'<s:Envelope xmlns:s="{SOAP}" xmlns:p="{namespace}" xmlns:xsi="{XSI}"><s:Header></s:Header>'
            f"<s:Body>{body}</s:Body></s:Envelope>").encode()


def test_a_pretty_printed_answer_with_other_prefixes_reads_like_amts_compact_one() -> None:
    compact = _answer("<p:AMT_GeneralSettings><p:DDNSTTL>900</p:DDNSTTL><p:SharedFQDN>true</p:SharedFQDN>"
                      "<p:HostName>amt-device</p:HostName></p:AMT_GeneralSettings>")
    pretty = _answer("\n  <p:AMT_GeneralSettings>\n    <p:DDNSTTL> 900\n</p:DDNSTTL>\n    <p:SharedFQDN> TRUE "
                     "</p:SharedFQDN>\n    <p:HostName>amt-device</p:HostName>\n  </p:AMT_GeneralSettings>\n")
    assert parse_response(pretty).instance().properties == parse_response(compact).instance().properties == {
        "DDNSTTL": 900, "SharedFQDN": True, "HostName": "amt-device"}


def test_text_forms_of_booleans_and_numbers_other_than_the_canonical_ones() -> None:
    instance = parse_response(_answer(
        "<p:AMT_GeneralSettings><p:SharedFQDN>1</p:SharedFQDN><p:WsmanOnlyMode>False</p:WsmanOnlyMode>"
        "<p:PingResponseEnabled>maybe</p:PingResponseEnabled><p:DDNSTTL>4x</p:DDNSTTL>"
        "<p:PowerSource>\t7 </p:PowerSource></p:AMT_GeneralSettings>")).instance()
    assert instance.properties == {"SharedFQDN": True, "WsmanOnlyMode": False, "PingResponseEnabled": "maybe",
                                   "DDNSTTL": "4x", "PowerSource": 7}


def test_empty_and_nil_elements_of_typed_and_untyped_properties() -> None:
    instance = parse_response(_answer(
        '<p:AMT_GeneralSettings><p:DDNSTTL></p:DDNSTTL><p:DomainName></p:DomainName>'
        '<p:HostName xsi:nil="true"></p:HostName><p:PrivacyLevel xsi:nil="true"></p:PrivacyLevel>'
        "</p:AMT_GeneralSettings>")).instance()
    assert instance.properties == {"DDNSTTL": "", "DomainName": "", "HostName": None, "PrivacyLevel": None}


def test_a_property_in_another_namespace_is_typed_by_its_name() -> None:
    instance = parse_response(_answer(
        '<p:AMT_GeneralSettings><q:DDNSTTL xmlns:q="urn:elsewhere">900</q:DDNSTTL></p:AMT_GeneralSettings>')
    ).instance()
    assert instance.properties == {"DDNSTTL": 900}


def test_the_same_class_from_another_namespace_is_typed_alike() -> None:
    body = "<p:AMT_GeneralSettings><p:DDNSTTL>900</p:DDNSTTL></p:AMT_GeneralSettings>"
    assert parse_response(_answer(body, namespace="urn:older-firmware")).instance().properties == {"DDNSTTL": 900}


def test_a_class_registered_after_a_first_answer_is_typed_from_then_on() -> None:
    namespace = "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_SpineLateRegistration"
    answer = _answer("<p:AMT_SpineLateRegistration><p:Count>3</p:Count><p:Count>4</p:Count>"
                     "</p:AMT_SpineLateRegistration>", namespace=namespace)
    assert parse_response(answer).instance().properties == {"Count": ["3", "4"]}
    schema.register("AMT_SpineLateRegistration", {"Count": "int[]"})
    assert parse_response(answer).instance().properties == {"Count": [3, 4]}


def test_ever_new_property_names_are_all_read_but_remembered_only_up_to_a_bound() -> None:
    namespace = "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_SpineManyNames"
    body = "".join(f"<p:Name{i}>v{i}</p:Name{i}>" for i in range(1000))
    instance = parse_response(_answer(f"<p:AMT_SpineManyNames>{body}</p:AMT_SpineManyNames>",
                                      namespace=namespace)).instance()
    assert len(instance.properties) == 1000 and instance["Name999"] == "v999"
    assert len(schema.tag_types(f"{{{namespace}}}AMT_SpineManyNames")) <= schema.MAX_LEARNED_TAGS
