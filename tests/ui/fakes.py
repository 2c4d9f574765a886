"""Fixed data for snapshot tests: fakes of the core interfaces (a HealthCheck whose run
returns a fixed Health), a frozen clock. The real code paths these stand in for are tested
against real servers in tests/integration and tests/ui/test_overview_pilot.py."""

from __future__ import annotations

from datetime import datetime, timezone

from console.backends.base import ErrorKind, Health
from console.config import Settings
from console.core.attention import Count, Source
from console.core.health import HealthCheck
from console.ui.services import Services

FIXED = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)


def health(name, kind, address, *, ok=True, latency=None, version=None, error=None, kind_err=None):
    return Health(name, kind, address, ok=ok, latency_ms=latency, version=version, error=error,
                  error_kind=kind_err, checked_at=FIXED)


def fixed_check(h: Health) -> HealthCheck:
    return HealthCheck(h.name, h.kind, h.address, lambda: h)


def overview_services(*, read_only: bool = False) -> Services:
    results = [
        health("lambda", "postgres", "postgresql://console@db1.internal:5432/lambda", latency=0.8,
               version="PostgreSQL 16.4"),
        health("zengin", "postgres", "postgresql://console:***@db2.internal:5432/zengin", latency=1.3,
               version="PostgreSQL 16.4"),
        health("redis", "redis", "redis://cache.internal:6379/0", latency=0.4, version="Redis 7.2.5"),
        health("influxdb", "influxdb", "http://metrics.internal:8086 db=learning", ok=False,
               error="cannot reach http://metrics.internal:8086: NewConnectionError",
               kind_err=ErrorKind.UNREACHABLE),
        health("dynamodb", "dynamodb", "zengin-data-diff-prod @ aws ap-northeast-1", latency=12.0,
               version="DynamoDB table ACTIVE"),
        health("s3", "s3", "s3://prod-zengin-diff-data @ aws ap-northeast-1", latency=15.5,
               version="S3 bucket reachable"),
    ]
    settings = Settings(environment="prod", read_only=read_only, refresh_interval_s=5.0)
    attention = [
        Source("schema", "schema drift", 300, lambda: [Count("schema", "schema drift", 2, "lambda 2")]),
        Source("partitions", "partitions", 60, lambda: [
            Count("partitions.ahead", "partitions missing ahead", 3, "lambda.request_logs"),
            Count("partitions.retention", "partitions past retention", 0),
            Count("partitions.default", "rows in default partitions", 41_230, "lambda.request_logs")]),
        Source("diffs", "pending zengin diffs", 60, lambda: [
            Count("diffs.pending", "pending zengin diffs", None, error="unreachable: cannot reach endpoint")]),
        Source("sessions", "active sessions", 60, lambda: [
            Count("sessions", "active sessions", 100_000, "session:* keys", approximate=True)]),
    ]
    return Services(settings=settings, health_checks=[fixed_check(h) for h in results], attention=attention,
                    clock=lambda: 1000.0)
