"""The edge's Prometheus metrics, on a registry of its own (several edges may share a process).

Labels are low-cardinality: the route template (never the concrete path), method, status class,
close code, compression mode.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class EdgeMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "rayguild_http_requests", "REST requests served", ["route", "method", "status"],
            registry=registry,
        )  # fmt: skip
        self.request_seconds = Histogram(
            "rayguild_http_request_seconds", "REST request latency", ["route"], registry=registry
        )
        self.rate_limited = Counter(
            "rayguild_http_rate_limited", "Requests answered 429", ["bucket"], registry=registry
        )
        self.sockets = Gauge("rayguild_gateway_sockets", "Open gateway websockets", registry=registry)
        self.opened = Counter(
            "rayguild_gateway_opened", "Gateway websockets accepted, by transport compression",
            ["compress"], registry=registry,
        )  # fmt: skip
        self.closes = Counter(
            "rayguild_gateway_closes", "Gateway sockets closed, by close code", ["code"],
            registry=registry,
        )  # fmt: skip
        self.frames_out = Counter(
            "rayguild_gateway_frames_out", "Frames written to gateway sockets", registry=registry
        )
        self.bytes_out = Counter(
            "rayguild_gateway_bytes_out", "Bytes written to gateway sockets (after compression)",
            registry=registry,
        )  # fmt: skip
        self.resumes = Counter(
            "rayguild_gateway_resumes", "op 6 Resume outcomes", ["outcome"], registry=registry
        )
