"""Outbound HTTP to addresses users give (webhook targets, IndieAuth client pages): only to
public addresses, checked on the URL's host and again on what DNS answers, connecting to
exactly the address checked; one bounded, synchronous exchange, never a redirect followed."""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from blogapi.observability.tracing import outbound_span

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Names that only resolve inside a network: refused without asking any resolver.
INTERNAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa", ".lan")
# Cloud metadata services; each also sits in a non-public range, named here to say so.
METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
# One part of an IPv4 address as inet_aton reads it: hex, octal (leading 0) or decimal.
V4_PART = re.compile(r"0x[0-9a-f]*|0[0-7]*|[1-9][0-9]*")
# Digits, dots and hex that no reading above accepts (08.1, 1.2.3.4.5): refused, not resolved.
NUMERIC_HOST = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+))*")
NO_HEADERS: Mapping[str, str] = MappingProxyType({})
DEFAULT_PORTS = {"http": 80, "https": 443}
CHUNK = 65536


class OutboundRefused(Exception):
    """The target is not a public address (or not a URL we may fetch at all)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class OutboundFailed(Exception):
    """The fetch could not be made or finished: DNS, connection, timeout, TLS, size, bad URL."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class Fetched:
    """One HTTP answer: its status, headers and body (at most max_bytes), and the URL asked."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes
    url: str


def literal_address(host: str) -> Address | None:
    """The address a host spells (IPv6 with or without brackets, or IPv4 in any inet_aton
    spelling: 127.0.0.1, 2130706433, 0x7f.1, 0177.0.0.1), else None; a zone id is refused."""
    host = host.lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        if "%" in host:
            raise OutboundRefused(f"An IPv6 address with a zone id is not a public address: {host}")
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            return None
    return inet_aton(host.removesuffix("."))


def inet_aton(host: str) -> ipaddress.IPv4Address | None:
    """An IPv4 address in 1 to 4 parts, each decimal, octal or hex, the last filling the rest."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(V4_PART.fullmatch(part) for part in parts):
        return None
    values = [
        int(part[2:] or "0", 16)
        if part.startswith("0x")
        else int(part, 8 if part[0] == "0" else 10)
        for part in parts
    ]
    last_bits = 8 * (5 - len(values))
    if any(value > 255 for value in values[:-1]) or values[-1] >= 1 << last_bits:
        return None
    number = values[-1]
    for index, value in enumerate(values[:-1]):
        number |= value << (24 - 8 * index)
    return ipaddress.IPv4Address(number)


def is_public_address(ip: Address) -> bool:
    """Whether an address is public unicast: not loopback, private, link-local, unique-local,
    CGNAT, multicast, reserved, documentation or metadata, nor such an IPv4 inside IPv6."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and any(ip in network for network in NAT64):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public_address(embedded)
        if ip.teredo is not None and not all(map(is_public_address, ip.teredo)):
            return False
        if ip.is_site_local:
            return False
    return (
        ip.is_global
        and ip not in METADATA
        and not (
            ip.is_multicast
            or ip.is_private
            or ip.is_reserved
            or ip.is_loopback
            or ip.is_link_local
            or ip.is_unspecified
        )
    )


def is_internal_host(host: str) -> bool:
    """Whether a host names a non-public address, or a name that only a local network
    resolves (localhost, *.local, *.internal, a single label); no DNS is asked."""
    host = host.rstrip(".").lower()
    try:
        address = literal_address(host)
    except OutboundRefused:
        return True
    if address is not None:
        return not is_public_address(address)
    if ":" in host or host.startswith("["):  # an IPv6 literal ipaddress does not read
        return True
    if host == "localhost" or host.endswith(INTERNAL_SUFFIXES) or "." not in host:
        return True
    return NUMERIC_HOST.fullmatch(host) is not None


def check_url(url: str, *, allow_private: bool) -> None:
    """Refuse anything but an http(s) URL without userinfo to a public host (no DNS asked):
    OutboundFailed when it is no such URL, OutboundRefused when it points inside a network."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (a port that is no number raises here)
    except ValueError as error:
        raise OutboundFailed(f"Not a URL we can fetch: {url[:100]!r} ({error}).") from None
    if (
        parts.scheme not in DEFAULT_PORTS
        or not parts.hostname
        or re.search(r"[\x00-\x20\x7f]", url)
    ):
        raise OutboundFailed(f"Not an absolute http(s) URL: {url[:100]!r}.")
    if "@" in parts.netloc:
        raise OutboundRefused(f"A URL with a user name or password is not fetched: {url[:100]!r}.")
    literal_address(parts.hostname)  # a zone id is refused even among private addresses
    if not allow_private and is_internal_host(parts.hostname):
        raise OutboundRefused(f"{parts.hostname} is not a public address.")


def host_and_port(url: str) -> tuple[str, int]:
    """The host name as DNS spells it (IDNA) and the port of a checked http(s) URL."""
    parts = urlsplit(url)
    host = str(parts.hostname)
    try:
        host = host if host.isascii() else host.encode("idna").decode("ascii")
    except UnicodeError:
        raise OutboundFailed(f"Not a host name we can look up: {host!r}.") from None
    return host, parts.port or DEFAULT_PORTS[parts.scheme]


def check_reachable(url: str, *, allow_private: bool, timeout: float) -> None:
    """check_url, and the host's name resolves (within timeout) to addresses it allows."""
    check_url(url, allow_private=allow_private)
    host, port = host_and_port(url)
    resolve(host, port, allow_private=allow_private, timeout=timeout)


def lookup(host: str, port: int, timeout: float) -> list[Any]:
    """getaddrinfo within `timeout` seconds: it takes no timeout of its own, so it runs on a
    daemon thread that is left to finish alone when it takes longer."""
    found: list[Any] = []
    failed: list[BaseException] = []

    def ask() -> None:
        try:
            found.extend(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except (OSError, UnicodeError) as error:
            failed.append(error)

    thread = threading.Thread(target=ask, daemon=True, name="outbound-dns")
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise OutboundFailed(f"{host} could not be resolved within {timeout:g} s.")
    if failed:
        raise OutboundFailed(f"{host} could not be resolved ({failed[0]}).")
    return found


def resolve(host: str, port: int, *, allow_private: bool, timeout: float = 10.0) -> str:
    """The first address DNS gives for host (within `timeout` seconds), once every address it
    gives has been checked."""
    answers = lookup(host, port, timeout)
    found = [str(a[4][0]) for a in answers if a[0] in (socket.AF_INET, socket.AF_INET6)]
    if not found:
        raise OutboundFailed(f"{host} has no IPv4 or IPv6 address.")
    for text in found:
        if not allow_private and not is_public_address(ipaddress.ip_address(text.split("%")[0])):
            raise OutboundRefused(f"{host} resolves to {text}, which is not a public address.")
    return found[0]


class Watchdog:
    """Cuts a connection off once the whole exchange has taken its time."""

    def __init__(self, sock: socket.socket, seconds: float) -> None:
        self.fileno = sock.fileno()  # the same number once TLS wraps the socket
        self.lock = threading.Lock()
        self.expired = self.done = False
        self.timer = threading.Timer(seconds, self.expire)
        self.timer.daemon = True
        self.timer.start()

    def expire(self) -> None:
        """Shut the socket down under whatever wraps it, so a blocked read returns."""
        with self.lock:
            if self.done:
                return
            self.expired = True
            raw = socket.socket(fileno=self.fileno)
            try:
                raw.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            finally:
                raw.detach()

    def stop(self) -> None:
        """Called before the socket is closed, so its number is never shut down once reused."""
        with self.lock:
            self.done = True
        self.timer.cancel()


class PinnedConnection(http.client.HTTPConnection):
    """An HTTP connection over a socket already connected to the checked address."""

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        super().__init__("pinned.invalid", timeout=timeout)
        self.sock = sock

    def connect(self) -> None:
        """Already connected."""


def fetch(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: Mapping[str, str] = NO_HEADERS,
    timeout: float,
    max_bytes: int,
    allow_private: bool,
) -> Fetched:
    """One HTTP exchange with a public address, within timeout seconds in all, reading at
    most max_bytes of body; a redirect is returned as it came (traced when the app is)."""
    with outbound_span(method, url) as answered:
        fetched = exchange(
            url,
            method=method,
            body=body,
            headers=headers,
            timeout=timeout,
            max_bytes=max_bytes,
            allow_private=allow_private,
        )
        answered(fetched.status)
        return fetched


def exchange(
    url: str,
    *,
    method: str,
    body: bytes | None,
    headers: Mapping[str, str],
    timeout: float,
    max_bytes: int,
    allow_private: bool,
) -> Fetched:
    """fetch(), untraced."""
    check_url(url, allow_private=allow_private)
    parts = urlsplit(url)
    host, port = host_and_port(url)
    deadline = time.monotonic() + timeout
    address = resolve(host, port, allow_private=allow_private, timeout=timeout)
    try:
        sock = socket.create_connection((address, port), max(deadline - time.monotonic(), 0.001))
    except OSError as error:
        raise OutboundFailed(f"Could not connect to {host} at {address} ({error}).") from None
    watchdog = Watchdog(sock, max(deadline - time.monotonic(), 0.001))
    try:
        if parts.scheme == "https":
            sock = ssl.create_default_context().wrap_socket(
                sock, server_hostname=host, do_handshake_on_connect=False
            )
            sock.do_handshake()
        connection = PinnedConnection(sock, timeout)
        sent = {k: v for k, v in headers.items() if k.lower() != "host"}
        sent["Host"] = (f"[{host}]" if ":" in host else host) + (
            f":{parts.port}" if parts.port is not None else ""
        )
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request(method, target, body=body, headers=sent)
        response = connection.getresponse()
        length = response.getheader("Content-Length", "")
        if length.isdigit() and int(length) > max_bytes:
            raise OutboundFailed(f"{url[:100]}: the answer is larger than {max_bytes} bytes.")
        chunks: list[bytes] = []
        size = 0
        while chunk := response.read(min(CHUNK, max_bytes + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                raise OutboundFailed(f"{url[:100]}: the answer is larger than {max_bytes} bytes.")
        if watchdog.expired:
            raise TimeoutError
        return Fetched(response.status, response.headers, b"".join(chunks), url)
    except (OSError, http.client.HTTPException, ValueError) as error:
        if watchdog.expired or isinstance(error, TimeoutError):
            raise OutboundFailed(f"{host} did not answer within {timeout:g} s.") from None
        if isinstance(error, ssl.SSLError | ssl.CertificateError):
            raise OutboundFailed(f"TLS with {host} failed ({error}).") from None
        raise OutboundFailed(f"The exchange with {host} failed ({error!r}).") from None
    finally:
        watchdog.stop()
        sock.close()
