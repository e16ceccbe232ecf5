"""Small helpers the service handlers share: reading method parameters, service instances."""

from __future__ import annotations

from amtkit.codes import EnabledState, RequestedState
from amtkit.wsman import names
from amtkit.wsman.values import Value

MethodOutput = tuple[int, dict[str, Value]]


def text_param(params: dict[str, Value], name: str) -> str:
    value = params.get(name)
    return "" if value is None or isinstance(value, list) else str(value)


def int_param(params: dict[str, Value], name: str) -> int | None:
    try:
        return int(text_param(params, name))
    except ValueError:
        return None


def int_list_param(params: dict[str, Value], name: str) -> list[int] | None:
    value = params.get(name)
    items = value if isinstance(value, list) else ([] if value is None else [value])
    try:
        return [int(str(item)) for item in items]
    except ValueError:
        return None


def amt_service(class_name: str, name: str, *, element_name: str | None = None,
                system: dict[str, str] | None = None, **extra: Value) -> dict[str, Value]:
    """The properties of one of AMT's fixed services: keys, names, and the "not applicable" states."""
    return {
        "CreationClassName": class_name, "ElementName": element_name or name,
        "EnabledState": int(EnabledState.NOT_APPLICABLE), "Name": name,
        "RequestedState": int(RequestedState.NOT_APPLICABLE), **(system or names.AMT_SYSTEM_SELECTORS), **extra,
    }


SERVICE_KEYS = ("CreationClassName", "Name", "SystemCreationClassName", "SystemName")
