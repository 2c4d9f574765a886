-- PostgreSQL 17+: pg_stat_checkpointer took the checkpoint counters out of pg_stat_bgwriter.
SELECT num_timed AS timed, num_requested AS requested, buffers_written
  FROM pg_stat_checkpointer
