"""Text from a device reaches terminals and logs escaped and capped; the data keeps it as received;
the CLI's connection options never show the password."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug import Response

from amtkit import exceptions as exc
from amtkit.client import Client
from amtkit.text import printable, printable_data, terminal_safe

ESC, CSI, RLO, LRI = "\x1b", "\x9b", "\u202e", "\u2066"
HOSTILE = f"ok{ESC}[2J{ESC}]0;pwned\x07\nFAKE LINE\r{CSI}31m{RLO}txt.exe{LRI}"
# What XML can carry of it (XML 1.0 has no C0 controls but tab, LF and CR): C1 controls, line breaks, bidi.
XML_HOSTILE = f"ok{CSI}2J\nFAKE LINE\r{RLO}txt.exe{LRI}"
UNSAFE = {chr(c) for c in [*range(0x20), *range(0x7F, 0xA0), 0x061C, 0x200E, 0x200F, 0x2028, 0x2029,
                           *range(0x202A, 0x202F), *range(0x2066, 0x206A)]}


def test_printable_escapes_controls_line_breaks_and_bidi_controls() -> None:
    assert printable(HOSTILE) == ("ok\\x1b[2J\\x1b]0;pwned\\x07\\nFAKE LINE\\r\\x9b31m\\u202etxt.exe\\u2066")


def test_printable_caps_the_length_and_counts_the_rest() -> None:
    assert printable("x" * 1000, limit=10) == "xxxxxxxxxx...(+990 chars)"
    assert printable("x" * 1000, limit=None) == "x" * 1000


@given(st.text(max_size=200))
def test_printable_output_is_one_safe_line_and_idempotent(text: str) -> None:
    shown = printable(text, limit=None)
    assert not UNSAFE & set(shown)
    assert printable(shown, limit=None) == shown


def test_printable_data_escapes_every_string_of_a_structure() -> None:
    assert printable_data({"name": f"a{ESC}", "list": ["b\n", 3], "n": None}) == {
        "name": "a\\x1b", "list": ["b\\n", 3], "n": None}


def test_terminal_safe_keeps_amtkits_own_lines_but_no_escape_sequence() -> None:
    assert terminal_safe(f"line one\nline {ESC}[1mtwo{RLO}") == "line one\nline \\x1b[1mtwo\\u202e"


def test_a_hostile_fault_text_is_escaped_in_the_message_and_kept_in_the_data(httpserver, wire) -> None:  # type: ignore[no-untyped-def]
    recorded = wire.http("Fault.InternalError.response.http")
    reason = "The service cannot comply with the request due to internal processing errors."
    hostile = XML_HOSTILE.replace("\r", "&#13;") + "x" * 2000
    body = recorded.body.replace(reason.encode(), hostile.encode())
    headers = [(k, v) for k, v in recorded.headers if k.lower() not in ("content-length", "transfer-encoding")]
    httpserver.expect_request("/wsman").respond_with_response(Response(body, status=500, headers=headers))
    with Client(httpserver.host, port=httpserver.port, password=None, retries=0, timeout=5.0) as client, \
            pytest.raises(exc.WSManFault) as caught:
        client.get("AMT_GeneralSettings")
    message = str(caught.value)
    assert not UNSAFE & set(message)
    assert "ok\\x9b2J\\nFAKE LINE\\r\\u202etxt.exe\\u2066" in message and "...(+" in message
    assert len(message) < 600
    assert caught.value.reason.startswith(XML_HOSTILE)  # the data is as received
    assert json.dumps(caught.value.to_dict()).isascii()


def test_the_connection_repr_does_not_show_the_password() -> None:
    from amtkit.cli.common import Connection

    connection = Connection(username="admin", port=16992, tls=None, timeout=5.0, as_json=False,
                            _password="S3cret-P@ss")
    assert "S3cret" not in repr(connection) and "S3cret" not in str(connection)


def test_defense_show_escapes_a_foreign_policy_name_in_text_and_json(amt_device) -> None:  # type: ignore[no-untyped-def]
    from amtsim.backends.defense import defense_of

    sim = defense_of(amt_device.device)
    name = f"x{CSI}2J{RLO}\ny"
    policy = sim.create_policy({"PolicyName": name, "PolicyPrecedence": 1, **{
        f"{side}Default{what}": False for side in ("Tx", "Rx") for what in ("Drop", "Count", "MatchEvent")}})
    sim.activate(0, policy.handle)
    env = {**os.environ, "AMT_PASSWORD": amt_device.password}
    command = [sys.executable, "-m", "amtkit.cli.main", "defense", "show", amt_device.host,
               "--port", str(amt_device.port)]
    text = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert text.returncode == 0, text.stderr
    assert not (UNSAFE - {"\n"}) & set(text.stdout)
    assert "x\\x9b2J\\u202e\\ny in force" in text.stdout
    as_json = subprocess.run([*command, "--json"], capture_output=True, text=True, env=env, timeout=60)
    assert as_json.stdout.isascii()
    assert json.loads(as_json.stdout)["active"]["name"] == name
