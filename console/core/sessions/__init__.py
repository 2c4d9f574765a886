"""Seed 004's real-time layer in Redis: ``session:<user>`` keys, the
``websocket_connections`` hash, ``class_summary:*`` caches and the pub/sub channels.

Safe against a production Redis with millions of keys:

- keys are found with ``SCAN MATCH … COUNT n`` (never ``KEYS``), batch by batch, with an
  optional pause between batches and a cap on how many keys are read;
- per batch, TTL, ``MEMORY USAGE`` and a bounded read of the value (``GETRANGE 0 64K-1``,
  i.e. GET capped so a huge value is never pulled whole) go in one pipeline;
- the connections hash is read with ``HSCAN`` (never ``HGETALL``), and each connection's
  session is checked with a pipelined ``EXISTS``.

Parsing is pure (no server needed). Every Redis call goes through ``RedisBackend.call`` so
failures come back as typed ``BackendError``s. The pub/sub tail has its own connection
(a subscribed connection cannot run other commands) without redis-py's silent retries, so
a dropped subscription is seen, reconnected with back-off and reported as a gap.

Mutations (expire, delete) are core functions following the write-ahead audit protocol
(``audit.begin`` refuses in read-only mode, records the intent before the Redis command,
``audit.settle`` after it) on the PostgreSQL audit target.

Keys are byte-exact (:mod:`.keys`): carried as ``surrogateescape`` strings, bytes on the
wire, shown escaped. The package is split by concern: ``values`` (parsing, records),
``scan`` (SCAN / HSCAN / pipelines), ``stats`` (INFO, histogram, sort, filter), ``tail``
(pub/sub), ``actions`` (audited delete / expire, the service).
"""

from __future__ import annotations

from . import keys
from .actions import (DELETE, EXPIRE, ActionResult, KeyPreview, SessionsService, check_session_key,
                      delete_session, expire_session, plan_delete, plan_expire, preview_key)
from .keys import KeySyntaxError
from .scan import (ConnectionsReport, ScanBatch, dbsize, list_caches, list_connections, list_sessions,
                   read_records, scan_keys, scan_sessions, sessions_without_connection)
from .stats import (DELTA_FIELDS, SORT_KEYS, TTL_BUCKETS, ServerInfo, db_of, filter_records, info_delta,
                    keyevents_enabled, page, parse_info, server_info, sort_records, ttl_histogram)
from .tail import ChannelRates, TailMessage, TailStatus, pubsub_client, tail
from .values import (CACHE_CAP, CACHE_PATTERN, CHANNELS, CONNECTIONS_KEY, HASH_READ_MAX_BYTES,
                     SESSION_PATTERN, SESSION_PREFIX, VALUE_READ_BYTES, CacheRecord, ConnectionRecord,
                     SessionRecord, fmt_ttl, parse_cache, parse_connection, parse_hash, parse_value,
                     ttl_value)


__all__ = [
    "ActionResult",
    "CACHE_CAP",
    "CACHE_PATTERN",
    "CHANNELS",
    "CONNECTIONS_KEY",
    "CacheRecord",
    "ChannelRates",
    "ConnectionRecord",
    "ConnectionsReport",
    "DELETE",
    "DELTA_FIELDS",
    "EXPIRE",
    "HASH_READ_MAX_BYTES",
    "KeyPreview",
    "KeySyntaxError",
    "SESSION_PATTERN",
    "SESSION_PREFIX",
    "SORT_KEYS",
    "ScanBatch",
    "ServerInfo",
    "SessionRecord",
    "SessionsService",
    "TTL_BUCKETS",
    "TailMessage",
    "TailStatus",
    "VALUE_READ_BYTES",
    "check_session_key",
    "db_of",
    "dbsize",
    "delete_session",
    "expire_session",
    "filter_records",
    "fmt_ttl",
    "info_delta",
    "keyevents_enabled",
    "keys",
    "list_caches",
    "list_connections",
    "list_sessions",
    "page",
    "parse_cache",
    "parse_connection",
    "parse_hash",
    "parse_info",
    "parse_value",
    "plan_delete",
    "plan_expire",
    "preview_key",
    "pubsub_client",
    "read_records",
    "scan_keys",
    "scan_sessions",
    "server_info",
    "sessions_without_connection",
    "sort_records",
    "tail",
    "ttl_histogram",
    "ttl_value",
]
