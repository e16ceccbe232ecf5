"""Alert subscriptions: WS-Eventing as AMT does it (``client.events.subscribe`` and friends).

::

    with amtkit.Client("10.0.0.5", password="...") as amt:
        sub = amt.events.subscribe("http://manager:16990/events", device="10.0.0.5",
                                   credentials=("amt", "secret"))
        print(amt.events.subscriptions())
        amt.events.unsubscribe(sub)

The wire (Intel AMT SDK "Subscribe for Events", MeshCommander): ``Subscribe`` is sent to a
``CIM_FilterCollection`` addressed by its InstanceID (:class:`AlertFilter`: all events, or a category),
with the delivery mode (push, or push with acknowledgement), the listener URL in ``NotifyTo``, reference
parameters AMT copies into every alert (amtkit sends who the device is, so the manager files alerts by
device whatever address they come from), and, for a listener that wants credentials, a WS-Trust
``IssuedTokens`` header with a user name token plus ``Auth Profile`` (digest or basic). AMT keeps a
``CIM_ListenerDestinationWSManagement`` and a ``CIM_FilterCollectionSubscription`` {Filter, Handler};
``Unsubscribe`` and ``Renew`` address the subscription by those two references. Listing enumerates
both classes and joins them by the handler's Name (MeshCommander pairs them by position).

AMT keeps a subscription until it is removed; none of Intel's documents shows ``Expires`` or
``Renew``. amtkit sends ``Expires`` only when asked (``expires=``) and :meth:`Subscriptions.renew`
falls back to subscribing again when the device refuses ``Renew``.
"""

from __future__ import annotations

import datetime as _dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import exceptions as exc
from ..wsman import names
from ..wsman import requests as wsreq
from ..wsman.values import CimInstance, EndpointReference, Selector
from ..wsman.xmlsafe import escape
from ..wsman.xmlwrite import epr_xml
from .alerts import REFERENCE_NAMESPACE

if TYPE_CHECKING:
    from ..client import Client
    from ..wsman.responses import Response

__all__ = ["AlertFilter", "DeliveryMode", "Subscription", "Subscriptions", "build_renew", "build_subscribe",
           "build_unsubscribe", "subscription_selectors"]

MAX_URL_LENGTH = 253
"""Longer NotifyTo URLs are ignored by AMT (Intel AMT SDK)."""
MAX_REFERENCE_LENGTH = 256
"""Reference parameters, tags included, AMT keeps at most (Intel AMT SDK)."""
MAX_PASSWORD_LENGTH = 32


class AlertFilter(str, enum.Enum):
    """``CIM_FilterCollection`` InstanceIDs: which alerts a subscription gets."""

    ALL = "Intel(r) AMT:All"
    FEATURES = "Intel(r) AMT:Features"
    """AMT feature events (System Defense, redirection, provisioning...)."""

    @classmethod
    def named(cls, text: str) -> str:
        """``all``, ``features``, or a full InstanceID (``Intel(r) AMT:...``) as it is."""
        lowered = text.strip().lower()
        for member in cls:
            if lowered in (member.name.lower(), member.value.lower()):
                return member.value
        if text.startswith(names.ALERT_FILTER_PREFIX):
            return text
        raise ValueError(f"unknown alert filter {text!r} (all, features, or an InstanceID starting with "
                         f"{names.ALERT_FILTER_PREFIX!r})")


class DeliveryMode(enum.IntEnum):
    """``CIM_ListenerDestinationWSManagement.DeliveryMode``."""

    PUSH = 2
    PUSH_WITH_ACK = 3

    @property
    def uri(self) -> str:
        return names.DELIVERY_PUSH if self is DeliveryMode.PUSH else names.DELIVERY_PUSH_WITH_ACK

    @classmethod
    def from_uri(cls, uri: str) -> DeliveryMode:
        return cls.PUSH_WITH_ACK if uri.strip() == names.DELIVERY_PUSH_WITH_ACK else cls.PUSH


@dataclass(frozen=True)
class Subscription:
    """One subscriber a device holds."""

    filter: str
    """The ``CIM_FilterCollection`` InstanceID."""
    handler: str
    """The Name of the listener AMT made for it (its key, with the filter)."""
    destination: str = ""
    mode: DeliveryMode = DeliveryMode.PUSH
    expires: _dt.datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"filter": self.filter, "destination": self.destination, "mode": self.mode.name.lower(),
                "handler": self.handler, "expires": self.expires.isoformat() if self.expires else None}


def filter_epr(filter_id: str) -> EndpointReference:
    return EndpointReference(names.resource_uri(names.Cls.CIM_FilterCollection), {"InstanceID": filter_id})


def handler_epr(handler: str) -> EndpointReference:
    return EndpointReference(names.resource_uri(names.Cls.CIM_ListenerDestinationWSManagement), {
        "CreationClassName": names.LISTENER_CREATION_CLASS, "Name": handler,
        **names.AMT_SYSTEM_SELECTORS})


def subscription_selectors(filter_id: str, handler: str) -> dict[str, Selector]:
    """How Unsubscribe and Renew address a subscription: its Filter and Handler references."""
    return {"Filter": filter_epr(filter_id), "Handler": handler_epr(handler)}


def _issued_tokens(username: str, password: str) -> str:
    return (
        f'<t:IssuedTokens xmlns:t="{names.TRUST}" xmlns:se="{names.WSSE}" s:mustUnderstand="true">'
        f"<t:RequestSecurityTokenResponse><t:TokenType>{names.USERNAME_TOKEN_TYPE}</t:TokenType>"
        f"<t:RequestedSecurityToken><se:UsernameToken><se:Username>{escape(username)}</se:Username>"
        f'<se:Password Type="{names.PASSWORD_TEXT_TYPE}">{escape(password)}</se:Password></se:UsernameToken>'
        "</t:RequestedSecurityToken></t:RequestSecurityTokenResponse></t:IssuedTokens>"
    )


def build_subscribe(filter_id: str, url: str, *, mode: DeliveryMode = DeliveryMode.PUSH,
                    reference: Mapping[str, str] | None = None, credentials: tuple[str, str] | None = None,
                    auth_profile: str | None = None, expires: float | None = None, **kw: Any) -> bytes:
    """The Subscribe request (checked against AMT's limits: URL length, reference size, password length)."""
    if not url.startswith(("http://", "https://")) or len(url) > MAX_URL_LENGTH:
        raise ValueError(f"the listener URL must be http:// or https:// and at most {MAX_URL_LENGTH} characters")
    refs = "".join(f'<r:{name} xmlns:r="{REFERENCE_NAMESPACE}">{escape(value)}</r:{name}>'
                   for name, value in (reference or {}).items())
    if len(refs) > MAX_REFERENCE_LENGTH:
        raise ValueError(f"reference parameters are {len(refs)} characters; AMT keeps at most {MAX_REFERENCE_LENGTH}")
    extra, auth = "", ""
    if credentials is not None:
        user, password = credentials
        if not user or len(password) > MAX_PASSWORD_LENGTH:
            raise ValueError(f"listener credentials need a user and a password of at most {MAX_PASSWORD_LENGTH}")
        extra = _issued_tokens(user, password)
        profile = auth_profile or names.DIGEST_SECURITY_PROFILE
        auth = f'<w:Auth Profile="{escape(profile)}"></w:Auth>'
    ref_xml = f"<a:ReferenceParameters>{refs}</a:ReferenceParameters>" if refs else ""
    expires_xml = f"<e:Expires>{wsreq.format_duration(expires)}</e:Expires>" if expires else ""
    body = (f'<e:Subscribe xmlns:e="{names.WSEVT}"><e:Delivery Mode="{mode.uri}"><e:NotifyTo>'
            f"<a:Address>{escape(url)}</a:Address>{ref_xml}</e:NotifyTo>{auth}</e:Delivery>{expires_xml}"
            "</e:Subscribe>")
    return wsreq.build_request(names.Action.SUBSCRIBE, names.resource_uri(names.Cls.CIM_FilterCollection), body,
                               selectors={"InstanceID": filter_id}, extra_headers=extra, **kw)


def build_unsubscribe(filter_id: str, handler: str, **kw: Any) -> bytes:
    return wsreq.build_request(names.Action.UNSUBSCRIBE,
                               names.resource_uri(names.Cls.CIM_FilterCollectionSubscription),
                               f'<e:Unsubscribe xmlns:e="{names.WSEVT}"></e:Unsubscribe>',
                               selectors=subscription_selectors(filter_id, handler), **kw)


def build_renew(filter_id: str, handler: str, expires: float, **kw: Any) -> bytes:
    body = (f'<e:Renew xmlns:e="{names.WSEVT}"><e:Expires>{wsreq.format_duration(expires)}</e:Expires>'
            "</e:Renew>")
    return wsreq.build_request(names.Action.RENEW, names.resource_uri(names.Cls.CIM_FilterCollectionSubscription),
                               body, selectors=subscription_selectors(filter_id, handler), **kw)


def subscribe_response_xml(filter_id: str, handler: str, expires: float | None) -> str:
    """The SubscribeResponse body a device answers with (DSP0226 10.2.2; AMT's is not recorded)."""
    manager = EndpointReference(names.resource_uri(names.Cls.CIM_FilterCollectionSubscription),
                                subscription_selectors(filter_id, handler))
    expires_xml = f"<g:Expires>{wsreq.format_duration(expires)}</g:Expires>" if expires else ""
    return (f"<g:SubscribeResponse><g:SubscriptionManager>{epr_xml(manager, 'b', 'c')}</g:SubscriptionManager>"
            f"{expires_xml}</g:SubscribeResponse>")


def _handler_of(response: Response) -> str | None:
    """The listener Name in a SubscribeResponse's SubscriptionManager, if the device sent one."""
    from ..wsman.values import parse_epr

    payload = response.payload
    if payload is None:
        return None
    for child in payload:
        if str(child.tag).endswith("SubscriptionManager"):
            handler = parse_epr(child).selectors.get("Handler")
            if isinstance(handler, EndpointReference):
                name = handler.selectors.get("Name")
                return name if isinstance(name, str) else None
    return None


class Subscriptions:
    """The subscription half of ``client.events``."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def subscribe(self, url: str, *, alert_filter: AlertFilter | str = AlertFilter.ALL,
                  mode: DeliveryMode = DeliveryMode.PUSH, device: str | None = None,
                  credentials: tuple[str, str] | None = None, auth: str = "digest",
                  expires: float | None = None) -> Subscription:
        """Subscribe listener ``url`` to the device's alerts.

        ``device``: the name alerts are filed under on the manager (default: the host this client talks
        to), sent as a reference parameter. ``credentials``: the user and password the listener asks the
        device for (``auth``: ``digest`` or ``basic``). ``expires``: seconds (AMT keeps it until removed
        otherwise).
        """
        client = self._client
        try:
            filter_id = AlertFilter.named(alert_filter.value if isinstance(alert_filter, AlertFilter) else alert_filter)
        except ValueError as error:
            raise exc.UsageError(str(error), host=client.host) from error
        https = url.startswith("https://")
        profile = {("digest", False): names.DIGEST_SECURITY_PROFILE,
                   ("digest", True): names.HTTPS_DIGEST_SECURITY_PROFILE,
                   ("basic", False): names.HTTP_BASIC_SECURITY_PROFILE,
                   ("basic", True): names.HTTPS_BASIC_SECURITY_PROFILE}.get((auth, https))
        if profile is None:
            raise exc.UsageError(f"listener authentication is digest or basic, not {auth!r}", host=client.host)
        try:
            body = build_subscribe(filter_id, url, mode=mode, reference={"Device": device or client.host},
                                   credentials=credentials, auth_profile=profile, expires=expires,
                                   operation_timeout=client.operation_timeout)
        except ValueError as error:
            raise exc.UsageError(str(error), host=client.host) from error
        uri = names.resource_uri(names.Cls.CIM_FilterCollection)
        response = client._call(body, idempotent=False, resource_uri=uri, action=names.Action.SUBSCRIBE)
        handler = _handler_of(response)
        for existing in self.subscriptions():
            if existing.filter == filter_id and (existing.handler == handler or
                                                 (handler is None and existing.destination == url)):
                return existing
        raise exc.RemoteProtocolError("the device accepted the subscription but does not list it",
                                      host=client.host)

    def subscriptions(self) -> list[Subscription]:
        """Every subscriber the device holds, with its listener URL and delivery mode."""
        client = self._client
        listeners: dict[str, CimInstance] = {}
        for listener in client.enumerate(names.Cls.CIM_ListenerDestinationWSManagement):
            listeners[str(listener.get("Name", ""))] = listener
        found = []
        for item in client.enumerate(names.Cls.CIM_FilterCollectionSubscription):
            filter_ref, handler_ref = item.get("Filter"), item.get("Handler")
            if not isinstance(filter_ref, EndpointReference) or not isinstance(handler_ref, EndpointReference):
                continue
            handler = str(handler_ref.selectors.get("Name", ""))
            destination = listeners.get(handler)
            expires = item.get("SubscriptionTimeRemaining")
            found.append(Subscription(
                filter=str(filter_ref.selectors.get("InstanceID", "")), handler=handler,
                destination=str(destination.get("Destination", "")) if destination else "",
                mode=DeliveryMode.PUSH_WITH_ACK if destination is not None and str(destination.get("DeliveryMode")) == "3"
                else DeliveryMode.PUSH,
                expires=_expiry(expires)))
        return found

    def unsubscribe(self, subscription: Subscription) -> None:
        client = self._client
        client._call(build_unsubscribe(subscription.filter, subscription.handler,
                                       operation_timeout=client.operation_timeout), idempotent=False,
                     resource_uri=names.resource_uri(names.Cls.CIM_FilterCollectionSubscription),
                     action=names.Action.UNSUBSCRIBE)

    def unsubscribe_url(self, url: str) -> list[Subscription]:
        """Remove every subscription of listener ``url``; the ones removed."""
        removed = [s for s in self.subscriptions() if s.destination == url]
        for subscription in removed:
            self.unsubscribe(subscription)
        return removed

    def renew(self, subscription: Subscription, expires: float) -> Subscription:
        """Give a subscription ``expires`` more seconds (WS-Eventing Renew)."""
        client = self._client
        client._call(build_renew(subscription.filter, subscription.handler, expires,
                                 operation_timeout=client.operation_timeout), idempotent=False,
                     resource_uri=names.resource_uri(names.Cls.CIM_FilterCollectionSubscription),
                     action=names.Action.RENEW)
        for current in self.subscriptions():
            if (current.filter, current.handler) == (subscription.filter, subscription.handler):
                return current
        raise exc.RemoteProtocolError("the renewed subscription is gone", host=client.host)


def _expiry(remaining: object) -> _dt.datetime | None:
    if remaining in (None, ""):
        return None
    try:
        seconds = int(str(remaining))
    except ValueError:
        return None
    return _dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(seconds=seconds)
