"""Accounts as ``AMT_AuthorizationService`` manages them: the admin and the user ACL entries.

The passwords are the device's real digest accounts (:class:`~amtsim.backends.accounts.Accounts`): a
console that sets the admin password (``SetAdminAclEntryEx``) or adds a user (``AddUserAclEntryEx``)
changes who can log in. AMT's account methods carry the digest key, not the password:
``DigestPassword`` is the base64 of the 16 bytes of ``MD5(user:realm:password)``. User entries have
handles from 1 up, realms (what each may use) and an access permission (0 local only, 1 network
only, 2 both). AMT keeps at most ``MAX_USERS`` user entries; names are 1-16 characters and
``$$``-prefixed names are AMT's own.
"""

from __future__ import annotations

import base64
import binascii
import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from amtkit.codes import PTStatus

if TYPE_CHECKING:
    from ..device import SimulatedDevice

__all__ = ["AUTHORIZATION_KEY", "AuthorizationBackend", "UserEntry", "authorization_of"]

AUTHORIZATION_KEY = "authorization"
MAX_USERS = 15
MAX_NAME = 16


@dataclass
class UserEntry:
    username: str
    realms: list[int]
    access_permission: int


@dataclass
class AuthorizationBackend:
    admin: str
    users: dict[int, UserEntry] = field(default_factory=dict)
    acl_enabled: bool = True
    _handles: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @staticmethod
    def ha1_from(digest_password: str) -> str | None:
        """``DigestPassword`` (base64 of the 16 MD5 bytes) as the hex key the accounts keep."""
        try:
            raw = base64.b64decode(digest_password.strip(), validate=True)
        except (binascii.Error, ValueError):
            return None
        return raw.hex() if len(raw) == 16 else None

    def set_admin(self, device: SimulatedDevice, username: str, digest_password: str) -> int:
        ha1 = self.ha1_from(digest_password)
        if ha1 is None or not 0 < len(username) <= MAX_NAME:
            return int(PTStatus.INVALID_PARAMETER)
        if username != self.admin:
            device.accounts.remove_user(self.admin)
            self.admin = username
        device.accounts.set_ha1(username, ha1)
        return int(PTStatus.SUCCESS)

    def add_user(self, device: SimulatedDevice, username: str, digest_password: str, realms: list[int],
                 access_permission: int) -> tuple[int, int | None]:
        ha1 = self.ha1_from(digest_password)
        if ha1 is None or not 0 < len(username) <= MAX_NAME or username.startswith("$$"):
            return int(PTStatus.INVALID_PARAMETER), None
        if username == self.admin or any(u.username == username for u in self.users.values()):
            return int(PTStatus.DUPLICATE), None
        if len(self.users) >= MAX_USERS:
            return int(PTStatus.MAX_LIMIT_REACHED), None
        handle = next(self._handles)
        self.users[handle] = UserEntry(username, realms, access_permission)
        device.accounts.set_ha1(username, ha1)
        return int(PTStatus.SUCCESS), handle

    def remove_user(self, device: SimulatedDevice, handle: int) -> int:
        entry = self.users.pop(handle, None)
        if entry is None:
            return int(PTStatus.INVALID_INDEX)
        device.accounts.remove_user(entry.username)
        return int(PTStatus.SUCCESS)


def authorization_of(device: SimulatedDevice) -> AuthorizationBackend:
    return device.extension(AUTHORIZATION_KEY, AuthorizationBackend,
                            lambda: AuthorizationBackend(admin=device.config.username))
