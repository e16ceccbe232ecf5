"""The simulator's TLS certificates: generated with ``cryptography`` at first use and kept.

AMT makes itself a self-signed RSA certificate at provisioning; so does the simulator. Clients
trust it by pinning its SHA-256 fingerprint (``amtkit --pin-sha256``, or a pin file per host)
or by using the PEM as a CA file.

By default every device of a simulator shares one certificate (handy for tests). A device with
``DeviceConfig.own_certificate`` gets its own, as every real machine has, so that a fleet's pins
are per host: certificates named after the device, kept in ``devices/`` under the state
directory (a restarted simulator presents the same ones). To keep a 1,000-device fleet quick to
start, those certificates share one RSA key pair (a certificate costs one signature, a key pair
a prime search); the fingerprints, which is what pinning checks, all differ.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import os
import re
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID

from .tlsprofile import TLSProfile, server_context

CERT_NAME = "amtsim-rsa-cert.pem"
KEY_NAME = "amtsim-rsa-key.pem"
DEVICE_KEY_NAME = "amtsim-devices-rsa-key.pem"

_lock = threading.Lock()


def default_state_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "amtsim"


@dataclass(frozen=True)
class CertificateFiles:
    cert: Path
    key: Path

    @property
    def sha256(self) -> str:
        """Fingerprint of the certificate (DER), as clients pin it."""
        der = ssl.PEM_cert_to_DER_cert(self.cert.read_text())
        return hashlib.sha256(der).hexdigest()

    @property
    def is_rsa(self) -> bool:
        certificate = x509.load_pem_x509_certificate(self.cert.read_bytes())
        return isinstance(certificate.public_key(), rsa.RSAPublicKey)

    def server_context(self, profile: TLSProfile | None = None) -> ssl.SSLContext:
        """A server context offering ``profile`` (AMT 16's by default) with this certificate."""
        from .tlsprofile import profile_for

        return server_context(self.cert, self.key, profile or profile_for("16"), rsa=self.is_rsa)


def ensure_certificate(directory: Path | None = None, *, common_name: str = "amtsim",
                       bits: int = 2048) -> CertificateFiles:
    """The simulator's shared certificate in ``directory``, generated on first use."""
    directory = directory or default_state_dir()
    files = CertificateFiles(directory / CERT_NAME, directory / KEY_NAME)
    with _lock:
        if files.cert.exists() and files.key.exists():
            return files
        directory.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        _write_key(files.key, key)
        _write_certificate(files.cert, _self_signed(key, common_name))
    return files


def device_certificate(directory: Path | None, device_name: str, guid: str, *, address: str | None = None,
                       bits: int = 2048) -> CertificateFiles:
    """The kept certificate of one device (its own fingerprint; by name and GUID), made on first use."""
    directory = directory or default_state_dir()
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", f"{device_name}-{guid}")[:120] or "device"
    key_path = directory / (DEVICE_KEY_NAME if bits == 2048 else f"amtsim-devices-rsa{bits}-key.pem")
    cert_path = directory / "devices" / f"{safe}-rsa{bits}-cert.pem"
    with _lock:
        if cert_path.exists() and key_path.exists():
            return CertificateFiles(cert_path, key_path)
        cert_path.parent.mkdir(parents=True, exist_ok=True)
        if key_path.exists():
            loaded = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            assert isinstance(loaded, rsa.RSAPrivateKey)
            key = loaded
        else:
            key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
            _write_key(key_path, key)
        _write_certificate(cert_path, _self_signed(key, device_name, address))
    return CertificateFiles(cert_path, key_path)


def _self_signed(key: rsa.RSAPrivateKey, common_name: str, address: str | None = None) -> x509.Certificate:
    signer: CertificateIssuerPrivateKeyTypes = key
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "amtsim simulated Intel AMT")])
    now = dt.datetime.now(dt.timezone.utc)
    addresses = {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")}
    if address:
        try:
            addresses.add(ipaddress.ip_address(address))
        except ValueError:
            pass
    return (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), *(x509.IPAddress(a) for a in sorted(addresses, key=str))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(signer, hashes.SHA256())
    )


def _write_key(path: Path, key: rsa.RSAPrivateKey) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def _write_certificate(path: Path, certificate: x509.Certificate) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    tmp.replace(path)
