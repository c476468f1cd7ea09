"""Idle shutdown on the server itself: a small POSIX sh loop started detached next to llama-server.

GPU servers are billed by the hour, and Bunko may be closed (or the PC off) when the model
goes idle, so the server must stop itself. llama-server writes to its log when a request
starts ("launch_slot_") and when it ends ("stop processing"); the log's modification time is
therefore the time of the last request, and a request in flight is one whose start line has
no end line after it. Only sh, grep, tail, stat and kill are needed there: no Python, no key.
"""

from __future__ import annotations

SCRIPT = r"""#!/bin/sh
# Bunko's idle watchdog: stops llama-server (pid $1, a process group) when its log ($2) has not
# changed for $3 seconds and no request is in flight; checks every $4 seconds. Removes $5 after.
pid=$1 log=$2 idle=$3 every=$4 state=$5
mtime() { stat -c %Y "$1" 2>/dev/null || stat -f %m "$1" 2>/dev/null || date +%s; }
while kill -0 "$pid" 2>/dev/null; do
  sleep "$every"
  grep -q 'model loaded' "$log" 2>/dev/null || continue   # loading a big model may be quiet for long
  last=$(grep -E 'launch_slot_|stop processing' "$log" 2>/dev/null | tail -n 1)
  case "$last" in *launch_slot_*) continue ;; esac
  quiet=$(( $(date +%s) - $(mtime "$log") ))
  if [ "$quiet" -ge "$idle" ]; then
    echo "bunko-watchdog: no request for $quiet s: stopping llama-server" >> "$log"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    n=0
    while kill -0 "$pid" 2>/dev/null && [ $n -lt 20 ]; do sleep 0.5; n=$((n + 1)); done
    kill -KILL -- "-$pid" 2>/dev/null
    rm -f "$state"
    exit 0
  fi
done
"""

NAME = "bunko-idle-watchdog.sh"


def start(host, folder: str, pid: int, log_path: str, state_path: str, idle_s: float,
          every_s: float | None = None) -> int | None:
    """Start the watchdog for llama-server `pid` (detached; it ends when llama-server ends).
    None when idle shutdown is off (idle_s <= 0)."""
    if idle_s <= 0:
        return None
    every = every_s if every_s is not None else max(1, min(60, int(idle_s) // 10))
    script = folder.rstrip("/") + "/" + NAME
    host.write_text(script, SCRIPT)
    return host.start(["sh", script, str(int(pid)), log_path, str(max(1, int(idle_s))), str(every),
                       state_path], folder, "bunko-idle-watchdog.log")
