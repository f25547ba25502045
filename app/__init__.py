"""The composition root: config, services, database, migrations, CLI.

Nothing in this package imports PySide6; ``ui/`` builds on it.
"""

__version__ = "0.1.0"
