"""Phase 2: the three-tier execution engine.

Tier 1 runs a test as written, tier 2 heals it, tier 3 lets an AI agent
carry out its intent. Every run happens in a sandboxed subprocess. Nothing
here imports PySide6.
"""
