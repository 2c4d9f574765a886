"""moto, answering like DynamoDB: one request applied at a time (see :func:`one_at_a_time`)."""

from __future__ import annotations

import threading
from typing import Any


def one_at_a_time(base: type) -> type:
    """``ThreadedMotoServer`` whose requests are applied one at a time.

    DynamoDB applies every request to its item atomically (an ``ADD`` to the diff counter,
    a conditional claim); moto's threaded server runs requests in parallel threads over the
    same dictionaries, so two concurrent ``ADD``s could read the same value and hand out the
    same diff number (seen in the suite). Serialising the application keeps moto's answers
    as atomic as the real service's; moto is bound by one interpreter lock anyway."""
    from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    lock = threading.Lock()
    app = DomainDispatcherApplication(create_backend_app)

    def serialised(environ: Any, start_response: Any) -> list[bytes]:
        with lock:
            return list(app(environ, start_response))

    class OneAtATime(base):  # type: ignore[misc, valid-type]
        def _server_entry(self) -> None:
            self._server = make_server(self._ip_address, self._port, serialised, True,
                                       request_handler=MotoRequestHandler)
            self._server_ready_event.set()
            self._server.serve_forever()

    return OneAtATime
