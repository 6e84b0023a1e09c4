"""A WSGI app served on 127.0.0.1 from a daemon thread: how both sandboxes run in-process."""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server

HOST = "127.0.0.1"  # never reachable from other machines


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request (errors are still logged)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class LocalServer:
    """Serves ``app`` on ``HOST``:``port`` (0: a free one) until ``stop``."""

    def __init__(self, app: Any, port: int, name: str):
        self._server = server = make_server(HOST, port, app, threaded=True, request_handler=_QuietHandler)
        # A short poll interval keeps stop() quick; tests start one sandbox each.
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"{name}-{self.port}", daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return self._server.server_port

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
