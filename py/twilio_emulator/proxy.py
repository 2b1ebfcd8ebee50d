"""The way in: an HTTP CONNECT proxy on loopback that terminates TLS for *.twilio.com with a throwaway CA.

Production code reaches Twilio through it unchanged: Node through HTTP_PROXY and NODE_EXTRA_CA_CERTS (and, for
clients on Node's default HTTPS agent, HTTPS_PROXY with the preload NODE_OPTIONS names: node_https_proxy.js),
Python's requests through HTTPS_PROXY and REQUESTS_CA_BUNDLE. Other hosts are refused. It listens on a
loopback address only: a test double for this machine's clients, with a throwaway CA, is no service to expose.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import ssl
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import trustme

from .faults import DroppedConnection
from .pipeline import Emulator
from .routes import TWILIO_DOMAIN

# Loaded into Node clients so that Node's default HTTPS agent goes through the proxy too (it says why).
NODE_HTTPS_PROXY = Path(__file__).with_name("node_https_proxy.js")


class _TwilioHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # An answer goes out in two writes (head, then body): with Nagle's algorithm the body waited for
    # the client's delayed ACK, up to 40 ms a request.
    disable_nagle_algorithm = True
    server: _ProxyServer
    tunnel_host: str | None = None

    def do_CONNECT(self) -> None:  # noqa: N802 (http.server's naming)
        host, _, port = self.path.rpartition(":")
        if not (host == TWILIO_DOMAIN or host.endswith("." + TWILIO_DOMAIN)) or port != "443":
            self.send_error(403, f"the Twilio emulator only intercepts *.{TWILIO_DOMAIN}:443, not {self.path}")
            return
        self.send_response(200, "Connection Established")
        self.end_headers()
        self.wfile.flush()
        try:
            self.connection = self.server.tls.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            self.close_connection = True
            return
        self.rfile = self.connection.makefile("rb")
        self.wfile = self.connection.makefile("wb")
        self.tunnel_host = host
        self.close_connection = False

    def _serve(self) -> None:
        if self.tunnel_host is None:
            self.send_error(400, "connect through the proxy: CONNECT <host>.twilio.com:443")
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {key.lower(): value for key, value in self.headers.items()}
        host = (headers.get("host") or self.tunnel_host).split(":")[0]
        try:
            emulator = self.server.emulator
            status, response, answered_headers = emulator.respond(self.command, host, self.path, headers, body)
        except DroppedConnection:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        payload = b"" if response is None else json.dumps(response).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Twilio-Request-Id", "RQ" + "0" * 32)
        for name, value in answered_headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _serve  # noqa: N815

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        """Silent: the emulator records requests itself."""


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver listens with a backlog of 5: a burst of concurrent clients (every Twilio request opens its
    # own tunnel) overflowed it, and the dropped connections waited 1 s or 3 s for TCP to try again.
    request_queue_size = 128

    def __init__(self, emulator: Emulator, tls: ssl.SSLContext, address: tuple[str, int]):
        super().__init__(address, _TwilioHandler)
        self.emulator, self.tls = emulator, tls

    def handle_error(self, request, client_address) -> None:
        """Quiet about a client that hung up (it gave up on a slow
        answer, as a timed-out request does); loud otherwise."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError)):
            super().handle_error(request, client_address)


def is_loopback(host: str) -> bool:
    """Whether `host` is an IPv4 loopback address (127.0.0.0/8), the only kind the proxy listens on."""
    try:
        return ipaddress.IPv4Address(host).is_loopback
    except ValueError:
        return False


class EmulatorProxy:
    """A running proxy in front of an `Emulator`, with the CA certificate its clients must trust.

    It listens on `host` (an IPv4 loopback address, else ValueError) and `port` (0: a free one); OSError if it cannot.
    """

    def __init__(self, emulator: Emulator, host: str = "127.0.0.1", port: int = 0):
        if not is_loopback(host):
            raise ValueError(f"the emulator's proxy listens on a loopback address only (127.0.0.1), not {host!r}")
        self.emulator = emulator
        self._directory = tempfile.TemporaryDirectory(prefix="twilio-emulator-")
        authority = trustme.CA(organization_name="Twilio emulator (throwaway, this run only)")
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        authority.issue_cert(f"*.{TWILIO_DOMAIN}", TWILIO_DOMAIN).configure_cert(tls)
        self.ca_path = Path(self._directory.name) / "ca.pem"
        authority.cert_pem.write_to_path(str(self.ca_path))
        try:
            self._server = _ProxyServer(emulator, tls, (host, port))
        except OSError:
            self._directory.cleanup()
            raise
        self._thread = threading.Thread(target=self._server.serve_forever, name="twilio-emulator", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def client_environment(self) -> dict[str, str]:
        """What a Node or Python process needs in its environment to reach Twilio through this proxy."""
        return {
            "HTTP_PROXY": self.url,
            "HTTPS_PROXY": self.url,
            "NODE_EXTRA_CA_CERTS": str(self.ca_path),
            "NODE_OPTIONS": f'--require "{NODE_HTTPS_PROXY}"',
            "REQUESTS_CA_BUNDLE": str(self.ca_path),
            "NO_PROXY": "127.0.0.1,localhost",
        }

    def start(self) -> EmulatorProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():  # shutdown() waits for serve_forever(), which only a start() runs
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
        self._directory.cleanup()

    def __enter__(self) -> EmulatorProxy:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
