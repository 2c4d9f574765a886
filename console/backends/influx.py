"""InfluxDB over the 1.x-compatible HTTP API: InfluxQL on ``/query``, line protocol on
``/write``, ``/ping`` for health and version. InfluxDB 1.x serves it natively, 2.x and 3.x
through their compatibility endpoints (2.x with a token and a DBRP mapping).

Line protocol comes from influxdb-client's ``Point`` (in the demo) or plain strings; the HTTP
calls are plain urllib3 so that no Flux client is involved.

InfluxDB 3.0 to 3.6 read ``/query`` parameters only from the URL of a GET: they ignore a POST
body and bound parameters (3.7 serves both). The version from ``/ping`` decides: for those
releases the query goes as a GET and bound parameters are inlined as InfluxQL literals
(:func:`inline_params`, strings quoted and escaped, anything else refused)."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any, Iterable
from urllib.parse import urlencode

import urllib3

from ..config import InfluxSettings
from ..core import jsonvalue
from ..log import backend_call
from .base import BackendError, ErrorKind, Health, Stopwatch, probe


@dataclass(frozen=True)
class Series:
    name: str
    tags: dict[str, str]
    columns: list[str]
    values: list[list[Any]]

    def rows(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, v)) for v in self.values]


def version_tuple(version: str) -> tuple[int, ...]:
    """``"v3.5.0-abc"`` -> ``(3, 5, 0)``; ``()`` when it cannot be read."""
    m = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", version or "")
    return tuple(int(g) for g in m.groups() if g is not None) if m else ()


def query_by_get(version: str) -> bool:
    """True for the releases that only read ``/query`` parameters from a GET's URL."""
    v = version_tuple(version)
    return len(v) >= 2 and v[0] == 3 and v[1] < 7


def _literal(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    raise BackendError("influxdb", ErrorKind.ERROR, f"parameter ${name} cannot be sent inline ({type(value).__name__})")


def inline_params(influxql: str, params: dict[str, Any]) -> str:
    """Replace ``$name`` placeholders with InfluxQL literals, for servers that ignore bound
    parameters. Only whole placeholder names are replaced; an unknown one is left alone (the
    server then reports it)."""
    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        return _literal(name, params[name]) if name in params else m.group(0)
    return re.sub(r"\$([A-Za-z_][A-Za-z0-9_]*)", sub, influxql)


class InfluxBackend:
    kind = "influxdb"

    def __init__(self, settings: InfluxSettings, name: str = "influxdb"):
        self.settings = settings
        self.name = name
        self._http = urllib3.PoolManager(
            num_pools=2, maxsize=4,
            timeout=urllib3.Timeout(connect=settings.timeout_s, read=settings.timeout_s),
            retries=False,
        )
        self.version: str | None = None      # from the last /ping

    @property
    def address(self) -> str:
        return f"{self.settings.display} db={self.settings.database}"

    def _headers(self) -> dict[str, str]:
        """Credentials travel in the Authorization header, never in the URL (URLs end up
        in proxies' and servers' logs)."""
        h = {"Accept": "application/json"}
        if self.settings.token:
            h["Authorization"] = f"Token {self.settings.token}"
        elif self.settings.username:
            basic = base64.b64encode(f"{self.settings.username}:{self.settings.password or ''}".encode())
            h["Authorization"] = f"Basic {basic.decode()}"
        return h

    def _request(self, method: str, path: str, params: dict[str, str], body: bytes | None = None,
                 headers: dict[str, str] | None = None) -> urllib3.BaseHTTPResponse:
        with backend_call("influxdb", self.name, f"{method} {path}"):
            return self._send(method, path, params, body, headers)

    def _send(self, method: str, path: str, params: dict[str, str], body: bytes | None,
              headers: dict[str, str] | None) -> urllib3.BaseHTTPResponse:
        url = f"{self.settings.url}{path}?{urlencode(params)}" if params else f"{self.settings.url}{path}"
        try:
            resp = self._http.request(method, url, body=body, headers={**self._headers(), **(headers or {})})
        except urllib3.exceptions.NewConnectionError:
            # (a subclass of ConnectTimeoutError in urllib3 2, so it goes first)
            raise BackendError(self.name, ErrorKind.UNREACHABLE,
                               f"cannot reach {self.settings.display}: connection refused") from None
        except urllib3.exceptions.TimeoutError as exc:
            raise BackendError(self.name, ErrorKind.TIMEOUT, f"{type(exc).__name__}") from None
        except urllib3.exceptions.HTTPError as exc:
            # The message can embed the URL with u/p query parameters: never show it.
            reason = getattr(exc, "reason", None)
            raise BackendError(self.name, ErrorKind.UNREACHABLE,
                               f"cannot reach {self.settings.display}: {type(reason or exc).__name__}") from None
        if resp.status in (401, 403):
            raise BackendError(self.name, ErrorKind.AUTH, self._error_text(resp) or f"HTTP {resp.status}")
        if resp.status == 404:
            raise BackendError(self.name, ErrorKind.NOT_FOUND, self._error_text(resp) or "HTTP 404")
        if resp.status == 429:
            raise BackendError(self.name, ErrorKind.THROTTLED, "HTTP 429")
        if resp.status >= 400:
            raise BackendError(self.name, ErrorKind.ERROR, self._error_text(resp) or f"HTTP {resp.status}")
        return resp

    @staticmethod
    def _error_text(resp: urllib3.BaseHTTPResponse) -> str:
        try:
            data = jsonvalue.loads(resp.data or b"{}")
            return str(data.get("error") or data.get("message") or "")[:300]
        except (ValueError, AttributeError):
            return (resp.data or b"")[:300].decode("utf-8", "replace")

    def ping(self) -> str:
        resp = self._request("GET", "/ping", {})
        version = resp.headers.get("X-Influxdb-Version") or ""
        if not version and resp.data:
            try:                                # 3.x answers /ping with a JSON body too
                body = jsonvalue.loads(resp.data)
                version = str(body.get("version") or "") if isinstance(body, dict) else ""
            except ValueError:
                version = ""
        version = version or resp.headers.get("X-Influxdb-Build") or "unknown"
        self.version = version
        return version

    def _health(self) -> tuple[str, float]:
        with Stopwatch() as sw:
            version = self.ping()
        return f"InfluxDB {version}", sw.ms

    def health(self) -> Health:
        return probe(self.name, self.kind, self.address, self._health)

    def query(self, influxql: str, *, database: str | None = None, epoch: str = "ms",
              params: dict[str, Any] | None = None) -> list[Series]:
        """Run InfluxQL; returns every series of every statement. Statement errors raise.
        ``params`` are bound server-side (``$name`` placeholders), never formatted in."""
        q = {"q": influxql, "db": database or self.settings.database, "epoch": epoch}
        if self.settings.retention_policy:
            q["rp"] = self.settings.retention_policy
        if self.version is None:
            self.ping()
        if query_by_get(self.version or ""):
            if params:
                q["q"] = inline_params(influxql, params)
            resp = self._request("GET", "/query", q)
        else:
            if params:
                q["params"] = json.dumps(params)
            resp = self._request("POST", "/query", {}, body=urlencode(q).encode(),
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
        try:
            data = jsonvalue.loads(resp.data)
        except ValueError:
            raise BackendError(self.name, ErrorKind.BAD_RESPONSE, "query answer is not JSON") from None
        if not isinstance(data, dict):
            raise BackendError(self.name, ErrorKind.BAD_RESPONSE, "query answer is not an object")
        if data.get("error"):
            raise BackendError(self.name, ErrorKind.ERROR, str(data["error"])[:300])
        out: list[Series] = []
        for result in data.get("results", []):
            if result.get("error"):
                raise BackendError(self.name, ErrorKind.ERROR, str(result["error"])[:300])
            for s in result.get("series", []) or []:
                out.append(Series(s.get("name", ""), s.get("tags") or {}, s.get("columns") or [],
                                  s.get("values") or []))
        return out

    def write(self, points: Iterable[Any], *, database: str | None = None, precision: str = "ms") -> int:
        """Write line-protocol strings (or objects with ``to_line_protocol()``, such as
        influxdb-client's ``Point``)."""
        lines = []
        for p in points:
            lines.append(p if isinstance(p, str) else p.to_line_protocol())
        if not lines:
            return 0
        params = {"db": database or self.settings.database, "precision": precision}
        if self.settings.retention_policy:
            params["rp"] = self.settings.retention_policy
        self._request("POST", "/write", params, body="\n".join(lines).encode())
        return len(lines)

    def close(self) -> None:
        self._http.clear()
