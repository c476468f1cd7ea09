"""Embedding on the user's GPU server over SSH (see engine.embed.remote)."""
