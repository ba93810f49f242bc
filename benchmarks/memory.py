"""Memory as the kernel counts it: the resident set of a process, read from /proc/<pid>/status.

The fan-out bench reads the shard actors' RSS (they report their pid) before and after it adds
sessions and members, so per-session and per-member bytes are measured, not formulas: the shared
event log, replay rings, per-connection objects and compression contexts are all in it.
"""

from __future__ import annotations

import os
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
