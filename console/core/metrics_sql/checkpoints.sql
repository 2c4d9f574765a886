-- PostgreSQL 14-16: checkpoint counters live in pg_stat_bgwriter.
SELECT checkpoints_timed AS timed, checkpoints_req AS requested, buffers_checkpoint AS buffers_written
  FROM pg_stat_bgwriter
