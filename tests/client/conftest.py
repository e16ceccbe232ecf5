"""The client suite runs once per WS-Man transport: the built-in one and the requests one."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["builtin", "requests"])
def client_transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)
