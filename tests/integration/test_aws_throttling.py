"""DynamoDB throttling, as the service really answers it (HTTP 400 with a
ProvisionedThroughputExceededException body), served by a small local HTTP server: moto
itself never throttles. The console reports it as 'throttled' with the service's message,
never a traceback."""

from __future__ import annotations

import http.server
import json
import threading

import pytest

from console.backends.base import ErrorKind
from console.backends.dynamo import DynamoBackend
from console.config import ZenginSettings
from console.core.zengin import workflow


class Throttling(http.server.BaseHTTPRequestHandler):
    calls = 0

    def do_POST(self):  # noqa: N802 - http.server's naming
        type(self).calls += 1
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                           "message": "The level of configured provisioned throughput for the table was exceeded"})
        self.send_response(400)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def throttling_endpoint():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Throttling)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_throttling_is_a_clear_typed_error(throttling_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    dyn = DynamoBackend(ZenginSettings(env="t", endpoint_url=throttling_endpoint, timeout_s=2))
    Throttling.calls = 0
    h = dyn.health()
    assert not h.ok and h.error_kind is ErrorKind.THROTTLED
    assert "provisioned throughput" in h.error and "Traceback" not in h.error
    assert Throttling.calls >= 1                     # botocore's bounded retries, then the error
    with pytest.raises(Exception) as info:
        workflow.query_status(dyn, "pending")
    assert getattr(info.value, "kind", None) is ErrorKind.THROTTLED
