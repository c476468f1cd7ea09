"""`bunko mcp` as an MCP client starts it, but under the socket audit (tests/socket_audit.py):
the audit cannot reach into a child process, so the child installs it itself and writes
what it saw to $BUNKO_AUDIT_OUT, at once on a violation and again at exit.

    python -m tests.engine.mcp_child --db FILE mcp [...]
"""

from __future__ import annotations

import atexit
import json
import os
import sys

from tests import socket_audit


def main() -> int:
    out = os.environ["BUNKO_AUDIT_OUT"]
    audit = socket_audit.start()

    def write() -> None:
        with open(out, "w", encoding="utf-8") as f:
            json.dump({"violations": audit.violations, "local": audit.local}, f)

    check = audit.check

    def checked(event, args) -> None:
        try:
            check(event, args)
        finally:
            if audit.violations:
                write()

    audit.check = checked
    write()
    atexit.register(write)
    from engine.cli.commands import main as bunko

    return bunko(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
