"""A plain-text progress line on stderr: count, percentage, rate, ETA, errors.

On a terminal it redraws one line (at most 5 times a second); in a log (not a tty) it prints a
line at every 10 % or every 30 s, whichever comes first.
"""
from __future__ import annotations

import sys
import time


def clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class Progress:
    def __init__(self, total: int, stream=None, enabled: bool = True, width: int = 24):
        self.total, self.done, self.errors = total, 0, 0
        self.stream = stream or sys.stderr
        self.enabled = enabled and total > 0
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.width = width
        self.t0 = self.last = time.perf_counter()
        self.t1 = None  # first record: the rate and ETA leave start-up out
        self.next_pct = 10

    def update(self, error: bool = False) -> None:
        self.done += 1
        self.errors += bool(error)
        if self.t1 is None:
            self.t1 = time.perf_counter()
        if not self.enabled:
            return
        now = time.perf_counter()
        pct = 100 * self.done / self.total
        if self.tty and (now - self.last >= 0.2 or self.done == self.total):
            self.stream.write("\r" + self.line(now))
        elif not self.tty and (pct >= self.next_pct or now - self.last >= 30):
            self.stream.write(self.line(now) + "\n")
            self.next_pct = (int(pct) // 10 + 1) * 10
        else:
            return
        self.stream.flush()
        self.last = now

    def line(self, now: float) -> str:
        el = now - self.t0
        run = now - self.t1
        rate = (self.done - 1) / run if self.done > 1 and run > 0 else 0.0
        eta = clock((self.total - self.done) / rate) if rate > 0 else "?"
        fill = int(self.width * self.done / self.total)
        bar = "#" * fill + "." * (self.width - fill)
        err = f"  errors {self.errors}" if self.errors else ""
        return (f"[{bar}] {self.done}/{self.total} {100 * self.done / self.total:3.0f}%  "
                f"{rate:.1f}/s  elapsed {clock(el)}  ETA {eta}{err}")

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()
