"""Outbound fetches to URLs users give (webhook targets, IndieAuth client pages): a target
inside a network is refused however its address is spelled or whatever DNS answers for it,
and a fetch is one bounded exchange with exactly the address that was checked."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from blogapi.security.outbound import (
    OutboundFailed,
    OutboundRefused,
    check_url,
    fetch,
    is_internal_host,
    is_public_address,
    literal_address,
)

pytestmark = pytest.mark.database_agnostic

INSIDE = [
    "127.0.0.1",
    "2130706433",
    "0x7f000001",
    "0177.0.0.1",
    "127.1",
    "0x7f.0.0.1",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",
    "169.254.169.254",
    "0.0.0.0",
    "224.0.0.1",
    "255.255.255.255",
    "192.0.2.1",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[fe80::1]",
    "[fc00::1]",
    "[fd00:ec2::254]",
    "[64:ff9b::a00:1]",
    "[2002:a00:1::]",
    "[2001:db8::1]",
    "[ff02::1]",
    "localhost",
    "foo.localhost",
    "printer.local",
    "metadata.google.internal",
    "intranet",
    "08.0.0.1",
]
PUBLIC = [
    "example.com",
    "93.184.216.34",
    "[2606:2800:220:1:248:1893:25c8:1946]",
    "[::ffff:93.184.216.34]",
    "[64:ff9b::5db8:d822]",
    "[2002:5db8:d822::]",
]
SPELLINGS = {
    "127.0.0.1": "127.0.0.1",
    "2130706433": "127.0.0.1",
    "0x7f000001": "127.0.0.1",
    "0177.0.0.1": "127.0.0.1",
    "127.1": "127.0.0.1",
    "0x7f.1": "127.0.0.1",
    "0x7f.0.0.1": "127.0.0.1",
    "10.1.0x2": "10.1.0.2",
    "0300.0250.1.1": "192.168.1.1",
    "[::ffff:7f00:1]": "::ffff:7f00:1",
    "::1": "::1",
    "example.com": None,
    "1.2.3.4.5": None,
    "256.0.0.1": None,
    "08.0.0.1": None,
}


@pytest.mark.parametrize("host", INSIDE)
def test_a_url_inside_a_network_is_refused_before_any_lookup(host):
    with pytest.raises(OutboundRefused):
        check_url(f"https://{host}/hook", allow_private=False)
    assert is_internal_host(host.strip("[]"))


@pytest.mark.parametrize("host", PUBLIC)
def test_a_url_to_a_public_host_is_accepted(host):
    check_url(f"https://{host}/hook", allow_private=False)
    assert not is_internal_host(host.strip("[]"))


@pytest.mark.parametrize(("host", "address"), SPELLINGS.items())
def test_every_spelling_of_an_address_reads_as_that_address(host, address):
    found = literal_address(host)
    assert (found and str(found)) == address


def test_an_address_inside_ipv6_is_judged_by_the_ipv4_it_carries():
    assert not is_public_address(ipaddress.ip_address("64:ff9b::c0a8:101"))
    assert not is_public_address(ipaddress.ip_address("2001:0:4136:e378:8000:63bf:f5ff:fffe"))
    assert is_public_address(ipaddress.ip_address("::ffff:8.8.8.8"))


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("ftp://example.com/", OutboundFailed),
        ("file:///etc/passwd", OutboundFailed),
        ("//example.com/", OutboundFailed),
        ("http://example.com:99999/", OutboundFailed),
        ("http://exa mple.com/", OutboundFailed),
        ("http://user:secret@example.com/", OutboundRefused),
        ("http://example.com@127.0.0.1/", OutboundRefused),
        ("http://[fe80::1%25eth0]/", OutboundRefused),
    ],
)
def test_only_plain_http_urls_are_fetched(url, error):
    with pytest.raises(error):
        check_url(url, allow_private=True)


def test_private_targets_pass_the_check_when_allowed():
    check_url("http://127.0.0.1:8080/hook", allow_private=True)
    check_url("http://localhost/hook", allow_private=True)


@dataclass
class Server:
    """A loopback HTTP server, the requests it saw, and a switch that ends its slow answers."""

    port: int
    seen: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        """This server's URL for path, under host."""
        return f"http://{host}:{self.port}{path}"


def handler_for(server: Server) -> type[BaseHTTPRequestHandler]:
    """A request handler that records each request in server.seen and answers by path."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length) if length else b""
            server.seen.append((self.command, self.path, dict(self.headers), body))
            if self.path == "/slow":
                server.stop.wait(5)
            if self.path == "/drip":
                self.send_response(200)
                self.end_headers()
                for _ in range(25):
                    if server.stop.wait(0.2):
                        return
                    self.wfile.write(b".")
                    self.wfile.flush()
                return
            if self.path == "/moved":
                self.send_response(302)
                self.send_header("Location", "/target")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.path.startswith("/big"):
                reply = b"x" * 2000
                self.send_response(200)
                if self.path == "/big":
                    self.send_header("Content-Length", str(len(reply)))
                else:
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(reply)
                return
            reply = b"hello " + body
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("X-Seen-Host", self.headers.get("Host", ""))
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

    return Handler


class QuietServer(ThreadingHTTPServer):
    """A threading HTTP server that keeps quiet about clients that hang up or refuse TLS."""

    def handle_error(self, request: object, client_address: object) -> None:
        pass


def serve(server: Server, context: ssl.SSLContext | None = None) -> Iterator[Server]:
    """Run a loopback server (over TLS with context) until the test is done."""
    httpd = QuietServer(("127.0.0.1", 0), handler_for(server))
    if context is not None:
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def site() -> Iterator[Server]:
    """Someone's web server, on this machine's loopback address."""
    yield from serve(Server(0))


@pytest.fixture
def dns(monkeypatch):
    """Names the resolver answers with the addresses a test gives; others as usual."""
    answers: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            return [
                (
                    socket.AF_INET6 if ":" in a else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (a, port),
                )
                for a in answers[host]
            ]
        if str(host).endswith(".example"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


def test_a_fetch_allowed_to_loopback_gets_status_headers_and_body(site):
    fetched = fetch(
        site.url("/hello?x=1"),
        method="POST",
        body=b"world",
        headers={"User-Agent": "blogapi (+https://blog.example)", "Content-Type": "text/plain"},
        timeout=5,
        max_bytes=1000,
        allow_private=True,
    )
    assert (fetched.status, fetched.body) == (200, b"hello world")
    assert fetched.headers["Content-Type"] == "text/plain"
    assert fetched.url == site.url("/hello?x=1")
    [(method, path, headers, body)] = site.seen
    assert (method, path, body) == ("POST", "/hello?x=1", b"world")
    assert headers["User-Agent"] == "blogapi (+https://blog.example)"
    assert headers["Host"] == f"127.0.0.1:{site.port}"


def test_a_fetch_to_loopback_is_refused_and_nothing_is_sent(site):
    with pytest.raises(OutboundRefused):
        fetch(site.url("/hello"), timeout=5, max_bytes=1000, allow_private=False)
    with pytest.raises(OutboundRefused):
        fetch(site.url("/hello", "2130706433"), timeout=5, max_bytes=1000, allow_private=False)
    assert site.seen == []


def test_a_name_that_resolves_to_loopback_is_refused_after_the_lookup(site, dns):
    dns["rebind.example"] = ["127.0.0.1"]
    with pytest.raises(OutboundRefused, match=r"127\.0\.0\.1"):
        fetch(site.url("/hello", "rebind.example"), timeout=5, max_bytes=1000, allow_private=False)
    assert site.seen == []


def test_one_private_address_among_public_ones_refuses_the_name(site, dns):
    dns["mixed.example"] = ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "127.0.0.1"]
    with pytest.raises(OutboundRefused, match=r"127\.0\.0\.1"):
        fetch(site.url("/hello", "mixed.example"), timeout=5, max_bytes=1000, allow_private=False)
    dns["mapped.example"] = ["::ffff:10.0.0.1"]
    with pytest.raises(OutboundRefused):
        fetch(site.url("/", "mapped.example"), timeout=5, max_bytes=1000, allow_private=False)
    assert site.seen == []


def test_the_fetch_connects_to_the_address_resolved_and_names_the_host_it_was_given(site, dns):
    dns["hooks.example"] = ["127.0.0.1"]
    fetched = fetch(
        site.url("/hello", "hooks.example"), timeout=5, max_bytes=1000, allow_private=True
    )
    assert fetched.headers["X-Seen-Host"] == f"hooks.example:{site.port}"


def test_an_unknown_name_fails(dns):
    with pytest.raises(OutboundFailed, match="resolved"):
        fetch("http://nowhere.example/", timeout=5, max_bytes=1000, allow_private=False)


def test_a_closed_port_fails():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(OutboundFailed, match="connect"):
        fetch(f"http://127.0.0.1:{port}/", timeout=5, max_bytes=1000, allow_private=True)


def test_a_server_slower_than_the_timeout_fails(site):
    with pytest.raises(OutboundFailed, match="within"):
        fetch(site.url("/slow"), timeout=0.5, max_bytes=1000, allow_private=True)


def test_a_server_that_drips_its_answer_fails_at_the_overall_deadline(site):
    started = time.monotonic()
    with pytest.raises(OutboundFailed, match="within"):
        fetch(site.url("/drip"), timeout=0.5, max_bytes=1000, allow_private=True)
    assert time.monotonic() - started < 4  # the drip alone lasts 5 s


@pytest.mark.parametrize("path", ["/big", "/big-unsized"])
def test_an_answer_larger_than_the_limit_fails(site, path):
    with pytest.raises(OutboundFailed, match="larger than 1000"):
        fetch(site.url(path), timeout=5, max_bytes=1000, allow_private=True)
    assert len(fetch(site.url(path), timeout=5, max_bytes=2000, allow_private=True).body) == 2000


def test_a_redirect_comes_back_as_it_is_and_is_not_followed(site):
    fetched = fetch(site.url("/moved"), timeout=5, max_bytes=1000, allow_private=True)
    assert (fetched.status, fetched.headers["Location"]) == (302, "/target")
    assert [path for _, path, _, _ in site.seen] == ["/moved"]


def self_signed(directory: Path) -> ssl.SSLContext:
    """A server TLS context with a certificate for 127.0.0.1 that nobody trusts."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    (directory / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    return context


def test_https_to_a_certificate_nobody_vouches_for_fails(tmp_path):
    for server in serve(Server(0), self_signed(tmp_path)):
        with pytest.raises(OutboundFailed, match="TLS"):
            fetch(
                f"https://127.0.0.1:{server.port}/hello",
                timeout=5,
                max_bytes=1000,
                allow_private=True,
            )
        assert server.seen == []


def test_a_resolver_that_never_answers_fails_within_the_timeout(site, monkeypatch):
    release = threading.Event()

    def stuck(host, port, *args, **kwargs):
        release.wait(30)  # a resolver behind a dropped packet
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", stuck)
    try:
        with pytest.raises(OutboundFailed, match=r"could not be resolved within 0\.3 s"):
            fetch(site.url("/", "slow-dns.example"), timeout=0.3, max_bytes=1000,
                  allow_private=True)  # fmt: skip
    finally:
        release.set()
    assert site.seen == []
