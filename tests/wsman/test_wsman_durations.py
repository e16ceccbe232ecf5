"""xs:duration as WS-Man headers carry it (OperationTimeout): format and parse."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amtkit.wsman.requests import format_duration, parse_duration


@pytest.mark.parametrize(("seconds", "text"), [(60, "PT60S"), (30.0, "PT30S"), (1.5, "PT1.500S"),
                                               (0.25, "PT0.250S"), (0, "PT0S")])
def test_format_duration_writes_seconds_only(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(("text", "seconds"), [
    ("PT60S", 60), ("PT60.000S", 60), ("PT1.5S", 1.5), ("PT2M", 120), ("PT1H", 3600), ("P1D", 86400),
    ("P1DT2H3M4.5S", 86400 + 7200 + 180 + 4.5), (" PT30S ", 30), ("PT0S", 0),
])
def test_parse_duration_reads_days_hours_minutes_seconds(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "P", "PT", "60", "PT-5S", "P1Y", "P1M", "PT5", "T5S", "PT5S junk", "pt5s"])
def test_parse_duration_refuses_what_is_not_a_supported_duration(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=0, max_value=1e7, allow_nan=False, allow_infinity=False))
def test_format_then_parse_keeps_the_value_to_the_millisecond(seconds: float) -> None:
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds, abs=0.0005)
