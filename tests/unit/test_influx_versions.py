"""The shape of the /query request per InfluxDB version family, against a local stand-in
server that answers /ping like each family and records what it receives. 1.x, 2.x and 3.7+
read a POST body with bound parameters; 3.0-3.6 read only the URL of a GET and ignore bound
parameters, so the console inlines them as quoted literals there."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from console.backends.base import BackendError
from console.backends.influx import InfluxBackend, inline_params, query_by_get, version_tuple
from console.config import InfluxSettings

ANSWER = {"results": [{"statement_id": 0, "series": [
    {"name": "cell_executions", "columns": ["time", "n"], "values": [[0, 3]]}]}]}


class StandIn:
    def __init__(self, *, header: str | None, body_version: str | None = None):
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):  # quiet
                pass

            def _answer(self, code: int, payload: dict, headers: dict[str, str]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(code)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                outer.requests.append({"method": method, "path": url.path, "url": parse_qs(url.query),
                                       "body": parse_qs(body), "auth": self.headers.get("Authorization")})
                if url.path == "/ping":
                    hdr = {"X-Influxdb-Version": header} if header else {}
                    return self._answer(200, {"version": body_version} if body_version else {}, hdr)
                return self._answer(200, ANSWER, {})

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def standin(request):
    servers = []

    def make(**kw) -> StandIn:
        s = StandIn(**kw)
        servers.append(s)
        return s
    yield make
    for s in servers:
        s.close()


def _query(server: StandIn):
    b = InfluxBackend(InfluxSettings(url=server.url, database="learning", retention_policy="autogen",
                                     token="t0ken-secret", timeout_s=2))
    try:
        series = b.query("SELECT count(*) FROM cell_executions WHERE user_id = $user AND n > $n",
                         params={"user": "o'brien\\x", "n": 3})
    finally:
        b.close()
    assert series[0].rows() == [{"time": 0, "n": 3}]
    return [r for r in server.requests if r["path"] == "/query"][0]


@pytest.mark.parametrize("header,body_version", [("1.8.10", None), ("v2.7.4", None), ("3.7.0", None),
                                                 (None, "3.8.1")])
def test_post_with_bound_parameters(standin, header, body_version):
    req = _query(standin(header=header, body_version=body_version))
    assert req["method"] == "POST" and req["url"] == {}
    assert req["body"]["q"] == ["SELECT count(*) FROM cell_executions WHERE user_id = $user AND n > $n"]
    assert json.loads(req["body"]["params"][0]) == {"user": "o'brien\\x", "n": 3}
    assert req["auth"] == "Token t0ken-secret"


@pytest.mark.parametrize("header,body_version", [("3.0.0", None), ("3.6.2", None), (None, "3.2.1")])
def test_get_with_inlined_parameters_on_3_0_to_3_6(standin, header, body_version):
    req = _query(standin(header=header, body_version=body_version))
    assert req["method"] == "GET" and req["body"] == {}
    assert req["url"]["q"] == ["SELECT count(*) FROM cell_executions WHERE user_id = 'o\\'brien\\\\x' AND n > 3"]
    assert req["url"]["db"] == ["learning"] and req["url"]["rp"] == ["autogen"]
    assert "params" not in req["url"]
    # the token still travels in the header, never in the URL
    assert req["auth"] == "Token t0ken-secret" and "t0ken" not in json.dumps(req["url"])


def test_version_parsing():
    assert version_tuple("v3.5.0-nightly") == (3, 5, 0)
    assert version_tuple("unknown") == ()
    assert query_by_get("3.6.9") and not query_by_get("3.7.0") and not query_by_get("1.6.7")
    assert not query_by_get("unknown")


def test_inline_params_quotes_and_refuses_what_it_cannot_quote():
    assert inline_params("x = $a AND y = $ab", {"a": 1, "ab": "v"}) == "x = 1 AND y = 'v'"
    assert inline_params("x = $missing", {}) == "x = $missing"
    assert inline_params("t = $b", {"b": True}) == "t = true"
    with pytest.raises(BackendError):
        inline_params("x = $a", {"a": ["list"]})
