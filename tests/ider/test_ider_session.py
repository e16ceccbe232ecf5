"""IDE-R sessions end to end over loopback: amtkit's console serves, the simulator's firmware boots.

Nothing here waits on a clock: every wait is for an event (a boot record, a session count, the
session's own end), with a generous upper bound that only matters when something is broken.
"""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ider_e2e import GatedImage, client_for, ider_device, pycdlib_iso, redirection_port
from ider_images import floppy_image

from amtkit import exceptions as exc
from amtkit.client import Client
from amtkit.codes import PowerAction, PowerState
from amtkit.config import TLSConfig
from amtkit.ider.session import IDERImageNotBootable, IDERSessionCancelled, SessionState
from amtkit.pytest_plugin import AMTDeviceInfo
from amtkit.redirection.messages import (
    AuthenticateSessionReply,
    AuthType,
    DigestChallenge,
    Direction,
    IDERDisableEnableFeaturesReply,
    IDERErrorOccurred,
    IDERFeatureRequest,
    IDERHeartbeat,
    IDERKeepAlivePing,
    IDERKeepAlivePong,
    IDERResetOccurred,
    IDERResetOccurredResponse,
    RedirectionDecoder,
    RedirectionMessage,
    RedirectionProtocolError,
    SequenceCounter,
    SequencedMessage,
    StartIDERRedirectionReply,
    StartRedirectionSessionReply,
)
from amtkit.tls import OldTLSWarning

WAIT = 30.0


@pytest.fixture
def rescue_iso(tmp_path: Path) -> Path:
    return pycdlib_iso(tmp_path / "rescue.iso", volume_id="RESCUE_LIVE")


# -- booting real images


def test_a_real_iso_boots_through_an_ide_r_session(client: Client, device: AMTDeviceInfo, rescue_iso: Path) -> None:
    with client.ider.session(rescue_iso, device="cd") as session:
        client.boot.boot_once("ider-cd", then="reset")
        delivered = session.wait_for_boot(timeout=WAIT)
        record = device.control.wait_for_boot(1)
    assert record.target == "ider-cd" and record.booted
    assert (record.volume_id, record.boot_image_found) == ("RESCUE_LIVE", True)
    assert record.result is not None and record.result.loaded_bytes == 4 * 2048
    assert delivered.image.volume_id == "RESCUE_LIVE" and delivered.stats.boot_image_bytes == 4 * 2048
    assert delivered.stats.resets == 1 and delivered.stats.reads >= 4


def test_the_session_closes_cleanly_and_the_ider_boot_was_one_time(client: Client, device: AMTDeviceInfo,
                                                                    rescue_iso: Path) -> None:
    with client.ider.session(rescue_iso) as session:
        client.boot.boot_once("ider-cd", then="reset")
        session.wait_for_boot(timeout=WAIT)
    device.control.wait_for_sessions(0)
    assert session.state is SessionState.CLOSED and session.error is None
    assert not client.boot.settings().use_ider
    client.power.reset()
    assert device.control.wait_for_boot(2).target == "default"


def test_the_one_call_helper_resets_serves_and_closes(client: Client, device: AMTDeviceInfo,
                                                     rescue_iso: Path) -> None:
    delivered = client.ider.boot(rescue_iso, device="cd", timeout=WAIT)
    record = device.control.wait_for_boot(1)
    assert record.booted and record.action is PowerAction.RESET and delivered.image.volume_id == "RESCUE_LIVE"
    device.control.wait_for_sessions(0)
    assert device.control.redirection_stats()["opened"] == 1


def test_the_helper_powers_on_a_host_that_is_off(client: Client, device: AMTDeviceInfo, rescue_iso: Path) -> None:
    device.control.set_power_state(PowerState.OFF_SOFT)
    client.ider.boot(rescue_iso, timeout=WAIT)
    record = device.control.wait_for_boot(1)
    assert record.booted and record.action is PowerAction.ON


def test_a_non_bootable_iso_fails_in_the_bios_with_the_reason(client: Client, device: AMTDeviceInfo,
                                                              tmp_path: Path) -> None:
    iso = pycdlib_iso(tmp_path / "data.iso", el_torito=False)
    with client.ider.session(iso) as session:
        client.boot.boot_once("ider-cd", then="reset")
        record = device.control.wait_for_boot(1)
        with pytest.raises(IDERImageNotBootable, match="no El Torito boot record"):
            session.wait_for_boot(timeout=WAIT)
    assert not record.booted and not record.boot_image_found and record.volume_id == "RESCUE_LIVE"
    assert record.reason is not None
    assert record.reason.startswith("CD is not bootable: no El Torito boot record at sector 17")


def test_the_helper_refuses_a_non_bootable_image_before_touching_the_host(client: Client, device: AMTDeviceInfo,
                                                                         tmp_path: Path) -> None:
    iso = pycdlib_iso(tmp_path / "data.iso", el_torito=False)
    with pytest.raises(IDERImageNotBootable, match="cannot boot: CD is not bootable"):
        client.ider.boot(iso, timeout=WAIT)
    assert device.control.redirection_stats()["opened"] == 0
    assert device.control.power_history() == [] and not client.boot.settings().use_ider


def test_a_floppy_with_the_boot_signature_boots(client: Client, device: AMTDeviceInfo, tmp_path: Path) -> None:
    image = tmp_path / "rescue.img"
    image.write_bytes(floppy_image(label="RESCUEFD"))
    with client.ider.session(image, device="floppy") as session:
        client.boot.boot_once("ider-floppy", then="reset")
        delivered = session.wait_for_boot(timeout=WAIT)
        record = device.control.wait_for_boot(1)
    assert (record.target, record.booted, record.volume_id) == ("ider-floppy", True, "RESCUEFD")
    assert delivered.stats.boot_image_bytes == 512


def test_a_floppy_without_the_boot_signature_fails(client: Client, device: AMTDeviceInfo, tmp_path: Path) -> None:
    image = tmp_path / "data.img"
    image.write_bytes(floppy_image(signature=False))
    with client.ider.session(image, device="floppy"):
        client.boot.boot_once("ider-floppy", then="reset")
        record = device.control.wait_for_boot(1)
    assert not record.booted and record.reason == "floppy is not bootable: boot sector ends 0000, not 55aa"


def test_a_tls_session_with_a_pinned_certificate_boots(amt_simulator, rescue_iso: Path) -> None:  # type: ignore[no-untyped-def]
    with ider_device(amt_simulator, tls=True) as info:
        assert info.tls_port is not None and info.tls_sha256 is not None
        with client_for(info, port=info.tls_port, tls=TLSConfig(pin_sha256=info.tls_sha256)) as amt:
            amt.ider.port = info.device.config.redirection_tls_port
            amt.ider.boot(rescue_iso, timeout=WAIT)
            assert info.control.wait_for_boot(1).booted


def test_an_amt_11_session_over_tls_1_1_boots_when_old_tls_is_allowed(amt_simulator, rescue_iso: Path,  # type: ignore[no-untyped-def]
                                                                      fresh_old_tls_warnings) -> None:
    with ider_device(amt_simulator, tls=True, amt_version="11.8.50") as info:
        assert info.tls_port is not None and info.tls_sha256 is not None
        with client_for(info, port=info.tls_port, tls=TLSConfig(pin_sha256=info.tls_sha256),
                        allow_old_tls=True) as amt, pytest.warns(OldTLSWarning) as caught:
            amt.ider.port = info.device.config.redirection_tls_port
            amt.ider.boot(rescue_iso, timeout=WAIT)
            assert info.control.wait_for_boot(1).booted
    redirection = f"port {info.device.config.redirection_tls_port} negotiated TLS 1.1"
    assert any(redirection in str(warning.message) for warning in caught)


def test_a_wrong_pin_is_refused_on_the_redirection_port(amt_simulator, rescue_iso: Path) -> None:  # type: ignore[no-untyped-def]
    with ider_device(amt_simulator, tls=True) as info:
        assert info.tls_port is not None
        with client_for(info, port=info.tls_port, tls=TLSConfig(pin_sha256="00" * 32)) as amt:
            session = amt.ider.session(rescue_iso, port=info.device.config.redirection_tls_port)
            with pytest.raises(exc.TLSError) as raised:
                session.start()
    assert raised.value.reason == "pin-mismatch"


# -- AMT's rules


def test_bad_redirection_credentials_are_refused(device: AMTDeviceInfo, rescue_iso: Path) -> None:
    with client_for(device, password="not-the-password") as amt:
        with pytest.raises(exc.AuthenticationError, match="redirection authentication failed for user 'admin'"):
            amt.ider.session(rescue_iso).start()
    stats = device.control.redirection_stats()
    assert (stats["auth_failures"], stats["open"]) == (1, 0)


def test_power_off_and_cycle_are_refused_while_a_session_is_open(client: Client, device: AMTDeviceInfo,
                                                                 rescue_iso: Path) -> None:
    with client.ider.session(rescue_iso):
        for action in (PowerAction.OFF, PowerAction.CYCLE):
            with pytest.raises(exc.PowerActionNotSupported, match="the device answered 4097") as caught:
                client.power.request(action)
            # AMT gives no reason: the open session is named as a possible cause, in the hint (issue #13)
            assert "while a SOL or IDE-R session is open" in caught.value.hint
        assert device.control.power_history() == []
    device.control.wait_for_sessions(0)
    client.power.off()
    assert device.control.power_history() == [PowerAction.OFF]


def test_the_listener_switched_off_refuses_sessions(client: Client, device: AMTDeviceInfo, rescue_iso: Path) -> None:
    device.control.set_redirection(listener=False)
    with pytest.raises(exc.TransportError) as raised:
        client.ider.session(rescue_iso).start()
    assert "ListenerEnabled" in raised.value.hint


def test_ide_r_switched_off_refuses_the_session(client: Client, device: AMTDeviceInfo, rescue_iso: Path) -> None:
    device.control.set_redirection(ider=False)
    with pytest.raises(exc.FeatureUnavailableError, match="refused an IDE-R session"):
        client.ider.session(rescue_iso).start()


def test_one_ide_r_session_at_a_time(client: Client, rescue_iso: Path) -> None:
    with client.ider.session(rescue_iso) as first:
        with pytest.raises(exc.FeatureUnavailableError, match="refused to open IDE-R"):
            client.ider.session(rescue_iso).start()
        assert first.running


# -- cancellation


def test_stop_from_another_thread_cancels_a_wait(client: Client, device: AMTDeviceInfo, rescue_iso: Path) -> None:
    with client.ider.session(rescue_iso) as session:
        stopper = threading.Thread(target=session.stop)
        stopper.start()
        with pytest.raises(IDERSessionCancelled):
            session.wait_for_boot(timeout=WAIT)
        stopper.join(WAIT)
    device.control.wait_for_sessions(0)
    assert session.state is SessionState.CLOSED and session.error is None


def test_a_transfer_in_progress_is_cancelled_cleanly(client: Client, device: AMTDeviceInfo) -> None:
    image = GatedImage(64 << 20, gate=8 << 20)
    device.control.arm_sequential_read()
    session = client.ider.session(image, device="cd").start()  # type: ignore[arg-type]
    client.boot.boot_once("ider-cd", then="reset")
    assert image.reached.wait(WAIT)  # the serving thread is inside the transfer now
    stopper = threading.Thread(target=session.stop)
    stopper.start()
    _until(lambda: session.stop_requested)
    image.release.set()
    stopper.join(WAIT)
    record = device.control.wait_for_boot(1)
    assert not record.booted and record.reason is not None and "session ended during the boot" in record.reason
    assert session.state is SessionState.CLOSED and session.stats.bytes_served < 64 << 20


def _until(condition: Callable[[], bool]) -> None:
    """Wait for a condition another thread makes true (bounded; never a measured time)."""
    done = threading.Event()
    for _ in range(10_000):
        if condition():
            return
        done.wait(0.001)
    raise AssertionError("condition never became true")


# -- protocol errors, with a scripted firmware on a loopback socket


class ScriptedFirmware:
    """A firmware written for one test: completes the set-up with the project's codec, then runs ``after``.

    ``first_reply`` replaces the answer to the session start (to send garbage from the first byte).
    """

    def __init__(self, after: Callable[[ScriptedFirmware], None] | None = None, first_reply: bytes | None = None):
        self.after = after
        self.first_reply = first_reply
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.decoder = RedirectionDecoder(direction=Direction.TO_FIRMWARE)
        self.outgoing = SequenceCounter()
        self.received: list[RedirectionMessage] = []
        self.conn: socket.socket | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def receive(self) -> RedirectionMessage:
        assert self.conn is not None
        while True:
            if self.received:
                return self.received.pop(0)
            data = self.conn.recv(65536)
            if not data:
                raise ConnectionError("the console closed")
            self.received.extend(self.decoder.feed(data))

    def send(self, message: RedirectionMessage) -> None:
        assert self.conn is not None
        if isinstance(message, SequencedMessage):
            message = self.outgoing.stamp(message)
        self.conn.sendall(message.encode())

    def _run(self) -> None:
        self.conn, _ = self.listener.accept()
        with self.conn:
            self.receive()  # StartRedirectionSession
            if self.first_reply is not None:
                self.conn.sendall(self.first_reply)
                return
            self.send(StartRedirectionSessionReply())
            self.receive()  # query
            self.send(AuthenticateSessionReply.methods_reply([AuthType.DIGEST_QOP]))
            self.receive()  # digest start
            self.send(AuthenticateSessionReply.challenge_reply(DigestChallenge("Digest:SCRIPTED", "bm9uY2U=")))
            self.receive()  # answer: a scripted firmware believes anyone
            self.send(AuthenticateSessionReply(auth_type=AuthType.DIGEST_QOP))
            self.receive()  # StartIDERRedirection
            self.send(StartIDERRedirectionReply())
            self.receive()  # feature query
            self.send(IDERDisableEnableFeaturesReply(request=IDERFeatureRequest.GET_SUPPORTED, value=0))
            if self.after is not None:
                self.after(self)

    def close(self) -> None:
        self.thread.join(WAIT)
        self.listener.close()


@pytest.fixture
def scripted(device: AMTDeviceInfo, rescue_iso: Path) -> Iterator[Callable[..., tuple[ScriptedFirmware, object]]]:
    made: list[ScriptedFirmware] = []
    clients: list[Client] = []

    def make(after: Callable[[ScriptedFirmware], None] | None = None, first_reply: bytes | None = None,
             ) -> tuple[ScriptedFirmware, object]:
        firmware = ScriptedFirmware(after, first_reply)
        made.append(firmware)
        amt = client_for(device)
        clients.append(amt)
        return firmware, amt.ider.session(rescue_iso, port=firmware.port)

    yield make
    for firmware in made:
        firmware.close()
    for amt in clients:
        amt.close()


def test_garbage_from_the_firmware_is_a_protocol_error(scripted) -> None:  # type: ignore[no-untyped-def]
    _, session = scripted(first_reply=b"\x99\x00\x00\x00")
    with pytest.raises(RedirectionProtocolError, match="unknown redirection message type 0x99"):
        session.start()


def test_a_message_out_of_sequence_ends_the_session(scripted) -> None:  # type: ignore[no-untyped-def]
    def skip_numbers(firmware: ScriptedFirmware) -> None:
        assert firmware.conn is not None
        firmware.conn.sendall(IDERHeartbeat(seq=7).encode())  # not stamped: numbers 2 to 6 are missing
        firmware.receive()  # until the console hangs up

    _, session = scripted(after=lambda fw: _quietly(skip_numbers, fw))
    session.start()
    with pytest.raises(RedirectionProtocolError, match="out of sequence: got 7, expected 2"):
        session.wait_closed(timeout=WAIT)


def test_keep_alive_pings_and_resets_are_answered(scripted) -> None:  # type: ignore[no-untyped-def]
    answers: list[RedirectionMessage] = []

    def ping_and_reset(firmware: ScriptedFirmware) -> None:
        firmware.send(IDERKeepAlivePing())
        answers.append(firmware.receive())
        firmware.send(IDERResetOccurred(mask=1))
        answers.append(firmware.receive())

    _, session = scripted(after=ping_and_reset)
    session.start()
    with pytest.raises(exc.UnreachableError):
        session.wait_closed(timeout=WAIT)  # the script ends by hanging up
    assert [type(a) for a in answers] == [IDERKeepAlivePong, IDERResetOccurredResponse]
    assert session.stats.resets == 1


def test_an_error_reported_by_the_firmware_ends_the_session(scripted) -> None:  # type: ignore[no-untyped-def]
    def report_error(firmware: ScriptedFirmware) -> None:
        firmware.send(IDERErrorOccurred(code=3))
        _quietly(firmware.receive)

    _, session = scripted(after=report_error)
    session.start()
    with pytest.raises(RedirectionProtocolError, match="aborted IDE-R with error code 3"):
        session.wait_closed(timeout=WAIT)


def _quietly(action: Callable[..., object], *args: object) -> None:
    try:
        action(*args)
    except (ConnectionError, OSError):
        pass


def test_sessions_need_an_image() -> None:
    from amtkit.http.digest import Credentials
    from amtkit.ider.session import IDERSession

    with pytest.raises(ValueError, match="needs a CD or a floppy image"):
        IDERSession("127.0.0.1", Credentials("admin", "x"))
    with pytest.raises(ValueError, match="no image for the boot device cd"):
        IDERSession("127.0.0.1", Credentials("admin", "x"), floppy=io.BytesIO(bytes(512)), boot_device="cd")


def test_redirection_port_helper_reads_the_bound_port(device: AMTDeviceInfo) -> None:
    assert redirection_port(device) > 0
