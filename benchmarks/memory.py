"""Memory and CPU as the kernel counts them: resident set (/proc/<pid>/status) and CPU seconds
(/proc/<pid>/stat) of the processes a benchmark drives.

The fan-out bench reads the shard actors' RSS (they report their pid) before and after it adds
sessions and members, so per-session and per-member bytes are measured, not formulas: the shared
event log, replay rings, per-connection objects and compression contexts are all in it.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterable
from pathlib import Path

import psutil


def rss_bytes(pid: int) -> int:
    """VmRSS of ``pid`` in bytes (0 once the process is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` from /proc/<pid>/stat (0.0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ray_processes(marker: str = "") -> list[int]:
    """Pids of this driver's Ray processes (its descendants: GCS, raylet, every actor), those whose
    command line contains ``marker`` if given (``"RelayHost"``: the relays). Other Rays on the
    machine are not descendants, so they are never counted."""
    pids = []
    for child in psutil.Process().children(recursive=True):
        try:
            if not marker or marker in " ".join(child.cmdline()):
                pids.append(child.pid)
        except psutil.Error:
            continue
    return pids


def per_unit(before: int, after: int, units: int) -> float:
    """Bytes each added unit cost: the RSS growth over how many were added."""
    return (after - before) / units if units else 0.0


class CpuMeter:
    """CPU seconds a group of processes spent on a measurement, less what they burn idle.

    A Ray actor burns CPU doing nothing (its core worker's threads, metrics and summary loops);
    at a few messages per second that idle rate is as large as the work, so a cost per message
    must subtract it: ``idle`` measures the rate with no load, ``busy_s`` is the CPU since
    ``start`` minus that rate over the elapsed time (clock ticks: 10 ms resolution per process).
    """

    def __init__(self, pids: Iterable[int]) -> None:
        self.pids = list(pids)
        self.idle_rate = 0.0
        self._cpu, self._at = 0.0, 0.0

    def total(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids)

    def start(self) -> None:
        self._cpu, self._at = self.total(), time.monotonic()

    def busy_s(self) -> float:
        return max(0.0, self.total() - self._cpu - self.idle_rate * (time.monotonic() - self._at))


async def measure_idle(meters: Iterable[CpuMeter], seconds: float) -> None:
    """Set each meter's idle rate from ``seconds`` of no load (all measured over the same time)."""
    meters = list(meters)
    for meter in meters:
        meter.start()
    await asyncio.sleep(seconds)
    for meter in meters:
        meter.idle_rate = (meter.total() - meter._cpu) / max(1e-9, time.monotonic() - meter._at)
