"""Bunko's PySide6 desktop app. It reaches the engine only through engine.api."""
