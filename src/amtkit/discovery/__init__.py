"""Discovery of Intel AMT machines: target expansion, RMCP presence ping/pong, TCP/HTTP probes.

``rmcp`` and ``targets`` are sans-IO; ``probe`` does the network I/O (asyncio). Typical use::

    from amtkit.discovery import discover
    for record in discover("10.0.0.0/22"):
        if record.is_amt:
            print(record.host, record.version, record.provisioning_state)
"""

from amtkit.discovery.probe import (
    AmtServerHeader,
    Classification,
    ControlMode,
    HostRecord,
    IdentifyFunc,
    IdentifyInfo,
    ProbeSettings,
    ProgressFunc,
    discover,
    discover_async,
    parse_server_header,
)
from amtkit.discovery.rmcp import (
    PongInfo,
    ProvisioningState,
    RmcpError,
    decode_ping,
    decode_pong,
    encode_ping,
    encode_pong,
)
from amtkit.discovery.targets import DEFAULT_LIMIT, TargetError, expand_targets, read_target_file

__all__ = [
    "DEFAULT_LIMIT",
    "AmtServerHeader",
    "Classification",
    "ControlMode",
    "HostRecord",
    "IdentifyFunc",
    "IdentifyInfo",
    "PongInfo",
    "ProbeSettings",
    "ProgressFunc",
    "ProvisioningState",
    "RmcpError",
    "TargetError",
    "decode_ping",
    "decode_pong",
    "discover",
    "discover_async",
    "encode_ping",
    "encode_pong",
    "expand_targets",
    "parse_server_header",
    "read_target_file",
]
