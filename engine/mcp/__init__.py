"""`bunko mcp`: the libraries as a Model Context Protocol server (see server.py)."""
