"""Credential profiles: named digest accounts from a TOML file, tried in a sensible, bounded order.

A profile file (default ``$AMTKIT_PROFILES``, else ``$XDG_CONFIG_HOME/amtkit/profiles.toml``)::

    default = "corp"                 # tried right after the host's remembered profile
    order = ["corp", "lab"]          # then these, then the remaining profiles in file order
    max_tries = 3                    # profiles tried per host at most (default 3)

    [profiles.corp]
    username = "admin"
    password_env = "AMT_CORP_PASSWORD"   # read from the environment when needed

    [profiles.lab]
    username = "admin"
    password_keyring = "amtkit"          # keyring.get_password("amtkit", "admin"); needs `keyring`

    [profiles.bench]
    username = "admin"
    password = "P@ssw0rd"                # inline: keep the file private (chmod 600)

Each profile has exactly one password source. Passwords are fetched only when a profile is tried,
never appear in ``repr`` or error messages, and never reach the store: the store keeps only the
*name* of the profile that last worked for a host (:meth:`Store.remember_profile`).

Why a cap on tries: AMT counts failed digest logins and, past a threshold, locks the account for a
while (anti-hammering). Trying ten profiles against every host of a fleet would lock the real
account out, so :meth:`ProfileSet.ordered_for` returns at most ``max_tries`` profiles, the one that
worked last time first.
"""

from __future__ import annotations

import os
import stat
import sys
import warnings
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from amtkit import exceptions as exc
from amtkit.exceptions import AMTError, AuthenticationError
from amtkit.http.digest import Credentials
from amtkit.text import printable

from .lazylog import logger_ready

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

if TYPE_CHECKING:
    from amtkit.client import Client
    from amtkit.store import Store

__all__ = [
    "DEFAULT_MAX_TRIES",
    "NoWorkingProfileError",
    "Profile",
    "ProfileError",
    "ProfileSet",
    "connect",
    "default_profiles_path",
    "login",
]

DEFAULT_MAX_TRIES = 3
"""Profiles tried per host unless the file or the caller says otherwise (AMT anti-hammering)."""

T = TypeVar("T")

log = logger_ready(__name__)  # with amtkit's NullHandler (amtkit.lazylog)
Rejection = type[BaseException] | tuple[type[BaseException], ...]

_PROFILE_KEYS = {"username", "password", "password_env", "password_keyring"}
_SOURCES = ("password", "password_env", "password_keyring")
_TOP_KEYS = {"default", "order", "max_tries", "profiles"}


class ProfileError(AMTError):
    """The profile file is invalid, or a profile's password cannot be obtained. Never shows a password."""

    category = "usage"


class NoWorkingProfileError(AuthenticationError):
    """No profile worked for a host. ``tried``: names rejected by the host; ``untried``: names left out by
    the cap; ``unavailable``: why profiles were skipped (password not obtainable), without secrets."""

    def __init__(
        self, host: str, tried: tuple[str, ...], untried: tuple[str, ...] = (), unavailable: tuple[str, ...] = ()
    ) -> None:
        names = ", ".join(tried) if tried else "none"
        message = f"no credential profile worked (tried: {names})"
        if unavailable:
            message += "; unusable: " + "; ".join(unavailable)
        hint = None
        if untried:
            hint = (f"{len(untried)} more profile(s) not tried ({', '.join(untried)}): the per-host cap avoids "
                    "AMT's account lockout; set the right default or order")
        super().__init__(message, host=host, hint=hint)
        self.tried = tried
        self.untried = untried
        self.unavailable = unavailable


def default_profiles_path() -> Path:
    """``$AMTKIT_PROFILES`` if set, else ``amtkit/profiles.toml`` in the user configuration directory."""
    override = os.environ.get("AMTKIT_PROFILES")
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "amtkit" / "profiles.toml"


@dataclass(frozen=True)
class Profile:
    """A named digest account. Exactly one of ``password`` / ``password_env`` / ``password_keyring`` is set."""

    name: str
    username: str
    password: str | None = field(default=None, repr=False)
    password_env: str | None = None
    password_keyring: str | None = None

    def __repr__(self) -> str:
        source = (f"password_env={self.password_env!r}" if self.password_env else
                  f"password_keyring={self.password_keyring!r}" if self.password_keyring else "password='***'")
        return f"Profile(name={self.name!r}, username={self.username!r}, {source})"

    def credentials(self) -> Credentials:
        """Fetch the password now and return the digest credentials.

        Raises :class:`ProfileError` if the environment variable is unset, ``keyring`` is not
        installed, or the keyring holds no password for this service and user.
        """
        if self.password is not None:
            return Credentials(self.username, self.password)
        if self.password_env is not None:
            value = os.environ.get(self.password_env)
            if value is None:
                raise ProfileError(f"profile {self.name!r}: environment variable {self.password_env} is not set")
            return Credentials(self.username, value)
        assert self.password_keyring is not None
        try:
            import keyring  # type: ignore[import-not-found, unused-ignore]
        except ImportError as error:
            raise ProfileError(
                f"profile {self.name!r} reads its password from the keyring, but the 'keyring' package is not "
                "installed (pip install keyring)"
            ) from error
        try:
            value = keyring.get_password(self.password_keyring, self.username)
        except Exception as exc:  # noqa: BLE001 - keyring backends raise their own types
            raise ProfileError(f"profile {self.name!r}: keyring error: {type(exc).__name__}") from exc
        if value is None:
            raise ProfileError(
                f"profile {self.name!r}: no password in keyring service {self.password_keyring!r} "
                f"for user {self.username!r}"
            )
        return Credentials(self.username, str(value))


def _check_str(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ProfileError(f"{what} must be a non-empty string")
    return value


def _profile(name: str, table: object) -> Profile:
    if not isinstance(table, Mapping):
        raise ProfileError(f"profile {name!r} must be a table ([profiles.{name}])")
    unknown = set(table) - _PROFILE_KEYS
    if unknown:
        raise ProfileError(f"profile {name!r}: unknown key(s) {', '.join(sorted(unknown))}")
    sources = [key for key in _SOURCES if key in table]
    if len(sources) != 1:
        raise ProfileError(f"profile {name!r} needs exactly one of {', '.join(_SOURCES)}")
    source = sources[0]
    return Profile(
        name=name,
        username=_check_str(table.get("username"), f"profile {name!r}: username"),
        **{source: _check_str(table[source], f"profile {name!r}: {source}")},
    )


@dataclass(frozen=True)
class ProfileSet:
    """The profiles of one file, with the order to try them in and the per-host cap."""

    profiles: Mapping[str, Profile]
    order: tuple[str, ...] = ()
    default: str | None = None
    max_tries: int = DEFAULT_MAX_TRIES
    source: str | None = None

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> ProfileSet:
        """Read a profile file (default :func:`default_profiles_path`).

        Warns (:class:`UserWarning`) when a file with inline passwords is readable by others.
        Raises :class:`ProfileError` for an unreadable or invalid file.
        """
        file = Path(path).expanduser() if path is not None else default_profiles_path()
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ProfileError(f"cannot read profile file {file}: {exc.strerror or exc}") from exc
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ProfileError(f"profile file {file} is not valid TOML: {exc}") from exc
        profile_set = cls.from_dict(data, source=str(file))
        if any(p.password is not None for p in profile_set.profiles.values()) and os.name == "posix":
            if file.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                warnings.warn(f"{file} holds passwords and is readable by others: chmod 600 it",
                              UserWarning, stacklevel=2)
        return profile_set

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str | None = None) -> ProfileSet:
        """Build from parsed TOML. Raises :class:`ProfileError` naming the first problem found."""
        where = f" in {source}" if source else ""
        unknown = set(data) - _TOP_KEYS
        if unknown:
            raise ProfileError(f"unknown key(s){where}: {', '.join(sorted(unknown))}")
        tables = data.get("profiles", {})
        if not isinstance(tables, Mapping) or not tables:
            raise ProfileError(f"no [profiles.<name>] tables{where}")
        profiles = {name: _profile(name, table) for name, table in tables.items()}
        order = data.get("order", [])
        if not isinstance(order, list) or not all(isinstance(n, str) for n in order):
            raise ProfileError(f"'order'{where} must be a list of profile names")
        default = data.get("default")
        for name in [*order, *([default] if default is not None else [])]:
            if not isinstance(name, str) or name not in profiles:
                raise ProfileError(f"{name!r}{where} is not a defined profile (known: {', '.join(profiles)})")
        max_tries = data.get("max_tries", DEFAULT_MAX_TRIES)
        if not isinstance(max_tries, int) or isinstance(max_tries, bool) or max_tries < 1:
            raise ProfileError(f"'max_tries'{where} must be a positive integer")
        return cls(profiles=profiles, order=tuple(order), default=default, max_tries=max_tries, source=source)

    def __getitem__(self, name: str) -> Profile:
        try:
            return self.profiles[name]
        except KeyError as error:
            raise ProfileError(f"no profile named {name!r} (known: {', '.join(self.profiles)})") from error

    def _all_ordered(self, host: str, store: Store | None) -> list[str]:
        remembered = _quietly(store, "read the remembered profile", lambda s: s.profile_for(host))
        names = [remembered, self.default, *self.order, *self.profiles]
        return list(dict.fromkeys(n for n in names if n is not None and n in self.profiles))

    def ordered_for(self, host: str, store: Store | None = None, *, max_tries: int | None = None) -> list[Profile]:
        """Profiles to try for ``host``: the one the store remembers for it, the default, ``order``,
        then the rest in file order; at most ``max_tries`` (default: the file's, else 3)."""
        cap = self.max_tries if max_tries is None else max_tries
        return [self.profiles[name] for name in self._all_ordered(host, store)[:cap]]

    def first_working(
        self,
        host: str,
        attempt: Callable[[Credentials], T],
        store: Store | None = None,
        *,
        rejected: Rejection = AuthenticationError,
        max_tries: int | None = None,
    ) -> tuple[Profile, T]:
        """Call ``attempt(credentials)`` with each profile in :meth:`ordered_for` order until one is not rejected.

        An exception of type ``rejected`` means "wrong credentials, try the next"; any other exception
        propagates at once (a network error is not a reason to spend another login attempt). A profile
        whose password cannot be obtained (unset variable, no keyring) is skipped without costing a try
        and reported if nothing works. The profile that works is remembered in ``store``; if every try
        is rejected the remembered name is forgotten and :class:`NoWorkingProfileError` names the
        profiles tried, skipped and left out by the cap.
        """
        plan = _Plan(self, host, store, max_tries)
        for profile, credentials in plan:
            try:
                result = attempt(credentials)
            except rejected:
                continue
            return plan.worked(profile), result
        raise plan.exhausted()

    async def first_working_async(
        self,
        host: str,
        attempt: Callable[[Credentials], Awaitable[T]],
        store: Store | None = None,
        *,
        rejected: Rejection = AuthenticationError,
        max_tries: int | None = None,
    ) -> tuple[Profile, T]:
        """:meth:`first_working` for a coroutine ``attempt``."""
        plan = _Plan(self, host, store, max_tries)
        for profile, credentials in plan:
            try:
                result = await attempt(credentials)
            except rejected:
                continue
            return plan.worked(profile), result
        raise plan.exhausted()


class _Plan:
    """The bounded sequence of login tries for one host, and its bookkeeping."""

    def __init__(self, profiles: ProfileSet, host: str, store: Store | None, max_tries: int | None) -> None:
        self.profiles = profiles
        self.host = host
        self.store = store
        self.cap = profiles.max_tries if max_tries is None else max_tries
        self.names = profiles._all_ordered(host, store)
        self.tried: list[str] = []
        self.unavailable: dict[str, str] = {}  # name -> why its password could not be obtained

    def __iter__(self) -> Iterator[tuple[Profile, Credentials]]:
        for name in self.names:
            if len(self.tried) >= self.cap:
                return
            profile = self.profiles.profiles[name]
            try:
                credentials = profile.credentials()
            except ProfileError as error:
                self.unavailable[name] = error.message
                continue
            self.tried.append(name)
            yield profile, credentials

    def worked(self, profile: Profile) -> Profile:
        _quietly(self.store, "remember the profile", lambda s: s.remember_profile(self.host, profile.name))
        return profile

    def exhausted(self) -> NoWorkingProfileError:
        if self.tried:
            _quietly(self.store, "forget the profile", lambda s: s.forget_profile(self.host))
        untried = tuple(n for n in self.names if n not in self.tried and n not in self.unavailable)
        return NoWorkingProfileError(self.host, tuple(self.tried), untried, tuple(self.unavailable.values()))


def _quietly(store: Store | None, what: str, use: Callable[[Store], T]) -> T | None:
    """``use(store)``; a store that fails (corrupt, locked) only costs the memory: a warning, then None.
    Logging in never stops for the store's sake."""
    if store is None:
        return None
    from amtkit.store import StoreError

    try:
        return use(store)
    except StoreError as error:
        log.warning("%s; continuing without the store (could not %s)", printable(error), what)
        return None


def _check_login(client: Client) -> object:
    from amtkit.wsman.names import Cls

    return client.get(Cls.AMT_GeneralSettings)


def connect(
    host: str,
    profiles: ProfileSet,
    store: Store | None = None,
    *,
    check: Callable[[Client], object] = _check_login,
    max_tries: int | None = None,
    **client_options: Any,
) -> tuple[Profile, Client]:
    """Open a :class:`~amtkit.client.Client` to ``host`` with the first profile that logs in.

    Profiles are tried in :meth:`ProfileSet.ordered_for` order, at most ``max_tries`` (AMT
    anti-hammering); each try opens a client with ``client_options`` (port, tls, timeout...) and
    calls ``check(client)``, by default a Get of ``AMT_GeneralSettings`` (one round trip after the
    digest challenge; the nonce is then reused by the returned client). A rejected login moves on;
    any other error closes the client and propagates. The profile that works is remembered in
    ``store``. Raises :class:`NoWorkingProfileError` naming the profiles tried when none works.
    """
    def attempt(credentials: Credentials) -> Client:
        return login(host, credentials, check=check, **client_options)

    refuse_if_known_unprovisioned(host, store)
    return profiles.first_working(host, attempt, store, max_tries=max_tries)


def refuse_if_known_unprovisioned(host: str, store: Store | None) -> None:
    """Spend no login on a host whose last discovery record says it is not provisioned.

    Such a device has no account yet: every profile would fail, and each failure counts toward AMT's
    anti-hammering lockout once it is provisioned. Raises :class:`~amtkit.exceptions.NotProvisionedError`.
    """
    from .codes import PTStatus
    from .discovery.rmcp import ProvisioningState as PongState

    record = _quietly(store, "read the discovery record", lambda s: s.get(host))
    if record is None or record.provisioning_state not in (PongState.PRE, PongState.IN):
        return
    seen = record.seen_at.strftime("%Y-%m-%d %H:%M UTC") if record.seen_at else "earlier"
    raise exc.NotProvisionedError(
        f"discovery saw this device not provisioned ({seen}): no profile was tried, as no account exists yet",
        return_value=int(PTStatus.INVALID_PROVISIONING_STATE), host=host,
        hint=f"provision it first; if it has been provisioned since, run `amtkit discover {host}` to update the record")


def login(host: str, credentials: Credentials, *, check: Callable[[Client], object] = _check_login,
          **client_options: Any) -> Client:
    """A :class:`~amtkit.client.Client` for ``host`` whose login ``check(client)`` succeeded.

    Raises what ``check`` raises (:class:`~amtkit.exceptions.AuthenticationError` for refused
    credentials), after closing the client.
    """
    from amtkit.client import Client

    client = Client(host, username=credentials.username, password=credentials.password, **client_options)
    try:
        check(client)
    except BaseException:
        client.close()
        raise
    return client
