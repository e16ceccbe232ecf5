"""The control plane over HTTP/JSON: what :class:`~amtsim.control.DeviceControl` offers, for test suites
in any language.

Off unless asked for (``amtkit-sim run --control-port``); it listens on loopback only and every request
must carry ``Authorization: Bearer <token>`` (the token is its own, not a device password). Routes
(``NAME`` is a device name from ``GET /devices``)::

    GET    /devices                          every device: name, address, ports, version
    GET    /devices/NAME                     its state: power, provisioning, faults, stats, redirection
    PUT    /devices/NAME/power               {"state": "off"}      power state at once (no transition)
    GET    /devices/NAME/power/history       the power changes consoles requested
    PUT    /devices/NAME/provisioning        {"state": "pre", "mode": "acm"}
    PUT    /devices/NAME/password            {"password": "...", "user": "admin"}
    POST   /devices/NAME/faults              {"power_state_unknown": true, "response_delay": 2}
    DELETE /devices/NAME/faults              clear every fault
    POST   /devices/NAME/traffic             {"direction": "receive", "protocol": 6, "dst_port": 22, ...}
    GET    /devices/NAME/events              System Defense events (matches, activations, timeouts)
    GET    /devices/NAME/counters?port=0     System Defense counters of a port's active policy
    GET    /devices/NAME/boots               every boot of the host; /boots/last the latest
    POST   /devices/NAME/boots/wait          {"number": 1, "timeout": 30}  wait for boot N, then return it
    PUT    /devices/NAME/redirection         {"ider": true, "sol": false, "listener": true}
    GET    /devices/NAME/consent             the user-consent code on the host's screen
    GET    /devices/NAME/event-log           the event log (AMT_MessageLog), newest first, each record in words
    POST   /devices/NAME/event-log           {"count": 3}  log test events (alerted to subscribers too)
    GET    /devices/NAME/audit-log           the audit log (AMT_AuditLog), oldest first: who did what, from where
    POST   /devices/NAME/console             {"text": "..."}  the host prints it on its serial port (SOL)

Answers are JSON; errors are ``{"error": "..."}`` with 400 (bad input), 401 (token), 404 (no such device
or route) or 409/504 (a wait that failed). Built on the standard library's threading HTTP server:
each request runs in its own thread and goes through the device lock like any DeviceControl call.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import hmac
import ipaddress
import json
import re
import secrets
import threading
from collections.abc import Callable, Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from amtkit.codes import ControlMode, PowerState, ProvisioningState
from amtkit.defense.model import FilterDirection
from amtkit.events.audit import AuditRecord
from amtkit.events.records import EventRecord

from .control import DeviceControl
from .device import SimulatedDevice

__all__ = ["ControlServer", "new_token"]

MAX_BODY = 64 * 1024
LOOPBACK = "127.0.0.1"


class ControlError(Exception):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


def new_token() -> str:
    return secrets.token_urlsafe(24)


def to_json(value: Any) -> Any:
    """Dataclasses, enums (by lower-case name), addresses and datetimes as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.name.lower()
    if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return str(value)
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return value


def _enum(kind: type[enum.Enum], text: object, aliases: dict[str, enum.Enum] | None = None) -> Any:
    key = str(text).strip().lower().replace("-", "_")
    if aliases and key in aliases:
        return aliases[key]
    for member in kind:
        if member.name.lower() == key:
            return member
    choices = sorted({*(m.name.lower() for m in kind), *(aliases or {})})
    raise ControlError(HTTPStatus.BAD_REQUEST, f"{text!r} is not one of {', '.join(choices)}")


_POWER_ALIASES: dict[str, enum.Enum] = {"off": PowerState.OFF_SOFT, "sleep": PowerState.SLEEP_DEEP,
                                        "hibernate": PowerState.HIBERNATE}
_PROVISIONING_ALIASES: dict[str, enum.Enum] = {"pre": ProvisioningState.PRE, "in": ProvisioningState.IN,
                                               "post": ProvisioningState.POST}
_MODE_ALIASES: dict[str, enum.Enum] = {"acm": ControlMode.ADMIN, "ccm": ControlMode.CLIENT}


def _address(text: object) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if text is None:
        return None
    try:
        return ipaddress.ip_address(str(text))
    except ValueError:
        raise ControlError(HTTPStatus.BAD_REQUEST, f"{text!r} is not an IP address") from None


def _optional_int(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ControlError(HTTPStatus.BAD_REQUEST, f"{key}: a number, not {value!r}")
    return value


Route = Callable[[DeviceControl, dict[str, Any], dict[str, list[str]]], Any]


def _describe(control: DeviceControl) -> dict[str, Any]:
    device = control.device
    with device.lock:
        config = device.config
        return {
            "name": device.name, "address": device.address, "version": config.amt_version,
            "ports": {"http": config.http_port, "tls": config.tls_port, "redirection": config.redirection_port,
                      "redirection_tls": config.redirection_tls_port, "rmcp": config.rmcp_port},
        }


def _state(control: DeviceControl, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
    device = control.device
    with device.lock:
        return {
            **_describe(control), "power": to_json(device.power.reported_state),
            "provisioning": to_json(device.general.provisioning_state),
            "control_mode": to_json(device.general.control_mode),
            "faults": to_json(device.faults), "stats": control.stats(),
            "redirection": control.redirection_stats(),
        }


def _set_power(control: DeviceControl, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
    control.set_power_state(_enum(PowerState, body.get("state"), _POWER_ALIASES))
    return {"power": to_json(control.power_state)}


def _set_provisioning(control: DeviceControl, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
    mode = body.get("mode")
    control.set_provisioning(_enum(ProvisioningState, body.get("state"), _PROVISIONING_ALIASES),
                             None if mode is None else _enum(ControlMode, mode, _MODE_ALIASES))
    return {"ok": True}


def _set_password(control: DeviceControl, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
    password = body.get("password")
    if not isinstance(password, str) or not password:
        raise ControlError(HTTPStatus.BAD_REQUEST, "password: a non-empty string")
    control.set_password(password, body.get("user"))
    return {"ok": True}


def _inject(control: DeviceControl, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
    try:
        control.inject(**body)
    except AttributeError as error:
        raise ControlError(HTTPStatus.BAD_REQUEST, str(error)) from None
    return {"faults": to_json(control.device.faults)}


def _clear(control: DeviceControl, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
    control.clear_faults()
    return {"faults": to_json(control.device.faults)}


def _traffic(control: DeviceControl, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
    protocol = _optional_int(body, "protocol")
    if protocol is None:
        raise ControlError(HTTPStatus.BAD_REQUEST, "protocol: the IP protocol number (6 TCP, 17 UDP, 1 ICMP)")
    direction = _enum(FilterDirection, body.get("direction", "receive"),
                      {"inbound": FilterDirection.RECEIVE, "outbound": FilterDirection.TRANSMIT})
    result = control.offer_flow(direction, protocol, src=_address(body.get("src")), dst=_address(body.get("dst")),
                                src_port=_optional_int(body, "src_port"), dst_port=_optional_int(body, "dst_port"),
                                packets=_optional_int(body, "packets") or 1, port=_optional_int(body, "port") or 0)
    return {"packets": result.packets, "passed": result.passed, "dropped": result.dropped,
            "verdict": to_json(result.verdict)}


def _counters(control: DeviceControl, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
    try:
        port = int(query.get("port", ["0"])[0])
    except ValueError:
        raise ControlError(HTTPStatus.BAD_REQUEST, "port: a number") from None
    return to_json(control.counters(port))


def _wait_boot(control: DeviceControl, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
    number = _optional_int(body, "number") or 1
    timeout = body.get("timeout", 30)
    if not isinstance(timeout, (int, float)) or not 0 <= timeout <= 600:
        raise ControlError(HTTPStatus.BAD_REQUEST, "timeout: seconds, 0-600")
    try:
        return to_json(control.wait_for_boot(number, float(timeout)))
    except TimeoutError as error:
        raise ControlError(HTTPStatus.GATEWAY_TIMEOUT, str(error)) from None


def _log_rows(records: Sequence[EventRecord | AuditRecord]) -> list[dict[str, Any]]:
    """Each record's fields, with its time and what it means in words (as ``amtkit events log`` shows it)."""
    return [{**to_json(record), "time": to_json(record.time), "description": record.description}
            for record in records]


def _raise_events(control: DeviceControl, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
    count = _optional_int(body, "count")
    if count is None:
        count = 1
    if not 1 <= count <= 1000:
        raise ControlError(HTTPStatus.BAD_REQUEST, "count: 1-1000 events")
    control.raise_events(count)
    return {"records": len(control.event_log())}


def _print_on_host(control: DeviceControl, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
    text = body.get("text")
    if not isinstance(text, str) or not text:
        raise ControlError(HTTPStatus.BAD_REQUEST, "text: a non-empty string")
    control.print_on_host(text)
    return {"ok": True}


def _redirection(control: DeviceControl, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
    switches = {key: body.get(key) for key in ("ider", "sol", "listener")}
    if any(value is not None and not isinstance(value, bool) for value in switches.values()):
        raise ControlError(HTTPStatus.BAD_REQUEST, "ider, sol, listener: true or false")
    control.set_redirection(**switches)
    return control.redirection_stats()


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", ""): _state,
    ("PUT", "power"): _set_power,
    ("GET", "power/history"): lambda c, b, q: to_json(c.power_history()),
    ("PUT", "provisioning"): _set_provisioning,
    ("PUT", "password"): _set_password,
    ("POST", "faults"): _inject,
    ("DELETE", "faults"): _clear,
    ("POST", "traffic"): _traffic,
    ("GET", "events"): lambda c, b, q: to_json(c.defense_events()),
    ("GET", "counters"): _counters,
    ("GET", "boots"): lambda c, b, q: to_json(c.boot_results()),
    ("GET", "boots/last"): lambda c, b, q: to_json(c.last_boot()),
    ("POST", "boots/wait"): _wait_boot,
    ("PUT", "redirection"): _redirection,
    ("GET", "consent"): lambda c, b, q: {"code": c.consent_code()},
    ("GET", "event-log"): lambda c, b, q: _log_rows(c.event_log()),
    ("POST", "event-log"): _raise_events,
    ("GET", "audit-log"): lambda c, b, q: _log_rows(c.audit_log()),
    ("POST", "console"): _print_on_host,
}
_DEVICE_PATH = re.compile(r"^/devices/([^/]+)(?:/(.*))?$")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # requests are the test suite's business; amtkit-sim -v logs the WS-Man side

    def _reply(self, status: HTTPStatus, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict[str, Any]:
        length_text = self.headers.get("Content-Length", "0")
        if not length_text.isdigit() or int(length_text) > MAX_BODY:
            raise ControlError(HTTPStatus.BAD_REQUEST, f"a JSON body of at most {MAX_BODY} bytes")
        raw = self.rfile.read(int(length_text)) if int(length_text) else b"{}"
        try:
            body = json.loads(raw or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise ControlError(HTTPStatus.BAD_REQUEST, "the body is not JSON") from None
        if not isinstance(body, dict):
            raise ControlError(HTTPStatus.BAD_REQUEST, "the body must be a JSON object")
        return body

    def _handle(self) -> None:
        try:
            expected = f"Bearer {self.server.token}"
            if not hmac.compare_digest(self.headers.get("Authorization", "").encode(), expected.encode()):
                raise ControlError(HTTPStatus.UNAUTHORIZED, "send Authorization: Bearer <control token>")
            url = urlsplit(self.path)
            body = self._body()
            if url.path.rstrip("/") == "/devices" and self.command == "GET":
                self._reply(HTTPStatus.OK, [_describe(DeviceControl(d)) for d in self.server.devices()])
                return
            match = _DEVICE_PATH.match(url.path.rstrip("/"))
            route = ROUTES.get((self.command, (match.group(2) or "") if match else "?"))
            if match is None or route is None:
                raise ControlError(HTTPStatus.NOT_FOUND, f"no route {self.command} {url.path}")
            device = self.server.device(match.group(1))
            self._reply(HTTPStatus.OK, route(DeviceControl(device), body, parse_qs(url.query)))
        except ControlError as error:
            self._reply(error.status, {"error": str(error)})
        except (TypeError, ValueError) as error:
            self._reply(HTTPStatus.BAD_REQUEST, {"error": str(error)})

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, token: str, devices: Callable[[], list[SimulatedDevice]]) -> None:
        super().__init__((LOOPBACK, port), _Handler)
        self.token = token
        self.devices = devices

    def device(self, name: str) -> SimulatedDevice:
        for device in self.devices():
            if device.name == name:
                return device
        raise ControlError(HTTPStatus.NOT_FOUND, f"no device named {name!r}")


class ControlServer:
    """The control endpoint of a simulator's devices, on ``127.0.0.1:port`` (0: any free port)."""

    def __init__(self, devices: Callable[[], list[SimulatedDevice]], *, port: int = 0,
                 token: str | None = None) -> None:
        self.token = token or new_token()
        self._server = _Server(port, self.token, devices)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="amtsim-control", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> ControlServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> ControlServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
