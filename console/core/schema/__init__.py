"""Schema status: the expected catalog (computed from ``sql/``) against the live one.

    catalog   read a catalog into plain dataclasses (one set of queries for both sides)
    expected  apply sql/ to a scratch database, read it, cache it
    compare   pure: two snapshots -> findings
    fixes     findings -> Steps / a Plan
    sources   the sql/ file and line that defines an object
    check     one target's report (findings, migrations, meta.schema_version)
    apply     run a Plan (lock_timeout, CONCURRENTLY outside transactions, audit)
"""

from .apply import APPLY, run_plan  # noqa: F401  (registers the audit action)
from .check import TargetReport, check_target  # noqa: F401
