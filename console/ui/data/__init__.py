"""What the UI's Activity screen and the replay read, beyond the core's ports: the
screen-level port of Activity (sessions, statements, replication, signals) with its live
and replayed implementations, and the replayed Metrics source. No Textual here."""
