"""A web server on loopback that stands for a webhook's receiver (a bot, a TaskRouter event handler) in the tests."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


class Receiver:
    """A web server on 127.0.0.1 that keeps what it receives and answers each path's status (200 by default), with the
    path's TwiML when `twiml` has one (a voice URL's answer)."""

    def __init__(self):
        self.received: list[dict] = []
        self.statuses: dict[str, list[int]] = {}
        self.twiml: dict[str, str] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                path = urlsplit(self.path).path
                receiver.received.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "params": dict(parse_qsl(body)),
                        "body": body,
                        "signature": self.headers.get("X-Twilio-Signature"),
                        "content_type": self.headers.get("Content-Type"),
                    }
                )
                queued = receiver.statuses.get(path)
                self.send_response(queued.pop(0) if queued else 200)
                document = receiver.twiml.get(path)
                if document is not None:
                    self.send_header("Content-Type", "text/xml")
                    self.send_header("Content-Length", str(len(document.encode())))
                self.end_headers()
                if document is not None:
                    self.wfile.write(document.encode())

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
