"""moto, answering like DynamoDB: one request applied at a time.

DynamoDB applies every request to its item atomically (an ``ADD`` to the diff counter, a
conditional claim); moto's threaded server runs requests in parallel threads over the same
dictionaries, so two concurrent ``ADD``s could read the same value and hand out the same diff
number (seen once in the suite). Serialising the application keeps moto's answers as atomic
as the real service's; moto is bound by one interpreter lock anyway. Importing this module
raises ImportError when moto[server] is not installed."""

from __future__ import annotations

import threading
from typing import Any

from moto.server import DomainDispatcherApplication, MotoRequestHandler, ThreadedMotoServer, create_backend_app
from werkzeug.serving import make_server


class OneAtATimeMotoServer(ThreadedMotoServer):
    def _server_entry(self) -> None:
        lock = threading.Lock()
        app = DomainDispatcherApplication(create_backend_app)

        def serialised(environ: Any, start_response: Any) -> list[bytes]:
            with lock:
                return list(app(environ, start_response))

        self._server = make_server(self._ip_address, self._port, serialised, True,
                                   request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()
