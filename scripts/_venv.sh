# Shared by scripts/demo and scripts/test: a project virtual environment with the package
# installed, and Debian's influxd and postgresql-15-partman when we are root and they are missing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
    echo "console needs Python 3.11 or newer (set \$PYTHON to one)" >&2
    exit 1
fi

VENV="${CONSOLE_VENV:-$ROOT/.venv}"
if [ ! -x "$VENV/bin/python" ]; then
    echo "==> creating $VENV" >&2
    "$PY" -m venv "$VENV"
fi

# uv installs in seconds what pip takes minutes for; it comes from the package index into the
# project's own venv when it is not on PATH already (no system-wide install needed).
UV="$(command -v uv || true)"
if [ -z "$UV" ]; then
    if [ ! -x "$VENV/bin/uv" ]; then
        echo "==> installing uv into $VENV" >&2
        "$VENV/bin/python" -m pip install --disable-pip-version-check -q uv
    fi
    UV="$VENV/bin/uv"
fi

install_extras() {
    # Reinstall only when pyproject.toml or setup.py changed since the last install.
    local stamp="$VENV/.console-installed-$1"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ setup.py -nt "$stamp" ]; then
        echo "==> installing console[$1] into $VENV (uv, progress below)" >&2
        local t0=$SECONDS
        "$UV" pip install --python "$VENV/bin/python" -e ".[$1]" >&2
        echo "==> installed in $((SECONDS - t0)) s" >&2
        touch "$stamp"
    fi
}

ensure_influxd() {
    if [ -n "${CONSOLE_INFLUXD:-}" ] || command -v influxd >/dev/null 2>&1; then
        return 0
    fi
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "==> installing Debian's influxdb package (influxd, 1.x API)" >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends influxdb >/dev/null
        # The package may start a system service on :8086; the console runs its own.
        if command -v service >/dev/null 2>&1; then service influxdb stop >/dev/null 2>&1 || true; fi
    else
        echo "note: no influxd on PATH and not root: InfluxDB parts are skipped" >&2
    fi
}

ensure_partman() {
    # Debian's PostgreSQL 15 with pg_partman 4.x: the parity tests maintain the same tables
    # with pg_partman and with the console (tests/integration/test_partitions_partman.py).
    if ls /usr/share/postgresql/15/extension/pg_partman*.control >/dev/null 2>&1 \
            && [ -x /usr/lib/postgresql/15/bin/initdb ]; then
        return 0
    fi
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "==> installing Debian's postgresql-15-partman (pg_partman parity tests)" >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            postgresql-15 postgresql-15-partman >/dev/null
        # the package may create and start a cluster on :5432; the tests run their own
        if command -v pg_ctlcluster >/dev/null 2>&1; then pg_ctlcluster 15 main stop >/dev/null 2>&1 || true; fi
    else
        echo "note: no pg_partman for PostgreSQL 15 and not root: the parity tests are skipped" >&2
    fi
}
