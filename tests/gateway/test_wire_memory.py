"""An idle gateway session's memory, bounded by what Python itself allocates for it (tracemalloc).

Machine-independent: the bytes come from tracemalloc's accounting of allocations made while real
sessions (a separate load-generator process: Hello, Identify, READY, GUILD_CREATE) set up against
an in-process edge, not from RSS or timing. The bound is generous (about 27 KiB traced today,
48 KiB before dispatch bodies were stored in buffers of their own size). Uncompressed: a
zlib-stream connection adds its 19 KiB deflate context until it is idle (test_wire.py shows
an idle one freeing it).
"""

from __future__ import annotations

from rayguild.benchmarks.edge_memory import measure

CONNECTIONS = 200
BOUND_BYTES = 32 * 1024  # per idle session, everything this process allocated for it


async def test_an_idle_session_costs_less_than_32_kib_of_traced_memory() -> None:
    m = await measure(CONNECTIONS, "")
    assert m.connections == CONNECTIONS
    assert 2 * 1024 < m.bytes_per_connection < BOUND_BYTES, (m.bytes_per_connection, m.by_line[:8])
    # No single allocation site keeps more than a replay ring's slice (numpy) plus slack per session.
    assert all(size < 8 * 1024 for _, size in m.by_line), m.by_line[:8]
