"""Phase 3: the agent runtime on Redis Streams and the six agents.

Postgres is the truth for tasks; Redis Streams carry the messages. Nothing
here imports PySide6.
"""
