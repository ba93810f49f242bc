"""What the gateway benchmark reads besides latency: the edges' own CPU and memory accounting, the
bare cost of compressing the delivered frames, and the plot.

- ``ProcessMeter``: CPU seconds (user + system) and RSS of a set of pids, from /proc through
  psutil: the kernel's accounting of those processes, not a sample of the load generator's view.
- ``bare_compress_us``: compress + flush of the same frames over ``contexts`` fresh contexts of a
  kind, in this process, timed with its own CPU clock: the floor any edge pays per frame.
- ``bare_send_us``: one ``send()`` per frame on each of ``sockets`` loopback TCP connections,
  timed the same way: the kernel's floor for one write per delivered frame (on loopback the
  sender's CPU also pays most of the receiving side of TCP).
"""

from __future__ import annotations

import socket
import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import psutil
import zstandard

from rayguild.http_api.compression import compressor_for


class ProcessMeter:
    def __init__(self, pids: Sequence[int]) -> None:
        self._procs = [psutil.Process(pid) for pid in pids]

    def cpu_s(self) -> float:
        return float(sum(t.user + t.system for t in (p.cpu_times() for p in self._procs)))

    def system_s(self) -> float:
        """The kernel's share of ``cpu_s`` (system time: the sockets' send path, epoll)."""
        return float(sum(p.cpu_times().system for p in self._procs))

    def rss_bytes(self) -> int:
        return sum(p.memory_info().rss for p in self._procs)


def _default_context(compress: str) -> Callable[[bytes], bytes]:
    if compress == "zlib-stream":
        context = zlib.compressobj()
        return lambda frame: context.compress(frame) + context.flush(zlib.Z_SYNC_FLUSH)
    if compress == "zstd-stream":
        zcontext = zstandard.ZstdCompressor(level=3).compressobj()
        return lambda frame: zcontext.compress(frame) + zcontext.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
    return lambda frame: frame


def bare_compress_us(compress: str, frames: Sequence[bytes], contexts: int, sized: bool) -> float:
    """CPU microseconds per frame to compress+flush ``frames[1:]`` on each of ``contexts`` contexts
    (``frames[0]`` warms them): the server's sized contexts, or the libraries' defaults."""
    if len(frames) < 2:
        return float("nan")
    pool = [
        compressor_for(compress).compress if sized else _default_context(compress) for _ in range(contexts)
    ]
    for compress_one in pool:
        compress_one(frames[0])
    started = time.process_time()
    for frame in frames[1:]:
        for compress_one in pool:
            compress_one(frame)
    return (time.process_time() - started) / (contexts * (len(frames) - 1)) * 1e6


def bare_send_us(frames: Sequence[bytes], sockets: int) -> float:
    """CPU microseconds per frame to ``send()`` each of ``frames`` once on each of ``sockets``
    loopback TCP connections (each frame drained by its reader between frames, untimed)."""
    if not frames:
        return float("nan")
    pairs: list[tuple[socket.socket, socket.socket]] = []
    with socket.create_server(("127.0.0.1", 0), backlog=sockets) as server:
        try:
            for _ in range(sockets):
                reader = socket.create_connection(server.getsockname())
                pairs.append((reader, server.accept()[0]))
            spent = 0.0
            for frame in frames:
                started = time.process_time()
                for _, writer in pairs:
                    writer.send(frame)
                spent += time.process_time() - started
                for reader, _ in pairs:
                    reader.recv(1 << 16)
            return spent / (sockets * len(frames)) * 1e6
        finally:
            for reader, writer in pairs:
                reader.close()
                writer.close()


def plot(records: Sequence[dict[str, Any]], path: Path) -> None:
    """Edge CPU per delivered frame beside the bare compress+flush floor, per mode and size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{r['compress'] or 'none'}\n{r['connections']:,}" for r in records]
    xs = range(len(records))
    fig, (cpu, latency) = plt.subplots(1, 2, figsize=(max(8, 1.6 * len(records)), 4.5))
    width = 0.27
    cpu.bar([x - width for x in xs], [r["edge_us_per_frame"] for r in records], width, label="edge CPU")
    cpu.bar(xs, [r["bare_default_us"] for r in records], width, label="bare compress, default ctx")
    cpu.bar(
        [x + width for x in xs],
        [r["bare_sized_us"] for r in records],
        width,
        label="bare compress, edge's ctx",
    )
    cpu.set_xticks(list(xs), labels, fontsize=8)
    cpu.set_ylabel("CPU us per delivered frame")
    cpu.legend(fontsize=8)
    latency.bar(xs, [r["to_all_p99_ms"] or 0 for r in records], 0.5, label="POST -> last socket p99")
    latency.bar(xs, [r["each_p50_ms"] or 0 for r in records], 0.3, label="per socket p50")
    latency.set_xticks(list(xs), labels, fontsize=8)
    latency.set_ylabel("ms")
    latency.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
