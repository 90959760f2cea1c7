"""The kinds of value an inventory holds, each checked when the inventory is read.

Addresses, paths and schedules stay plain strings, kept exactly as written: the checks
compare them with what the hosts print ("91.224.148.84/32" in `ip addr`, a DNAT target in
`iptables-save`), so a value is validated here and never rewritten.

Why each rule:
- names (hosts, services, volumes…) become ssh_config `Host` aliases, test ids and shell
  words: letters, digits, ".", "_", "-" only, so "*" or "a b" cannot turn into a pattern
  or two arguments;
- remote paths are put into shell commands run as root: absolute, no spaces or shell
  characters;
- an ssh address is an IP address or a DNS host name (it becomes ssh's HostName); a
  name whose last label is a number ("999.1.1.1") is a mistyped address, not a name;
- integers are strict (`true` is not 1, "22" is not 22) and bounded; floats are finite
  (`allow_inf_nan=False` in the models' config).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated
import zoneinfo
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, Strict

from picacheck.facts.crontab import parse_schedule
from picacheck.facts.errors import ParseError


def shown(value: object, limit: int = 60) -> str:
    """repr() of a value, shortened: error messages stay one short line."""
    try:
        text = repr(value)
    except ValueError:  # an int of more than 4300 digits (sys.get_int_max_str_digits)
        return "<a number too long to show>"
    return text if len(text) <= limit else text[: limit - 4] + "…" + text[-3:]


def _checked(check):
    """A pydantic validator that runs `check(value)` and keeps the value as written."""

    def validate(value: str) -> str:
        check(value)
        return value

    return AfterValidator(validate)


# --- names and text ----------------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_WORD = re.compile(r"[^\s\x00-\x1f\x7f]+")
_REMOTE_PATH = re.compile(r"/[A-Za-z0-9._/@%+=:,~-]*")
_URL_PATH = re.compile(r"/[^\s\x00-\x1f\x7f]*")
_ENV_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BRICK = re.compile(_NAME.pattern + ":" + _REMOTE_PATH.pattern)


def _matching(pattern: re.Pattern, expected: str):
    """A check that the whole value matches `pattern`, else says what was `expected`."""

    def check(value: str) -> None:
        if not pattern.fullmatch(value):
            raise ValueError(f"{expected}: {shown(value)}")

    return check


def _name(value: str) -> None:
    if not value:
        raise ValueError("an empty name")
    _matching(_NAME, "not a name (letters, digits, '.', '_', '-'; a letter or digit first)")(value)


def _text(value: str) -> None:
    if not value.strip() or not value.isprintable():
        raise ValueError(f"expected a non-empty line of text: {shown(value)}")


Name = Annotated[str, _checked(_name)]


def _time_zone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"not a time zone (an IANA name such as UTC or Europe/Paris): {value!r}") from None
    return value


TimeZone = Annotated[str, _checked(_time_zone)]
Word = Annotated[str, _checked(_matching(_WORD, "expected one word (not empty, no spaces)"))]
Text = Annotated[str, _checked(_text)]
RemotePath = Annotated[str, _checked(_matching(_REMOTE_PATH,
                                               "expected an absolute path without spaces or shell characters"))]
# ssh_config's IdentityFile is written unquoted: a space would split the path.
LocalPath = Annotated[str, _checked(_matching(_WORD, "expected a file path (not empty, no spaces)"))]
UrlPath = Annotated[str, _checked(_matching(_URL_PATH, "expected a path starting with '/' (no spaces)"))]
EnvVar = Annotated[str, _checked(_matching(_ENV_VAR, "not an environment variable name"))]
# "pica01:/gluster-data" (consistency.py checks that the host is a gluster peer)
Brick = Annotated[str, _checked(_matching(_BRICK, "expected host:/path"))]


# --- numbers -----------------------------------------------------------------------------

Int = Annotated[int, Strict()]
Number = Annotated[float, Strict()]  # strict float still takes an int (6 hours), not `true`
Port = Annotated[int, Strict(), Field(ge=1, le=65535)]


# --- addresses ---------------------------------------------------------------------------

_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def _ip(value: str, version: int | None = None) -> None:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        address = None
    if address is None or (version and address.version != version):
        raise ValueError(f"not an {_family(version)} address: {shown(value)}")


def _family(version: int | None) -> str:
    return {4: "IPv4", 6: "IPv6"}.get(version, "IP")


def _prefixed(value: str, make, version: int | None):
    """value parsed by `make` when written address/prefix-length ("10.0.42.1/24"), else None.

    A netmask ("/255.255.255.0") is refused: `ip addr` and iptables-save show a length."""
    _, slash, prefix = value.partition("/")
    if not (slash and prefix.isascii() and prefix.isdigit()):
        return None
    try:
        parsed = make(value)
    except ValueError:
        return None
    return parsed if version is None or parsed.version == version else None


def _interface(value: str, version: int | None = None) -> None:
    """An address with its prefix length, as on an interface ("91.224.148.84/32")."""
    if _prefixed(value, ipaddress.ip_interface, version) is None:
        raise ValueError(f"not an {_family(version)} address/prefix: {shown(value)}")


def _network(value: str) -> None:
    """A network ("10.0.42.0/24"): host bits 0, as iptables-save shows a source."""
    if _prefixed(value, ipaddress.ip_network, None) is None:
        raise ValueError(f"not a network address/prefix (host bits must be 0): {shown(value)}")


def _host_name(value: str) -> None:
    """A DNS host name; a last label of digits means a mistyped IPv4 address."""
    name = value.removesuffix(".")
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels) or labels[-1].isdigit():
        raise ValueError(f"not a host name: {shown(value)}")


def _host_address(value: str) -> None:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        try:
            _host_name(value)
        except ValueError:
            raise ValueError(f"not an IP address or host name: {shown(value)}") from None


def _endpoint(value: str) -> None:
    """address:port, an IPv6 address in brackets ("10.0.42.2:80", "[::1]:9200")."""
    host, colon, port = value.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        ok_family = ":" in host
    else:
        ok_family = ":" not in host
    try:
        ipaddress.ip_address(host)
        ok_port = port.isascii() and port.isdigit() and 1 <= int(port) <= 65535
    except ValueError:
        ok_port = False
    if not (colon and ok_family and ok_port):
        raise ValueError(f"expected address:port (an IPv6 address in brackets): {shown(value)}")


def _url(value: str) -> None:
    problem = f"expected an http(s) URL with a host: {shown(value)}"
    if not _WORD.fullmatch(value):
        raise ValueError(problem)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises ValueError for a port out of range
    except ValueError:
        raise ValueError(problem) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(problem)
    _host_address(parts.hostname)


IPAddress = Annotated[str, _checked(_ip)]
IPv4Address = Annotated[str, _checked(lambda value: _ip(value, 4))]
IPv6Address = Annotated[str, _checked(lambda value: _ip(value, 6))]
IPInterface = Annotated[str, _checked(_interface)]
IPv4Interface = Annotated[str, _checked(lambda value: _interface(value, 4))]
IPv6Interface = Annotated[str, _checked(lambda value: _interface(value, 6))]
IPNetwork = Annotated[str, _checked(_network)]
HostName = Annotated[str, _checked(_host_name)]
HostAddress = Annotated[str, _checked(_host_address)]  # ssh HostName: IP address or DNS name
Endpoint = Annotated[str, _checked(_endpoint)]
Url = Annotated[str, _checked(_url)]


# --- schedules ---------------------------------------------------------------------------


def _schedule(value: str) -> None:
    """Five cron fields or an @special, read by the same parser as the hosts' crontabs."""
    fields = value.split()
    if not value.lstrip().startswith("@") and len(fields) != 5:
        raise ValueError(f"not a cron schedule (five time fields or an @special, found {len(fields)} words): "
                         f"{shown(value)}")
    try:
        entry = parse_schedule(value)
    except ParseError as error:
        raise ValueError(f"not a cron schedule ({error.reason}): {shown(value)}") from None
    if entry.fields is None:
        raise ValueError(f"@reboot has no time of day, a schedule needs one: {shown(value)}")


Schedule = Annotated[str, _checked(_schedule)]
