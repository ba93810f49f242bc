"""Ports for the servers tests start, picked below the kernel's ephemeral range.

``bind(0)`` hands out an ephemeral port, and between the test closing it and the server binding
it any outgoing connection or ``bind(0)`` on the machine (Ray's workers, a client socket, another
suite) may take it: a flaky "Address already in use". Ports between Ray's worker range
(10002-19999) and the ephemeral range are only ever taken by an explicit bind.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

LOWEST = 20_000
SPAN = 64  # a picked port leaves room for ``edge_port_base + index``


def ephemeral_floor() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def free_port() -> int:
    """A port no socket holds now, outside the range the kernel hands out by itself."""
    highest = max(LOWEST + SPAN, ephemeral_floor() - SPAN)
    for _ in range(200):
        port = random.randrange(LOWEST, highest)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError(f"no free port in {LOWEST}-{highest}")
