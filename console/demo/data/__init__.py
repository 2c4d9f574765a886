"""The demo's data: months of partitioned logs (with partitions missing ahead, one past
month missing so that its rows sit in the default partition, and one drifted index), the
tables the analytics views need, Redis sessions and caches with a publisher on the pub/sub
channels, and InfluxDB points. Deterministic for a given ``seed`` and ``now``.

Expects freshly migrated databases (``sql/common`` + ``sql/<system>``, empty tables).
Bulk rows go in with COPY, fed from generators, so that a million request logs stay quick.

A package by concern: ``partitions`` and ``helpers``, one module per seed (``lambda_``,
``accesslog``, ``pipe``, ``learning``), ``postgres`` (the entry point), ``redis``,
``influx``. Every name the single module had is importable from here; ``add_months``,
``CHANNELS`` and the connections key are the core's own.
"""

from __future__ import annotations

from ...core.partitions import add_months
from ...core.sessions import CHANNELS, CONNECTIONS_KEY
from .partitions import (PartitionedTable, PARTITIONED, HISTORY_MONTHS, AHEAD_MONTHS, DRIFTED_INDEX,
                         DRIFTED_INDEX_DDL, month_of, utc, partition_months, create_partitions)
from .helpers import (timeline, rand_uuid, weighted, copy_rows, indexes_rebuilt_after, insert_many, T, dumps)
from .lambda_ import (FUNCTIONS, LAMBDA_USERS, ERROR_STATUSES, ERROR_CODES, USER_AGENTS, language_title,
                      request_log_rows, REQUEST_LOG_COLUMNS, fill_lambda)
from .accesslog import (APPS, EVENTS, SCREENS, fill_accesslog)
from .pipe import (fill_pipe)
from .learning import (LEARNERS, NOTEBOOKS, fill_learning)
from .postgres import (FILLERS, FillReport, fill_system, DEFAULT_ROWS, fill_postgres)
from .redis import (SESSION_TTLS, RedisReport, fill_redis, PY_ERRORS, event_message, _Daemon, Publisher)
from .influx import (cell_execution_point, InfluxReport, fill_influx, TrafficGenerator)

__all__ = ['add_months', 'CHANNELS', 'CONNECTIONS_KEY', 'PartitionedTable', 'PARTITIONED', 'HISTORY_MONTHS',
           'AHEAD_MONTHS', 'DRIFTED_INDEX', 'DRIFTED_INDEX_DDL', 'month_of', 'utc', 'partition_months',
           'create_partitions', 'timeline', 'rand_uuid', 'weighted', 'copy_rows', 'indexes_rebuilt_after',
           'insert_many', 'T', 'dumps', 'FUNCTIONS', 'LAMBDA_USERS', 'ERROR_STATUSES', 'ERROR_CODES', 'USER_AGENTS',
           'language_title', 'request_log_rows', 'REQUEST_LOG_COLUMNS', 'fill_lambda', 'APPS', 'EVENTS', 'SCREENS',
           'fill_accesslog', 'fill_pipe', 'LEARNERS', 'NOTEBOOKS', 'fill_learning', 'FILLERS', 'FillReport',
           'fill_system', 'DEFAULT_ROWS', 'fill_postgres', 'SESSION_TTLS', 'RedisReport', 'fill_redis', 'PY_ERRORS',
           'event_message', '_Daemon', 'Publisher', 'cell_execution_point', 'InfluxReport', 'fill_influx',
           'TrafficGenerator']
