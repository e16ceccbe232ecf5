"""``amtkit wsman``: generic WS-Management from the shell, like openwsman's ``wsman``, with amtkit's digest,
TLS, profiles, errors and ``--trace``.

::

    amtkit wsman get HOST AMT_GeneralSettings
    amtkit wsman enumerate HOST CIM_SoftwareIdentity --json
    amtkit wsman get HOST CIM_SoftwareIdentity -s InstanceID=AMT
    amtkit wsman put HOST AMT_GeneralSettings -k PingResponseEnabled=false
    amtkit wsman put HOST AMT_GeneralSettings -i settings.json
    amtkit wsman create HOST AMT_IPFilter -i filter.json
    amtkit wsman delete HOST AMT_IPFilter -s InstanceID="Intel(r) AMT:IP Filter 3"
    amtkit wsman invoke HOST CIM_PowerManagementService RequestPowerStateChange -i request.json

CLASS is a class name (``AMT_``, ``CIM_``, ``IPS_``) or a full resource URI. Input files are JSON: an
object of property (or method parameter) names to values, or a ``--json`` answer of ``get`` (its
``instance`` is taken), so ``get --json``, an edit and ``put -i`` round-trip. A reference is written
as ``{"resource_uri": ..., "selectors": {...}}``.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .common import (
    connection_options,
    emit,
    handle_errors,
    logged,
    make_connection,
    open_client,
    profile_options,
)
from .fleet import one_host_argument

if TYPE_CHECKING:
    from ..wsman.values import EndpointReference, Scalar, Selector, Value

__all__ = ["wsman_group"]

_ONE_HOST = "a generic WS-Man operation, answered in full"

F = TypeVar("F", bound=Callable[..., Any])


@click.group("wsman")
def wsman_group() -> None:
    """Generic WS-Management operations on any AMT class (get, enumerate, put, create, delete, invoke)."""


def _pairs(_ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{item!r}: write NAME=VALUE", param=param)
        pairs[name.strip()] = value
    return pairs


def _selector_option(command: F) -> F:
    return click.option("--selector", "-s", "selectors", multiple=True, callback=_pairs, metavar="NAME=VALUE",
                        help="Selector of the instance (repeatable), e.g. -s InstanceID=AMT.")(command)


def _property_option(what: str) -> Callable[[F], F]:
    return click.option("--set", "-k", "values", multiple=True, callback=_pairs, metavar="NAME=VALUE",
                        help=f"{what} (repeatable); text, as AMT's own XML carries it.")


def _input_option(what: str) -> Callable[[F], F]:
    return click.option("--input", "-i", "input_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
                        help=f"JSON file of {what} (or a `get --json` answer).")


# -- values between JSON and amtkit --------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """A WS-Man value as JSON: references as objects, datetimes in ISO 8601 UTC."""
    from ..wsman.values import EndpointReference

    if isinstance(value, EndpointReference):
        return {"resource_uri": value.resource_uri, "selectors": {k: jsonable(v) for k, v in value.selectors.items()},
                "address": value.address}
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [jsonable(item) for item in value]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def _from_json(value: Any, where: str) -> Value:
    from ..exceptions import UsageError
    from ..wsman.values import EndpointReference

    if isinstance(value, list):
        return [_scalar(item, where) for item in value]
    if isinstance(value, dict) and "resource_uri" in value:
        selectors = value.get("selectors") or {}
        if not isinstance(selectors, dict):
            raise UsageError(f"{where}: a reference's selectors are an object of NAME: VALUE")
        return EndpointReference(str(value["resource_uri"]), {str(k): str(v) for k, v in selectors.items()},
                                 **({"address": str(value["address"])} if value.get("address") else {}))
    return _scalar(value, where)


def _scalar(value: Any, where: str) -> Scalar:
    from ..exceptions import UsageError

    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, dict) and "resource_uri" in value:
        reference = _from_json(value, where)
        assert not isinstance(reference, list)
        return reference
    raise UsageError(f"{where}: {type(value).__name__} values are not WS-Man values (text, number, true/false, "
                     "a list of them, or a reference)")


def read_input(path: Path | None) -> dict[str, Value]:
    """The properties of an input file (a JSON object, or a ``get --json`` answer's ``instance``)."""
    from ..exceptions import UsageError

    if path is None:
        return {}
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise UsageError(f"{path}: not a readable JSON file ({error})") from error
    if isinstance(document, dict) and isinstance(document.get("instance"), dict):
        document = document["instance"]
    if not isinstance(document, dict):
        raise UsageError(f"{path}: want a JSON object of NAME: VALUE")
    return {str(name): _from_json(value, f"{path}: {name}") for name, value in document.items()}


def _lines(values: Mapping[str, Any], indent: str = "  ") -> str:
    out = []
    for name, value in values.items():
        shown = json.dumps(jsonable(value)) if isinstance(value, (list, dict)) or not isinstance(value, str) else value
        out.append(f"{indent}{name}: {shown}")
    return "\n".join(out)


def _selectors(pairs: Mapping[str, str]) -> dict[str, Selector]:
    return dict(pairs)


# -- commands --------------------------------------------------------------------------------------------


@wsman_group.command("get")
@one_host_argument(_ONE_HOST)
@click.argument("class_name", metavar="CLASS")
@_selector_option
@connection_options
@profile_options
@handle_errors
def get_command(host: str, class_name: str, selectors: dict[str, str], as_json: bool, profiles_file: str | None,
                profile_name: str | None, **options: Any) -> None:
    """Read one instance of CLASS (singletons need no selector)."""
    conn = make_connection(as_json=as_json, **options)
    with open_client(conn, host, profiles_file, profile_name) as client:
        instance = client.get(class_name, _selectors(selectors) or None)
    data = {"ok": True, "host": host, "class": instance.class_name, "instance": jsonable(instance.properties)}
    emit(data, as_json, lambda d: f"{d['class']} on {host}:\n{_lines(instance.properties)}")


@wsman_group.command("enumerate")
@one_host_argument(_ONE_HOST)
@click.argument("class_name", metavar="CLASS")
@click.option("--references", "references", is_flag=True, help="List the instances' references (EPRs) only.")
@connection_options
@profile_options
@handle_errors
def enumerate_command(host: str, class_name: str, references: bool, as_json: bool, profiles_file: str | None,
                      profile_name: str | None, **options: Any) -> None:
    """List every instance of CLASS (Enumerate and Pull until the end)."""
    conn = make_connection(as_json=as_json, **options)
    with open_client(conn, host, profiles_file, profile_name) as client:
        if references:
            eprs = client.enumerate_eprs(class_name)
            data = {"ok": True, "host": host, "class": class_name, "count": len(eprs),
                    "references": [jsonable(epr) for epr in eprs]}
            emit(data, as_json, lambda d: "\n".join(_epr_text(epr) for epr in eprs) + f"\n{len(eprs)} reference(s)")
            return
        instances = client.enumerate(class_name)
    data = {"ok": True, "host": host, "class": class_name, "count": len(instances),
            "instances": [jsonable(instance.properties) for instance in instances]}
    emit(data, as_json, lambda d: "\n\n".join(f"{i.class_name} #{n}:\n{_lines(i.properties)}"
                                              for n, i in enumerate(instances, 1)) + f"\n{len(instances)} instance(s)")


def _epr_text(epr: EndpointReference) -> str:
    selectors = ", ".join(f"{k}={v}" for k, v in epr.selectors.items())
    return f"{epr.class_name} [{selectors}]"


@wsman_group.command("put")
@one_host_argument(_ONE_HOST)
@click.argument("class_name", metavar="CLASS")
@_selector_option
@_input_option("the whole object")
@_property_option("Change this property of the current object")
@connection_options
@profile_options
@handle_errors
def put_command(host: str, class_name: str, selectors: dict[str, str], input_file: Path | None,
                values: dict[str, str], as_json: bool, profiles_file: str | None, profile_name: str | None,
                **options: Any) -> None:
    """Write an instance of CLASS back: the object from -i, or the current one with -k changes.

    AMT takes only whole objects, so with -k alone the current object is read first and sent back
    with the changes.
    """
    from ..exceptions import UsageError
    from ..wsman.values import CimInstance

    if input_file is None and not values:
        raise UsageError("nothing to put: give the object with -i FILE or changes with -k NAME=VALUE")
    conn = make_connection(as_json=as_json, **options)
    with logged(host, "wsman.put", {"class": class_name, "selectors": selectors, "changes": sorted(values)}), \
            open_client(conn, host, profiles_file, profile_name) as client:
        if input_file is None:
            properties = dict(client.get(class_name, _selectors(selectors) or None).properties)
        else:
            properties = read_input(input_file)
        properties.update(values)
        stored = client.put(CimInstance(class_name.rsplit("/", 1)[-1], properties), _selectors(selectors) or None)
    data = {"ok": True, "host": host, "class": stored.class_name, "instance": jsonable(stored.properties)}
    emit(data, as_json, lambda d: f"{d['class']} on {host} written:\n{_lines(stored.properties)}")


@wsman_group.command("create")
@one_host_argument(_ONE_HOST)
@click.argument("class_name", metavar="CLASS")
@_input_option("the new object's properties")
@_property_option("A property of the new object")
@connection_options
@profile_options
@handle_errors
def create_command(host: str, class_name: str, input_file: Path | None, values: dict[str, str], as_json: bool,
                   profiles_file: str | None, profile_name: str | None, **options: Any) -> None:
    """Create an instance of CLASS; prints the new instance's reference."""
    from ..exceptions import UsageError

    properties: dict[str, Value] = {**read_input(input_file), **values}
    if not properties:
        raise UsageError("nothing to create: give the properties with -i FILE or -k NAME=VALUE")
    conn = make_connection(as_json=as_json, **options)
    with logged(host, "wsman.create", {"class": class_name, "properties": sorted(properties)}), \
            open_client(conn, host, profiles_file, profile_name) as client:
        created = client.create(class_name, properties)
    emit({"ok": True, "host": host, "class": class_name, "created": jsonable(created)}, as_json,
         lambda d: f"created {_epr_text(created)}")


@wsman_group.command("delete")
@one_host_argument(_ONE_HOST)
@click.argument("class_name", metavar="CLASS")
@_selector_option
@connection_options
@profile_options
@handle_errors
def delete_command(host: str, class_name: str, selectors: dict[str, str], as_json: bool, profiles_file: str | None,
                   profile_name: str | None, **options: Any) -> None:
    """Delete the instance of CLASS the selectors name."""
    from ..exceptions import UsageError

    if not selectors:
        raise UsageError("say which instance to delete with -s NAME=VALUE (`amtkit wsman enumerate HOST CLASS "
                         "--references` lists them)")
    conn = make_connection(as_json=as_json, **options)
    with logged(host, "wsman.delete", {"class": class_name, "selectors": selectors}), \
            open_client(conn, host, profiles_file, profile_name) as client:
        client.delete(class_name, _selectors(selectors))
    emit({"ok": True, "host": host, "class": class_name, "deleted": selectors}, as_json,
         lambda d: f"deleted {class_name} [{', '.join(f'{k}={v}' for k, v in selectors.items())}]")


@wsman_group.command("invoke")
@one_host_argument(_ONE_HOST)
@click.argument("class_name", metavar="CLASS")
@click.argument("method")
@_selector_option
@_input_option("the method's input parameters")
@_property_option("An input parameter")
@connection_options
@profile_options
@handle_errors
def invoke_command(host: str, class_name: str, method: str, selectors: dict[str, str], input_file: Path | None,
                   values: dict[str, str], as_json: bool, profiles_file: str | None, profile_name: str | None,
                   **options: Any) -> None:
    """Call METHOD of CLASS; prints ReturnValue and the output parameters.

    A ReturnValue other than 0 is an error naming its meaning (exit 10, or 7 for not provisioned).
    """
    params: dict[str, Value] = {**read_input(input_file), **values}
    conn = make_connection(as_json=as_json, **options)
    with logged(host, "wsman.invoke", {"class": class_name, "method": method, "parameters": sorted(params)}), \
            open_client(conn, host, profiles_file, profile_name) as client:
        output = client.invoke(class_name, method, params or None, _selectors(selectors) or None)
    data = {"ok": True, "host": host, "class": class_name, "method": method, "return_value": output.return_value,
            "outputs": jsonable(output.outputs)}
    emit(data, as_json, lambda d: f"{class_name}.{method} on {host}: ReturnValue 0"
         + (f"\n{_lines(output.outputs)}" if output.outputs else ""))
