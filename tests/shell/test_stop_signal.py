"""``mcreg project`` stops on SIGTERM whenever it comes, even while its main thread holds the stop event's lock.

The handler used to set the event itself, in the main thread: a signal that came while that thread held the
event's lock (inside ``Event.wait``, as catch-up and the waits for the database use it) left the process waiting
for that lock forever. A ``mcreg serve`` killed during a crash drill left such a ``mcreg project`` behind."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import signal, threading
from mcreg.cli.projections import stop_on_signals
stop = threading.Event()
stop_on_signals(stop)
with stop._cond:  # where Event.wait holds it, before and after waiting
    signal.raise_signal(signal.SIGTERM)
print("set" if stop.wait(10) else "not set")
"""


def test_a_sigterm_while_the_stop_event_is_held_still_stops() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "set"
