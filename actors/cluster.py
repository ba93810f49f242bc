"""The ONE module that touches the Ray API: start or join Ray, named shard actors, calls, listing.

Every shard is a named actor (``<kind>-<n>``) in the configured namespace with ``num_cpus=0`` (a token share when placed on a node),
``get_if_exists=True`` and unlimited restarts, so an operator finds it by name in the dashboard
and a crashed shard comes back under the same name. Calls are submitted when made (Ray keeps a
caller's submission order per actor) and awaited as asyncio futures; a shard's own typed error
(``UnknownGuild``...) reaches the caller as itself, every other Ray error becomes
``ShardUnavailable``, so nothing outside this module needs to know Ray's exception types.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

import ray
from ray.exceptions import GetTimeoutError, RayActorError, RayError, RayTaskError
from ray.util import state as ray_state
from ray.util.metrics import Counter as Counter  # re-exported: Ray's metric types (actors/metrics.py)
from ray.util.metrics import Gauge as Gauge
from ray.util.metrics import Histogram as Histogram
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from rayguild.config import Config
from rayguild.errors import RayguildError, ShardUnavailable

T = TypeVar("T")

PLACED_CPUS = 0.001  # the CPU share an actor placed on a node asks for (see ``spawn``)


_dashboard: list[str] = []  # the dashboard address ray.init reported (empty: not started here)


def init(config: Config, dashboard: bool = True, **options: Any) -> None:
    """Start a local Ray (with its dashboard) or join ``config.ray_address``; idempotent."""
    if ray.is_initialized():
        return
    if config.ray_address:
        context = ray.init(address=config.ray_address, namespace=config.namespace, **options)
    else:
        # "local": a Ray of our own, never a cluster some other process started on this machine
        # (without it ray.init joins the newest one it finds, e.g. another node's or a test's).
        context = ray.init(
            address="local",
            namespace=config.namespace,
            include_dashboard=dashboard,
            dashboard_host=config.dashboard_host,
            dashboard_port=config.dashboard_port,
            **options,
        )
    _dashboard[:] = [context.dashboard_url] if context.dashboard_url else []


def shutdown() -> None:
    ray.shutdown()


def dashboard_url() -> str | None:
    """Where the dashboard of the Ray this process started or joined listens (None: none)."""
    url = _dashboard[0] if _dashboard else None
    return f"http://{url}" if url and not url.startswith("http") else url


@functools.cache
def _remote_class(cls: type) -> Any:
    return ray.remote(cls)


def spawn(cls: type, name: str, namespace: str, *args: Any, node_id: str | None = None) -> ActorRef:
    """Create (or find) the named actor ``name`` running ``cls(*args)``.

    ``node_id`` places it on that node softly: if the node is gone (now or when Ray restarts the
    actor after losing its node), Ray runs it on any surviving node instead of failing it.
    """
    placement: dict[str, Any] = {"num_cpus": 0}
    if node_id is not None:
        # Ray places an actor that requires no resource at all on a random node, whatever its
        # soft affinity says (measured on Ray 2.60: 2 of 6 on three nodes); a token CPU share makes
        # the scheduler honour it (every time), at no cost: shards are asyncio actors, not CPU slots.
        # A node whose CPUs are all taken spills the actor elsewhere instead of queueing it there.
        placement = {
            "num_cpus": PLACED_CPUS,
            "scheduling_strategy": NodeAffinitySchedulingStrategy(
                node_id, soft=True, _spill_on_unavailable=True
            ),
        }
    handle = (
        _remote_class(cls)
        .options(
            name=name,
            namespace=namespace,
            get_if_exists=True,
            max_restarts=-1,
            max_task_retries=0,
            max_concurrency=10_000,
            **placement,
        )
        .remote(*args)
    )
    return ActorRef(name, namespace, handle)


def alive_nodes() -> list[str]:
    """Node ids of the cluster's alive nodes, sorted."""
    return sorted(node["NodeID"] for node in ray.nodes() if node["Alive"])  # type: ignore[no-untyped-call]


def actor_restarted() -> bool:
    """Inside an actor: is this a restart (a new incarnation that lost its predecessor's memory)?"""
    # Ray's own property reads the deprecated ``actor_id`` inside (a RayDeprecationWarning in every
    # new actor that is not ours to fix); this public property is still the documented way to ask.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return bool(ray.get_runtime_context().was_current_actor_reconstructed)


@dataclass(slots=True)
class ActorRef:
    """A lazily resolved handle to a named actor; resolving is cached, never per call.

    Every actor body has ONE entry point, ``handle(command)``: what travels is a typed command,
    never a method name.
    """

    name: str
    namespace: str
    _handle: Any = None

    def _resolve(self) -> Any:
        if self._handle is None:
            try:
                self._handle = ray.get_actor(self.name, namespace=self.namespace)
            except ValueError as err:
                raise ShardUnavailable(f"no actor named {self.name} in namespace {self.namespace}") from err
        return self._handle

    def exists(self) -> bool:
        """Whether an actor of this name is registered now (its handle is kept if so)."""
        try:
            self._resolve()
        except ShardUnavailable:
            return False
        return True

    def send(self, command: object) -> Awaitable[Any]:
        """Submit now; the returned awaitable yields the result or raises a ``RayguildError``."""
        return _settle(self.name, self._resolve().handle.remote(command))

    def notify(self, command: object) -> None:
        """Submit and do not wait: for notices whose answer nobody needs (it is not reported)."""
        self._resolve().handle.remote(command)

    def send_sync(self, command: object, timeout_s: float = 60.0) -> Any:
        try:
            return ray.get(self._resolve().handle.remote(command), timeout=timeout_s)
        except (RayActorError, GetTimeoutError) as err:
            raise ShardUnavailable(f"{self.name} did not answer: {err}") from err

    def kill(self, restart: bool = True) -> None:
        ray.kill(self._resolve(), no_restart=not restart)


async def _settle(name: str, ref: Any) -> Any:
    try:
        return await ref
    except RayActorError as err:
        raise ShardUnavailable(f"{name} is unavailable (restarting or gone): {err}") from err
    except RayTaskError as err:
        if isinstance(err.cause, RayguildError):  # the shard's own answer (unknown guild...)
            raise err.cause from None
        raise ShardUnavailable(f"{name} failed: {err}") from err
    except RayError as err:
        raise ShardUnavailable(f"{name} failed: {err}") from err


class RayTransport:
    """The ``Transport`` over Ray: each shard a named actor of ``namespace``, handles cached."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self._refs: dict[str, ActorRef] = {}

    def endpoint(self, name: str) -> ActorRef:
        ref = self._refs.get(name)
        if ref is None:
            ref = self._refs[name] = ActorRef(name, self.namespace)
        return ref

    def register(self, ref: ActorRef) -> None:
        """Use the handle a spawn returned (the name may not be resolvable yet)."""
        self._refs[ref.name] = ref


@dataclass(frozen=True, slots=True)
class ActorInfo:
    name: str
    state: str
    node_id: str
    pid: int


def list_named_actors(namespace: str) -> list[ActorInfo]:
    """Alive and restarting named actors of ``namespace`` (through Ray's state API)."""
    # The address of THIS cluster: without it Ray picks the newest cluster on the machine.
    rows = ray_state.list_actors(
        address=gcs_address(), filters=[("ray_namespace", "=", namespace)], limit=10_000, detail=True
    )
    return [
        ActorInfo(row.name, row.state, row.node_id or "", row.pid or 0)
        for row in rows
        if row.name and row.state != "DEAD"
    ]


def node_of_current_actor() -> str:
    return ray.get_runtime_context().get_node_id()


def gcs_address() -> str:
    """Where another driver joins this Ray cluster."""
    return str(ray.get_runtime_context().gcs_address)
