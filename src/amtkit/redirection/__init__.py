"""The AMT redirection protocol (SOL, IDE-R, session set-up) on TCP 16994/16995, sans-IO.

Everything lives in :mod:`amtkit.redirection.messages`; the names most callers need are
re-exported here.
"""

from amtkit.redirection.messages import (
    REDIRECTION_PORT,
    REDIRECTION_TLS_PORT,
    AuthenticateSession,
    AuthenticateSessionReply,
    AuthType,
    Device,
    DigestChallenge,
    Direction,
    IDERCommandEndResponse,
    IDERCommandWritten,
    IDERDataToHost,
    MessageType,
    RedirectionDecoder,
    RedirectionMessage,
    RedirectionProtocolError,
    SequenceCounter,
    SessionType,
    StartIDERRedirection,
    StartIDERRedirectionReply,
    StartRedirectionSession,
    StartRedirectionSessionReply,
    decode_message,
)

__all__ = [
    "REDIRECTION_PORT",
    "REDIRECTION_TLS_PORT",
    "AuthType",
    "AuthenticateSession",
    "AuthenticateSessionReply",
    "Device",
    "DigestChallenge",
    "Direction",
    "IDERCommandEndResponse",
    "IDERCommandWritten",
    "IDERDataToHost",
    "MessageType",
    "RedirectionDecoder",
    "RedirectionMessage",
    "RedirectionProtocolError",
    "SequenceCounter",
    "SessionType",
    "StartIDERRedirection",
    "StartIDERRedirectionReply",
    "StartRedirectionSession",
    "StartRedirectionSessionReply",
    "decode_message",
]
