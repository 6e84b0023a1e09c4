"""Around the Flask app: one request at a time, a record of each, and answers lost on purpose.

Requests are serialised because the company's state is plain Python
objects; Fortnox itself is not a concern here, only that the sandbox never
corrupts its own state under a threaded client. A lost answer is a write
that was committed and whose connection is then shut down before a byte
of the answer leaves (the socket is shut, then the server's attempt to
send meets the closed socket and is dropped quietly).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterable
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from ledger_export.sandbox.fortnox.context import DROP, Context, Served


def _no_write(data: bytes) -> None:
    raise RuntimeError("the sandbox's app answers with its body, never with write()")


def _shut(environ: WSGIEnvironment) -> None:
    sock = environ.get("werkzeug.socket")
    if sock is None:  # pragma: no cover - the sandbox always runs on werkzeug's server
        raise RuntimeError("losing an answer needs werkzeug's server (environ['werkzeug.socket'])")
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class Serialised:
    def __init__(self, app: WSGIApplication, context: Context, lock: threading.RLock):
        self.app, self.context, self.lock = app, context, lock

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        captured: list[tuple[str, list[tuple[str, str]]]] = []

        def capture(status: str, headers: list[tuple[str, str]],
                    exc_info: object = None) -> Callable[[bytes], object]:
            captured[:] = [(status, headers)]
            return _no_write

        with self.lock:
            result = self.app(environ, capture)
            try:
                body = b"".join(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
            status, headers = captured[0]
            lost = bool(environ.get(DROP))
            self.context.served.append(Served(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""),
                                              None if lost else int(status.split()[0])))
        if lost:
            _shut(environ)
            start_response("500 Internal Server Error", [("Content-Length", "0")])
            return []
        headers = [h for h in headers if h[0].lower() != "content-length"]
        start_response(status, headers + [("Content-Length", str(len(body)))])
        return [body]
