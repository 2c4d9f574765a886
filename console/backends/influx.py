"""InfluxDB over the 1.x-compatible HTTP API: InfluxQL on ``/query``, line protocol on
``/write``, ``/ping`` for health and version. InfluxDB 1.x serves it natively, 2.x and 3.x
through their compatibility endpoints (2.x with a token and a DBRP mapping).

Line protocol comes from influxdb-client's ``Point``; the HTTP calls are plain urllib3 so
that no Flux client is involved."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Iterable
from urllib.parse import urlencode

import urllib3

from ..config import InfluxSettings
from .base import BackendError, ErrorKind, Health, Stopwatch, probe


@dataclass(frozen=True)
class Series:
    name: str
    tags: dict[str, str]
    columns: list[str]
    values: list[list[Any]]

    def rows(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, v)) for v in self.values]


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
            data = json.loads(resp.data or b"{}")
            return str(data.get("error") or data.get("message") or "")[:300]
        except (ValueError, AttributeError):
            return (resp.data or b"")[:300].decode("utf-8", "replace")

    def ping(self) -> str:
        resp = self._request("GET", "/ping", {})
        return resp.headers.get("X-Influxdb-Version") or resp.headers.get("X-Influxdb-Build") or "unknown"

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
        if params:
            q["params"] = json.dumps(params)
        resp = self._request("POST", "/query", {}, body=urlencode(q).encode(),
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
        try:
            data = json.loads(resp.data)
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
        """Write ``influxdb_client.Point`` objects (or line-protocol strings)."""
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
