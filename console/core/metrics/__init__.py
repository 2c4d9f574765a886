"""Live metrics: pg_stat_* samples per PostgreSQL target, the seed-000 analytics views,
and InfluxQL series of seed 004 — as immutable samples the screen and ``console metrics``
render.

Cost rules (the screen stays open for hours during incidents):

- every query is a file in ``metrics_sql/`` (listed, with cadence and timeout, in
  docs/readme/metrics.md), picked by ``server_version_num`` where the catalogs differ;
- no ``count(*)`` on a big table: row counts are the statistics' estimates;
- the PostgreSQL sample is 5 small catalog queries in one pooled connection checkout;
- the analytics views scan ``request_logs``: they run on a slower cadence, each in its own
  transaction under its own ``statement_timeout``; a view that times out is reported as
  timed out (the others still come back);
- InfluxQL parameters are bound server-side (``$name``), never formatted in.

A collector keeps the previous counters of its target to turn them into rates; it is only
used from one worker at a time (the screen never overlaps refreshes) and the UI only ever
sees the frozen samples it returns.

The package, by concern: ``sql`` (the query files), ``pg`` (pg_stat samples and rates),
``analytics`` (the seed-000 views), ``influx`` (InfluxQL series), ``source`` (what the screen
samples, cadences), ``snapshot`` (``console metrics snapshot``), ``formatting``. Every name
the single module had is importable from here, unchanged."""

from __future__ import annotations

from .analytics import (ANALYTICS_VIEWS, DEFAULT_VIEW_TIMEOUTS_MS, TREND_DAYS, VIEW_ROW_LIMIT, AnalyticsCollector,
                        AnalyticsSample, Trend, ViewResult, trends_from)
from .formatting import SPARK, human_bytes, human_seconds, sparkline
from .influx import BUCKET, RANGES, TOP_TAGS, InfluxCollector, InfluxSample, Point, TagStat
from .pg import (PG_QUERIES, TOP_TABLES, Activity, ChainLine, Counters, PgCollector, PgSample, Rates, TableStat,
                 blocking_chains, cumulative_hit_ratio, rates)
from .snapshot import Snapshot, plain_data, snapshot_dict, take_snapshot
from .source import INTERVAL_STEPS, Cadence, MetricsSource, step_interval
from .sql import SQL_DIR, sql_file, sql_files

__all__ = ["ANALYTICS_VIEWS", "BUCKET", "DEFAULT_VIEW_TIMEOUTS_MS", "INTERVAL_STEPS", "PG_QUERIES", "RANGES",
           "SPARK", "SQL_DIR", "TOP_TABLES", "TOP_TAGS", "TREND_DAYS", "VIEW_ROW_LIMIT", "Activity",
           "AnalyticsCollector", "AnalyticsSample", "Cadence", "ChainLine", "Counters", "InfluxCollector",
           "InfluxSample", "MetricsSource", "PgCollector", "PgSample", "Point", "Rates", "Snapshot", "TableStat",
           "TagStat", "Trend", "ViewResult", "blocking_chains", "cumulative_hit_ratio", "human_bytes",
           "human_seconds", "plain_data", "rates", "snapshot_dict", "sparkline", "sql_file", "sql_files", "step_interval",
           "take_snapshot", "trends_from"]
