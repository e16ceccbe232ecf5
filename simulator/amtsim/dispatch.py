"""From an authenticated HTTP request to WS-Man reply bytes: the one place faults are rendered.

Order of checks, as on AMT: Identify is answered without credentials; everything else needs
digest authentication first (a request that fails it learns nothing about the body); then the
envelope is parsed and its headers checked against AMT's limits; then the class handler runs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from amtkit.codes import PTStatus
from amtkit.wsman import names
from amtkit.wsman import responses as wire
from amtkit.wsman.faults import FAULTS, KIND_BY_SUBCODE, FaultKind
from amtkit.wsman.requests import Request, RequestError, parse_request
from amtkit.wsman.responses import EnumItem
from amtkit.wsman.xmlsafe import XMLInputError, XMLSecurityError

from . import auditing, errors
from .device import SimulatedDevice
from .handlers import REGISTRY
from .handlers.base import epr_of

__all__ = ["Reply", "dispatch_wsman", "try_identify"]

#: Actions that may omit the ResourceURI: DSP0226 lets their enumeration context alone identify
#: the enumeration (and so its class).
_CONTEXT_ACTIONS = (names.Action.PULL, names.Action.RELEASE)


#: How long a request may wait for the device when it names no ``OperationTimeout`` (the 60 s
#: that Intel's libraries and MeshCommander send).
DEFAULT_WAIT_SECONDS = 60.0


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    close: bool = False
    retry_after: float | None = None
    """Set when the device makes the request wait (a power change behind another): call
    :func:`dispatch_wsman` again with the same body after this many seconds; nothing is sent yet."""
    action: str = ""
    """For request logs: the operation (``Get``, ``Pull``, a method name, ``Identify``)."""
    class_name: str = ""
    outcome: str = "ok"
    """For request logs: ``ok``, ``ReturnValue <n>``, or the fault subcode."""


def try_identify(body: bytes, device: SimulatedDevice) -> Reply | None:
    """Answer Identify (no credentials needed); None if the body is anything else."""
    if b"Identify" not in body:
        return None
    try:
        request = parse_request(body)
    except (RequestError, XMLInputError):
        return None
    if not request.is_identify:
        return None
    profiles = [names.DIGEST_SECURITY_PROFILE, names.HTTPS_DIGEST_SECURITY_PROFILE]
    text = wire.identify_response(f"AMT {device.config.major_minor}", profiles=profiles)
    return Reply(200, text)


def _fault(device: SimulatedDevice, relates_to: str, kind: FaultKind, detail: str = "") -> Reply:
    return Reply(kind.http_status, wire.fault_response(relates_to, device.next_message_id(), kind, detail), True,
                 outcome=kind.subcode)


def dispatch_wsman(device: SimulatedDevice, body: bytes, *, waited: float = 0.0) -> Reply:
    """Handle one authenticated WS-Man request. Never raises for bad input.

    ``waited`` is how long this request has already been held (see :attr:`Reply.retry_after`).
    """
    try:
        request = parse_request(body)
    except XMLSecurityError as error:
        return _fault(device, "", FAULTS.SCHEMA_VALIDATION_ERROR, str(error))
    except XMLInputError as error:
        return _fault(device, "", FAULTS.SCHEMA_VALIDATION_ERROR, str(error))
    except RequestError as error:
        return _fault(device, "", KIND_BY_SUBCODE.get(error.fault, FAULTS.SCHEMA_VALIDATION_ERROR), str(error))
    if request.is_identify:
        reply = try_identify(body, device)
        assert reply is not None
        return dataclasses.replace(reply, action="Identify", outcome="ok")
    reply = _answer(device, request, waited)
    return dataclasses.replace(reply, action=names.class_name_of(request.action or "?"),
                               class_name=names.class_name_of(request.resource_uri or ""))


def _answer(device: SimulatedDevice, request: Request, waited: float) -> Reply:
    try:
        _check_headers(request)
        reply = _dispatch(device, request)
        if reply.status == 200:
            auditing.observe(device, request, reply.outcome)  # what the change leaves in the audit log
        return reply
    except errors.Deferred as deferred:
        limit = request.operation_timeout or DEFAULT_WAIT_SECONDS
        if waited + deferred.seconds > limit:
            return _fault(device, request.message_id, FAULTS.TIMED_OUT,
                          f"the device stayed busy past the OperationTimeout of {limit:g} s")
        return Reply(0, b"", retry_after=deferred.seconds, outcome="waiting")
    except errors.SimFault as fault:
        return _fault(device, request.message_id, fault.kind, fault.detail)
    except RequestError as error:
        return _fault(device, request.message_id, KIND_BY_SUBCODE.get(error.fault, FAULTS.SCHEMA_VALIDATION_ERROR),
                      str(error))


def _check_headers(request: Request) -> None:
    if request.must_understand_unknown:
        raise errors.SimFault(FAULTS.MUST_UNDERSTAND, ", ".join(request.must_understand_unknown))
    if request.operation_timeout is not None and request.operation_timeout < names.MIN_OPERATION_TIMEOUT_SECONDS:
        raise errors.SimFault(FAULTS.UNSUPPORTED_FEATURE, "OperationTimeout")
    if request.max_envelope_size is not None and request.max_envelope_size < names.MIN_MAX_ENVELOPE_SIZE:
        raise errors.SimFault(FAULTS.ENCODING_LIMIT, "MinimumEnvelopeLimit")
    if request.resource_uri is None and request.action not in _CONTEXT_ACTIONS:
        raise errors.destination_unreachable("InvalidResourceURI")


def _addressed_class(device: SimulatedDevice, request: Request) -> str:
    """The class a request is for: its ResourceURI's, or for a Pull/Release without one the class
    its enumeration context was opened on."""
    if request.resource_uri is not None or request.action not in _CONTEXT_ACTIONS:
        return request.class_name
    state = device.take_enumeration(request.enumeration_context())
    if state is None:
        raise errors.SimFault(FAULTS.INVALID_ENUMERATION_CONTEXT)
    return names.class_name_of(state.resource_uri)


def _injected_failure(device: SimulatedDevice) -> bool:
    """Count down ``faults.fail_request_number``; true for the request it names (and, with
    ``fail_following``, every later one)."""
    faults = device.faults
    if faults.fail_request_number <= 0:
        return False
    if faults.fail_request_number == 1:
        if not faults.fail_following:
            faults.fail_request_number = 0
        return True
    faults.fail_request_number -= 1
    return False


def _dispatch(device: SimulatedDevice, request: Request) -> Reply:
    class_name = _addressed_class(device, request)
    handler = REGISTRY.get(class_name)
    if handler is None:
        raise errors.destination_unreachable("InvalidResourceURI")
    if class_name in device.faults.internal_error_classes or _injected_failure(device):
        raise errors.internal_error(1)
    if device.faults.busy:
        raise errors.internal_error(PTStatus.NOT_READY)  # a busy engine
    relates, mid, action = request.message_id, device.next_message_id(), request.action
    uri = names.resource_uri(handler.class_name)
    if action == names.Action.GET:
        return Reply(200, wire.get_response(relates, mid, handler.get(device, request.selectors), resource_uri=uri))
    if action == names.Action.PUT:
        stored = handler.put(device, request.selectors, request.body_instance())
        return Reply(200, wire.get_response(relates, mid, stored, action=names.Action.PUT))
    if action == names.Action.CREATE:
        return Reply(200, wire.create_response(relates, mid, handler.create(device, request.body_instance())))
    if action == names.Action.DELETE:
        handler.delete(device, request.selectors)
        return Reply(200, wire.delete_response(relates, mid, uri))
    if action == names.Action.ENUMERATE:
        return _enumerate(device, request, handler.instances(device), uri, mid)
    if action == names.Action.PULL:
        return _pull(device, request, uri, mid)
    if action == names.Action.RELEASE:
        device.enumerations.pop(request.enumeration_context(), None)
        return Reply(200, wire.release_response(relates, mid, uri))
    method = request.method
    if method is not None:
        return_value, outputs = handler.invoke(device, method, request.selectors, request.method_params())
        return Reply(200, wire.method_response(relates, mid, handler.class_name, method, return_value, outputs),
                     outcome=f"ReturnValue {return_value}")
    other = handler.actions.get(action)
    if other is not None:
        body, namespaces = getattr(handler, other)(device, request)
        return Reply(200, wire.action_response(relates, mid, uri, action, body, namespaces))
    raise errors.action_not_supported(action)


def _enumerate(device: SimulatedDevice, request: Request, instances: list, uri: str, mid: str) -> Reply:  # type: ignore[type-arg]
    options = request.enumerate_options()
    mode = options.mode
    if mode not in (None, names.ENUM_MODE_EPR, names.ENUM_MODE_OBJECT_AND_EPR):
        raise errors.SimFault(FAULTS.UNSUPPORTED_FEATURE, f"EnumerationMode {mode}")
    items = [EnumItem(instance=i, epr=epr_of(i) if mode else None) for i in instances]
    if options.optimize:
        first = items[: options.max_elements or 1]
        rest = items[len(first):]
        context = device.open_enumeration(uri, rest, mode) if rest else None
        return Reply(200, wire.enumerate_response(request.message_id, mid, uri, context, items=first, mode=mode))
    context = device.open_enumeration(uri, items, mode)
    return Reply(200, wire.enumerate_response(request.message_id, mid, uri, context))


def _pull(device: SimulatedDevice, request: Request, uri: str, mid: str) -> Reply:
    context = request.enumeration_context()
    state = device.take_enumeration(context)
    if state is None:
        raise errors.SimFault(FAULTS.INVALID_ENUMERATION_CONTEXT)
    count = request.pull_max_elements()
    page = state.items[state.position: state.position + count]
    state.position += len(page)
    done = state.position >= len(state.items)
    if done:
        device.enumerations.pop(context, None)
    return Reply(200, wire.pull_response(request.message_id, mid, state.resource_uri, page,
                                         None if done else context, mode=state.mode))
