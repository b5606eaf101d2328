"""The thin Ray layer: ship a RemoteTask to a worker node as a streaming-generator task and
stream back what it reports, then its RemoteResult. Ray is imported only here, and only when
`--executor ray` is used.

Exactly once is prodigy's job, not Ray's: tasks run with `max_retries=0` (a node death ran
the task body twice with Ray's retries), and a lost node comes back as a `NodeLostError` the
map phase treats as a failed attempt under the workflow's retry policy.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import queue
import socket
import threading
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

from prodigy.core.errors import UsageError
from prodigy.runtime.remote.node import run_remote_attempt
from prodigy.runtime.remote.task import RemoteEvent, RemoteResult, RemoteTask

INSTALL = "pip install 'prodigy[ray]'"
_DONE = object()
_POLL = 0.1  # the generator wakes this often, so Ray's cancellation reaches its thread


class NodeLostError(Exception):
    """The node running the attempt died, or its worker process crashed."""


def import_ray() -> Any:
    """The ray module, or the one-line error naming the install command."""
    try:
        import ray
    except ImportError:
        raise UsageError(f"--executor ray needs Ray, which is not installed: {INSTALL}") from None
    return ray


def connect(address: str) -> None:
    """Join the cluster at `address` as its driver (this process stays the coordinator)."""
    ray = import_ray()
    if ray.is_initialized():
        return
    host = address.rsplit(":", 1)[0].removeprefix("ray://")
    node_ip = None
    with contextlib.suppress(ValueError):
        if ipaddress.ip_address(host).is_loopback:
            node_ip = host  # a head on loopback is on this host: stay on its address
    _reachable(address)
    try:
        ray.init(
            address=address,
            logging_level="ERROR",
            log_to_driver=False,
            _node_ip_address=node_ip,
        )
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise UsageError(
            f"cannot connect to the Ray cluster at {address!r}: {exc}; start one with"
            " `ray start --head` (see docs/ray.md) or pass --ray-address"
        ) from None


def _reachable(address: str) -> None:
    """A quick TCP check first: Ray itself retries an unreachable address for minutes."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return  # `auto`, or a form only Ray understands
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as exc:
        raise UsageError(
            f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}; is its head"
            " running (`ray start --head`, see docs/ray.md)?"
        ) from None


def disconnect() -> None:
    ray = import_ray()
    if ray.is_initialized():
        ray.shutdown()


def task_options(resources: Mapping[str, float]) -> dict[str, Any]:
    """Ray options for one attempt: never retried by Ray, placed by the requested resources."""
    rest = {k: float(v) for k, v in resources.items() if k not in ("CPU", "GPU")}
    options: dict[str, Any] = {
        "max_retries": 0,
        "retry_exceptions": False,
        "num_returns": "streaming",
        "num_cpus": float(resources.get("CPU", 0 if rest else 1)),
    }
    if "GPU" in resources:
        options["num_gpus"] = float(resources["GPU"])
    if rest:
        options["resources"] = rest
    return options


_REMOTE: Any = None


def _remote_function() -> Any:
    global _REMOTE  # noqa: PLW0603 - one remote function per process, made on first use
    if _REMOTE is None:
        _REMOTE = import_ray().remote(attempt_on_node)
    return _REMOTE


def put(data: bytes) -> Any:
    return import_ray().put(data)


async def submit(
    task: RemoteTask, full_ref: Any, resources: Mapping[str, float]
) -> tuple[Any, AsyncIterator[RemoteEvent | RemoteResult]]:
    """Start the attempt; returns a handle for `cancel` and the stream of what it reports.
    The full bundle travels as a reference inside a list, so Ray fetches it to the node only
    when the node asks (its cache lacks the job's root)."""
    ray = import_ray()
    generator = _remote_function().options(**task_options(resources)).remote(task, [full_ref])

    async def stream() -> AsyncIterator[RemoteEvent | RemoteResult]:
        try:
            async for ref in generator:
                yield await ref
        except (ray.exceptions.NodeDiedError, ray.exceptions.WorkerCrashedError) as exc:
            raise NodeLostError(str(exc).splitlines()[0]) from None
        except ray.exceptions.RayTaskError as exc:
            cause = exc.cause if isinstance(exc.cause, BaseException) else exc
            raise RuntimeError(f"the attempt failed on the node: {cause!r}") from None

    return generator, stream()


def cancel(handle: Any, *, force: bool) -> None:
    """Soft cancel interrupts the node's loop (which kills the attempt's process group);
    force kills the worker process (the next task on the node sweeps what it left)."""
    with contextlib.suppress(Exception):  # already finished, or the node is gone
        import_ray().cancel(handle, force=force)


def attempt_on_node(task: RemoteTask, full: list[Any]) -> Iterator[RemoteEvent | RemoteResult]:
    """Runs on the worker node: the attempt in an asyncio loop on a thread, its events
    streamed as they come, then the result. Cancellation (KeyboardInterrupt from Ray) cancels
    the attempt, whose cleanup kills its process group, before it propagates."""
    ray = import_ray()
    home = Path(os.environ.get("PRODIGY_HOME") or Path.home() / ".prodigy").expanduser()
    context = ray.get_runtime_context()
    node = f"{ray.util.get_node_ip_address()}/{context.get_node_id()[:8]}"
    events: queue.Queue[object] = queue.Queue()
    box: dict[str, Any] = {}
    ready = threading.Event()

    async def full_bundle() -> bytes:
        data: bytes = await asyncio.to_thread(ray.get, full[0])
        return data

    async def attempt() -> RemoteResult:
        box["loop"], box["task"] = asyncio.get_running_loop(), asyncio.current_task()
        ready.set()
        return await run_remote_attempt(
            task, home=home, node=node, full_bundle=full_bundle, on_event=events.put
        )

    def loop() -> None:
        try:
            box["result"] = asyncio.run(attempt())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the generator that waits
            box["error"] = exc
        finally:
            ready.set()
            events.put(_DONE)

    thread = threading.Thread(target=loop, name="prodigy-attempt", daemon=True)
    thread.start()
    yield RemoteEvent("started", line=node)
    try:
        while True:
            try:
                item = events.get(timeout=_POLL)
            except queue.Empty:
                continue
            if item is _DONE:
                break
            assert isinstance(item, RemoteEvent)
            yield item
    except BaseException:
        ready.wait()
        if "task" in box:
            box["loop"].call_soon_threadsafe(box["task"].cancel)
        thread.join(timeout=task.grace_period + 30)
        raise
    thread.join()
    if "error" in box:
        raise box["error"]
    yield box["result"]
