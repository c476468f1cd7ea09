"""Turning files on disk into located, normalised chunks of text."""
