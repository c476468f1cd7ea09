"""Bunko's headless core. Nothing below this package imports Qt.

The public surface is ``engine.api`` (with ``engine.types`` and ``engine.errors``).
"""

__version__ = "0.1.0"
