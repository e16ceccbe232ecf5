"""Certificates, keys and TLS settings: what MeshCentral's TLS sync and Intel's consoles read and add.

``AMT_PublicKeyManagementService`` adds trusted roots and certificates (``AddTrustedRootCertificate``,
``AddCertificate``: base64 DER; a certificate already stored answers DUPLICATE, one that does not parse
INVALID_CERT) and generates RSA key pairs (``GenerateKeyPair``); they show as ``AMT_PublicKeyCertificate``
(``Intel(r) AMT Certificate: Handle: N``) and ``AMT_PublicPrivateKeyPair`` (``Intel(r) AMT Key: Handle:
N``), and go away with a WS-Transfer Delete. ``AMT_TLSSettingData`` has AMT's two TLS settings, the
network's and the local (LMS) one; a Put stores what a console sets but does not move the simulator's
listeners (its ports are chosen at start). A new device has no certificates, keys or TLS credential.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from amtkit.codes import PTStatus
from amtkit.wsman import schema
from amtkit.wsman.names import Cls
from amtkit.wsman.values import CimInstance, Selector, Value

from ..backends.objects import objects_of
from .base import ClassHandler, StoredClass, register
from .common import SERVICE_KEYS, MethodOutput, amt_service, int_param, text_param

if TYPE_CHECKING:
    from ..device import SimulatedDevice

SERVICE_NAME = "Intel(r) AMT Public Key Management Service"
CERTIFICATE_ID = "Intel(r) AMT Certificate: Handle: {}"
KEY_ID = "Intel(r) AMT Key: Handle: {}"
KEY_ALGORITHM_RSA = 0
RSA_KEY_LENGTHS = (2048, 3072)
NETWORK_TLS = "Intel(r) AMT 802.3 TLS Settings"
LOCAL_TLS = "Intel(r) AMT LMS TLS Settings"

CERTIFICATES = StoredClass(Cls.AMT_PublicKeyCertificate, keys=("InstanceID",),
                           types={"TrustedRootCertficate": "bool"})
KEYS = StoredClass(Cls.AMT_PublicPrivateKeyPair, keys=("InstanceID",))


def _distinguished_name(name: x509.Name) -> str:
    """As AMT writes it: the relative names in certificate order, ``C=..,O=..,CN=..``."""
    return ",".join(rdn.rfc4514_string() for rdn in name.rdns)


class PublicKeyManagementService(ClassHandler):
    class_name = Cls.AMT_PublicKeyManagementService
    methods = {"AddTrustedRootCertificate": "add_trusted_root", "AddCertificate": "add_certificate",
               "GenerateKeyPair": "generate_key_pair"}

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        return [CimInstance(self.class_name, amt_service(self.class_name, SERVICE_NAME,
                                                         element_name="Intel(r) AMT Certificate Store Service",
                                                         EnabledDefault=5))]

    def _add(self, device: SimulatedDevice, params: dict[str, Value], trusted_root: bool) -> MethodOutput:
        blob = text_param(params, "CertificateBlob")
        try:
            certificate = x509.load_der_x509_certificate(base64.b64decode(blob, validate=True))
        except (binascii.Error, ValueError):
            return int(PTStatus.INVALID_CERT), {}
        stored = CERTIFICATES.stored(device)
        if any(c["X509Certificate"] == blob for c in stored):
            return int(PTStatus.DUPLICATE), {}
        handle = objects_of(device).next_handle(CERTIFICATES.class_name)
        created = CERTIFICATES.add(device, {
            "ElementName": "Intel(r) AMT Certificate", "InstanceID": CERTIFICATE_ID.format(handle),
            "Issuer": _distinguished_name(certificate.issuer), "Subject": _distinguished_name(certificate.subject),
            "TrustedRootCertficate": trusted_root, "X509Certificate": blob,
        })
        return int(PTStatus.SUCCESS), {"CreatedCertificate": created}

    def add_trusted_root(self, device: SimulatedDevice, selectors: Mapping[str, Selector],
                         params: dict[str, Value]) -> MethodOutput:
        return self._add(device, params, trusted_root=True)

    def add_certificate(self, device: SimulatedDevice, selectors: Mapping[str, Selector],
                        params: dict[str, Value]) -> MethodOutput:
        return self._add(device, params, trusted_root=False)

    def generate_key_pair(self, device: SimulatedDevice, selectors: Mapping[str, Selector],
                          params: dict[str, Value]) -> MethodOutput:
        length = int_param(params, "KeyLength")
        if int_param(params, "KeyAlgorithm") != KEY_ALGORITHM_RSA or length not in RSA_KEY_LENGTHS:
            return int(PTStatus.INVALID_PARAMETER), {}
        public = rsa.generate_private_key(public_exponent=65537, key_size=length).public_key()
        der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
        handle = objects_of(device).next_handle(KEYS.class_name)
        created = KEYS.add(device, {"DERKey": base64.b64encode(der).decode(), "ElementName": "Intel(r) AMT Key",
                                    "InstanceID": KEY_ID.format(handle)})
        return int(PTStatus.SUCCESS), {"KeyPair": created}


def _tls_settings(device: SimulatedDevice) -> list[dict[str, Value]]:
    """As the simulator listens: TLS on the network when the device has a TLS port, plain HTTP accepted too."""
    tls = device.config.tls_port is not None
    return [
        {"AcceptNonSecureConnections": True, "ElementName": NETWORK_TLS, "Enabled": tls, "InstanceID": NETWORK_TLS,
         "MutualAuthentication": False, "NonSecureConnectionsSupported": True},
        {"AcceptNonSecureConnections": True, "ElementName": LOCAL_TLS, "Enabled": False, "InstanceID": LOCAL_TLS,
         "MutualAuthentication": False, "NonSecureConnectionsSupported": True},
    ]


def _endpoint_collection(device: SimulatedDevice) -> list[dict[str, Value]]:
    return [{"ElementName": "TLSProtocolEndpoint Instances Collection"}]


def _cryptography(device: SimulatedDevice) -> list[dict[str, Value]]:
    return [{"ElementName": "Intel(r) AMT: Cryptographic Capabilities", "HardwareAcceleration": 1,
             "InstanceID": "Intel(r) AMT: Cryptographic Capabilities 0"}]


schema.register(Cls.AMT_PublicKeyManagementService, {"EnabledDefault": "int", "EnabledState": "int",
                                                     "RequestedState": "int", **schema.ENABLED_ELEMENT_DATES},
                SERVICE_KEYS)
register(PublicKeyManagementService())
register(CERTIFICATES)
register(KEYS)
register(StoredClass(
    Cls.AMT_TLSSettingData, _tls_settings, keys=("InstanceID",),
    writable=("Enabled", "AcceptNonSecureConnections", "MutualAuthentication", "TrustedCN"),
    types={"AcceptNonSecureConnections": "bool", "Enabled": "bool", "MutualAuthentication": "bool",
           "NonSecureConnectionsSupported": "bool"}))
register(StoredClass(Cls.AMT_TLSCredentialContext, keys=("ElementInContext", "ElementProvidingContext"),
                     types={"ElementInContext": "ref", "ElementProvidingContext": "ref"}))
register(StoredClass(Cls.AMT_TLSProtocolEndpointCollection, _endpoint_collection, keys=("ElementName",)))
register(StoredClass(Cls.AMT_CryptographicCapabilities, _cryptography, keys=("InstanceID",),
                     types={"HardwareAcceleration": "int"}))
