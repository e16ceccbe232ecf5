"""The simulator's RMCP responder: answers ASF presence pings the way AMT firmware does.

Pongs are built by :func:`amtkit.discovery.rmcp.encode_pong`, the same module the prober decodes
with. What each simulated machine answers comes from a lookup ``(local_ip) -> PongInfo | None``,
called per ping with the address the ping was sent to; ``None`` means stay silent, as AMT does when it
is disabled or ``AMT_GeneralSettings.RmcpPingResponseEnabled`` is false. Anything that is not a
presence ping is ignored (AMT does not answer garbage either).

Two ways to listen
------------------
* :meth:`RmcpServer.bind` opens **one socket per address** (portable). 500 devices = 500 sockets.
* :meth:`RmcpServer.bind_loopback` (Linux) opens **one socket for all of 127.0.0.0/8**: it is bound
  to the wildcard address, reads each datagram's destination from ``IP_PKTINFO`` and sends the pong
  with that destination as its source (``ipi_spec_dst``), so the prober sees the answer come from the
  device's own address, as one socket per address would give. The socket is tied to the loopback
  device with ``SO_BINDTODEVICE`` when permitted and, in any case, datagrams addressed outside
  ``network`` are dropped, so the simulator never answers from a real interface.

Both default to AMT's UDP 623, which needs privileges; the simulator normally passes a high port
and tells the prober (``ProbeSettings(rmcp_port=...)``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import struct
import sys
from collections.abc import Callable, Iterable
from typing import cast

from amtkit.discovery.rmcp import RMCP_PORT, PongInfo, RmcpError, decode_ping, encode_pong

__all__ = ["PongLookup", "RmcpResponder", "RmcpServer", "answer"]

PongLookup = Callable[[str], PongInfo | None]
"""``lookup(local_ip) -> PongInfo | None``: what the device at ``local_ip`` answers; ``None``: silence."""

_IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)  # Linux value; the constant is in the stdlib from 3.12
_IN_PKTINFO = struct.Struct("@i4s4s")  # struct in_pktinfo: ifindex, spec_dst, addr
_BURST = 256  # datagrams handled per readiness callback, so one busy socket cannot starve the loop


def answer(data: bytes, local_ip: str, lookup: PongLookup) -> bytes | None:
    """The pong for a datagram that arrived at ``local_ip``, or ``None`` to stay silent."""
    try:
        tag = decode_ping(data)
    except RmcpError:
        return None
    info = lookup(local_ip)
    return None if info is None else encode_pong(info, tag)


class RmcpResponder(asyncio.DatagramProtocol):
    """Datagram protocol for a socket bound to one address: answers its pings from ``lookup``."""

    def __init__(self, local_ip: str, lookup: PongLookup) -> None:
        self.local_ip = local_ip
        self._lookup = lookup
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)  # not a subclass on CPython 3.11

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        reply = answer(data, self.local_ip, self._lookup)
        if reply is not None and self._transport is not None:
            self._transport.sendto(reply, addr)

    def error_received(self, exc: Exception) -> None:
        pass  # e.g. ICMP port unreachable for a prober that went away: nothing to do


def _factory(address: str, lookup: PongLookup) -> Callable[[], RmcpResponder]:
    return lambda: RmcpResponder(address, lookup)


class _PktinfoSocket:
    """One wildcard-bound socket answering for every loopback address (Linux, ``IP_PKTINFO``)."""

    def __init__(self, sock: socket.socket, lookup: PongLookup, network: ipaddress.IPv4Network) -> None:
        self._sock = sock
        self._lookup = lookup
        self._network = network
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(sock.fileno(), self._readable)

    def _readable(self) -> None:
        for _ in range(_BURST):
            try:
                data, ancdata, _, addr = self._sock.recvmsg(64, socket.CMSG_SPACE(_IN_PKTINFO.size))
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            destination = None
            for level, kind, cdata in ancdata:
                if level == socket.IPPROTO_IP and kind == _IP_PKTINFO and len(cdata) >= _IN_PKTINFO.size:
                    destination = _IN_PKTINFO.unpack_from(cdata)[2]
            if destination is None or ipaddress.IPv4Address(destination) not in self._network:
                continue
            local_ip = socket.inet_ntoa(destination)
            reply = answer(data, local_ip, self._lookup)
            if reply is None:
                continue
            source = [(socket.IPPROTO_IP, _IP_PKTINFO, _IN_PKTINFO.pack(0, destination, bytes(4)))]
            try:
                self._sock.sendmsg([reply], source, 0, addr)
            except OSError:
                pass  # a full send buffer drops the pong, as a busy network would

    @property
    def port(self) -> int:
        return int(self._sock.getsockname()[1])

    def close(self) -> None:
        self._loop.remove_reader(self._sock.fileno())
        self._sock.close()


class RmcpServer:
    """Running RMCP listeners; create with :meth:`bind` or :meth:`bind_loopback`, stop with :meth:`close`."""

    def __init__(self, transports: list[asyncio.DatagramTransport], wildcard: _PktinfoSocket | None) -> None:
        self._transports = transports
        self._wildcard = wildcard

    @classmethod
    async def bind(cls, addresses: Iterable[str], lookup: PongLookup, port: int = RMCP_PORT) -> RmcpServer:
        """One socket per address, all on ``port``. Port 0 picks a free port per socket (tests, one address).

        Raises :class:`OSError` if an address cannot be bound; sockets already opened are closed.
        """
        loop = asyncio.get_running_loop()
        transports: list[asyncio.DatagramTransport] = []
        try:
            for address in addresses:
                transport, _ = await loop.create_datagram_endpoint(
                    _factory(address, lookup), local_addr=(address, port)
                )
                transports.append(transport)
        except BaseException:
            for transport in transports:
                transport.close()
            raise
        return cls(transports, None)

    @classmethod
    async def bind_loopback(
        cls, lookup: PongLookup, port: int = RMCP_PORT, network: str = "127.0.0.0/8"
    ) -> RmcpServer:
        """One socket answering for every address of ``network`` (an IPv4 loopback network), Linux only.

        Raises :class:`OSError` (e.g. port in use) or :class:`NotImplementedError` off Linux.
        """
        if not sys.platform.startswith("linux"):
            raise NotImplementedError("bind_loopback needs Linux IP_PKTINFO; use RmcpServer.bind(addresses, ...)")
        net = ipaddress.IPv4Network(network)
        if not net.is_loopback:
            raise ValueError(f"{network} is not a loopback network")
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"lo")
            except (OSError, AttributeError):
                pass  # not permitted: the destination filter below still keeps us loopback-only
            sock.setsockopt(socket.IPPROTO_IP, _IP_PKTINFO, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            sock.setblocking(False)
            sock.bind(("0.0.0.0", port))
            return cls([], _PktinfoSocket(sock, lookup, net))
        except BaseException:
            sock.close()
            raise

    @property
    def ports(self) -> list[int]:
        """The UDP port of each socket (one entry for :meth:`bind_loopback`)."""
        if self._wildcard is not None:
            return [self._wildcard.port]
        return [int(t.get_extra_info("sockname")[1]) for t in self._transports]

    def close(self) -> None:
        """Close every socket. Idempotent."""
        for transport in self._transports:
            transport.close()
        self._transports = []
        if self._wildcard is not None:
            self._wildcard.close()
            self._wildcard = None

    async def __aenter__(self) -> RmcpServer:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()
