"""Activity: every PostgreSQL backend of every target, cancel / terminate, top statements,
replication and maintenance progress. Everything below the screen lives here:

- :mod:`.model`: ``Backend`` rows, ``ActivitySample``, filter / sort / blocking chain (pure);
- :mod:`.source`: ``ActivitySource.sample(target)`` — one query per target per tick;
- :mod:`.signal`: ``plan_signal`` / ``run_signal`` (actions ``activity.cancel`` and
  ``activity.terminate``, write-ahead audited);
- :mod:`.statements`: pg_stat_statements samples and deltas, how to enable it;
- :mod:`.maintenance`: replication slots, standbys, WAL rate, pg_stat_progress_*.

SQL lives in ``sql/``, chosen by ``server_version_num`` (:mod:`.sqlfiles`)."""

from .model import (ActivityFilter, ActivityPort, ActivitySample, Backend, BlockingChain, ChainLink,
                    apply_filter, blocking_chain, roots, sort_rows)
from .source import ActivitySource, sample_backend
from .signal import (CANCEL, TERMINATE, SignalPlan, SignalRefused, SignalResult, plan_signal,
                     run_signal)

__all__ = ["ActivityFilter", "ActivityPort", "ActivitySample", "ActivitySource", "Backend", "BlockingChain",
           "CANCEL", "ChainLink", "SignalPlan", "SignalRefused", "SignalResult", "TERMINATE", "apply_filter",
           "blocking_chain", "plan_signal", "roots", "run_signal", "sample_backend", "sort_rows"]
