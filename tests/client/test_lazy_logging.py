"""amtkit's loggers come from :mod:`logging` only when used, and behave as plain named loggers then."""

from __future__ import annotations

import logging

import pytest

from amtkit.lazylog import LazyLogger


def test_a_lazy_logger_is_the_named_logger_once_used() -> None:
    assert LazyLogger("amtkit.spine.example").logger is logging.getLogger("amtkit.spine.example")


def test_amtkit_has_its_null_handler_before_its_first_record(caplog: pytest.LogCaptureFixture) -> None:
    log = LazyLogger("amtkit.spine.first")
    with caplog.at_level(logging.DEBUG, logger="amtkit"):
        log.debug("first %s", "record")
    assert any(isinstance(h, logging.NullHandler) for h in logging.getLogger("amtkit").handlers)
    assert [r.getMessage() for r in caplog.records if r.name == "amtkit.spine.first"] == ["first record"]


def test_debug_is_enabled_exactly_when_the_amtkit_logger_says_so() -> None:
    log = LazyLogger("amtkit.spine.level")
    root = logging.getLogger("amtkit")
    old = root.level
    try:
        root.setLevel(logging.DEBUG)
        assert log.debug_enabled()
        root.setLevel(logging.INFO)
        assert not log.debug_enabled()
    finally:
        root.setLevel(old)
