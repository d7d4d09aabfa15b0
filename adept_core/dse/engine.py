"""Running a sweep: serially in this process or as Dask tasks, with resume, checkpoints and progress.

Nothing here schedules, retries or balances work by itself: Dask does. The
engine cuts the points still missing from the results file into batches
(``points_per_task``), submits one task per batch, keeps a bounded number in
flight, and records each batch's rows as it completes. A worker that dies
is Dask's business: the scheduler reruns the tasks that were on it (up to
``distributed.scheduler.allowed-failures`` deaths per task, default 3), so
only in-flight points are recomputed. A task that still fails is counted as
*lost*: its points are not written, so the next run retries them.
"""

from __future__ import annotations

import functools
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from ..errors import ConfigError
from .evaluate import Evaluator, check_builtin, evaluate_point, run_batch
from .feasibility import is_failure, is_infeasible
from .points import Point, expand
from .spec import RESERVED_COLUMNS, SweepSpec, load_spec

#: Seconds between checkpoints of finished rows to the journal.
CHECKPOINT_S = 10.0
#: Upper bound of the automatic batch size (see :func:`auto_points_per_task`).
MAX_POINTS_PER_TASK = 16
#: Tasks submitted ahead per worker thread. Dask queues them on the scheduler and hands a worker about
#: one per thread at a time (``distributed.scheduler.worker-saturation``), so a dying worker loses only
#: its running task and unfetched results, whatever this window; a deep window hides the submit/result
#: round trip (2 -> 16 cut the cost of one-point tasks ~4x on the 2-core test machine).
IN_FLIGHT_PER_THREAD = 16


@dataclass
class SweepResult:
    """What a run did.

    Attributes
    ----------
    table : pyarrow.Table
        One row per point of the spec that has a result (spec order).
    total : int
        Points in the spec.
    skipped : int
        Points already in the results file (not recomputed).
    computed : int
        Points evaluated by this run (including failed ones).
    failed : int
        Points recorded with an error message and no metrics (impossible configs ...).
    lost : int
        Points whose task failed even after Dask's retries; not recorded, retried by the next run.
    elapsed_s : float
        Wall time of the evaluation phase (including the start of a LocalCluster).
    infeasible : int
        Points evaluated by this run that are over a physical limit (``error`` "infeasible: ...",
        metrics kept; :mod:`adept_core.dse.feasibility`); not counted in ``failed``.
    """

    table: Any
    total: int
    skipped: int
    computed: int
    failed: int
    lost: int
    elapsed_s: float
    infeasible: int = 0


def sweep(spec: SweepSpec | dict | str | os.PathLike[str], client: Any = None,
          out: str | os.PathLike[str] | None = None, **options: Any) -> Any:
    """Run a design-space sweep and return its results table.

    Parameters
    ----------
    spec : SweepSpec, dict or path
        The sweep (see :mod:`adept_core.dse.spec`).
    client : dask.distributed.Client, str or None
        A client, or the address of a running scheduler. ``None`` starts a
        ``LocalCluster`` of worker processes for this call (``workers=0``
        evaluates serially in this process instead).
    out : path or None
        Parquet results file: points already in it are not recomputed and
        new rows are checkpointed into it. ``None`` keeps results in memory.
    **options
        ``workers``, ``evaluator``, ``points_per_task``, ``progress``,
        ``checkpoint_s``, ``max_points``, ``listen_all``: see :func:`run_sweep`.

    Returns
    -------
    pyarrow.Table
        One row per point (spec order), whatever else is installed: the type must not depend
        on the environment, and pandas is not a dependency of adept (``.to_pandas()`` or
        ``polars.from_arrow`` convert it when wanted).
    """
    return run_sweep(spec, client=client, out=out, **options).table


def run_sweep(spec: SweepSpec | dict | str | os.PathLike[str], client: Any = None,
              out: str | os.PathLike[str] | None = None, *, workers: int | None = None,
              evaluator: Evaluator | None = None, points_per_task: int | None = None,
              progress: bool | None = None, checkpoint_s: float = CHECKPOINT_S, max_points: int | None = None,
              listen_all: bool = False) -> SweepResult:
    """Run a sweep; like :func:`sweep` but returns a :class:`SweepResult` with counts.

    Parameters
    ----------
    workers : int or None
        Worker processes of the LocalCluster started when ``client`` is
        ``None`` (default: ``os.cpu_count()``); ``0`` runs serially here.
    evaluator : callable or None
        ``evaluator(point) -> dict of metrics`` (see
        :mod:`adept_core.dse.evaluate`); ``None`` is the built-in cost /
        fidelity evaluator. It must be picklable to run on Dask. Its
        ``module.qualname`` (or a ``sweep_id`` attribute) is part of the point hash.
    points_per_task : int or None
        Points per Dask task; overrides the spec's; ``None`` = automatic
        (1 when computing fidelity, else :func:`auto_points_per_task`).
    progress : bool or None
        Show a tqdm bar on stderr (``None``: only when stderr is a terminal).
    checkpoint_s : float
        Seconds between journal checkpoints (a crash loses at most this much work
        plus the in-flight points).
    max_points : int or None
        Most points the spec may have (default: the spec's ``max_points``,
        else :data:`adept_core.dse.spec.DEFAULT_MAX_POINTS`).
    listen_all : bool
        The LocalCluster started when ``client`` is ``None`` listens on
        127.0.0.1 only (scheduler, workers and dashboard: nobody else on the
        network can submit work or read the dashboard); ``True`` binds all
        interfaces, e.g. to watch the dashboard from another machine.

    Raises
    ------
    ConfigError
        Everything wrong with the spec, the options or the results file
        (a directory, unreadable, locked by another sweep, columns of another
        type), before any point is computed.
    """
    from .. import __version__
    # pyarrow is an optional dependency: imported when a sweep runs
    from .store import ResultStore, check_writable

    spec = load_spec(spec, max_points=max_points)
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 0):
        raise ConfigError(f"workers must be an integer >= 0, got {workers!r}")
    if workers is not None and client is not None:
        raise ConfigError("workers sizes the LocalCluster started when no client is given; pass one or the other")
    if points_per_task is not None and (not isinstance(points_per_task, int) or points_per_task < 1):
        raise ConfigError(f"points_per_task must be a positive integer, got {points_per_task!r}")
    if evaluator is None:
        check_builtin(spec)
    if isinstance(client, str):
        check_address(client)
    if out is not None:
        check_writable(Path(out))
    points = expand(spec, __version__, evaluator_id(evaluator))
    store = ResultStore(out, lock=True)
    try:
        store.check_columns({axis.key: list(axis.values) for axis in spec.axes})
        return _run(spec, points, store, client, workers, evaluator, points_per_task, progress, checkpoint_s,
                    listen_all, __version__)
    finally:
        store.close()


def _run(spec: SweepSpec, points: list[Point], store: Any, client: Any, workers: int | None,
         evaluator: Evaluator | None, points_per_task: int | None, progress: bool | None, checkpoint_s: float,
         listen_all: bool, version: str) -> SweepResult:
    todo = [p for p in points if p.point_hash not in store.done]
    # Impossible configs never reach a worker: their rows are written here with the loader's message.
    invalid = [p for p in todo if p.config is None]
    todo = [p for p in todo if p.config is not None]
    bar = _progress_bar(len(todo) + len(invalid), progress)
    counts = {"computed": 0, "failed": 0, "infeasible": 0, "lost": 0}

    def record(batch: list[Point], records: list[dict[str, Any]]) -> None:
        rows = [make_row(p, r, version) for p, r in zip(batch, records)]
        store.add(rows)
        counts["computed"] += len(rows)
        counts["failed"] += sum(1 for row in rows if is_failure(row["error"]))
        counts["infeasible"] += sum(1 for row in rows if is_infeasible(row["error"]))
        _advance(bar, len(rows), counts, len(todo) + len(invalid))
        if time.monotonic() - store.last_checkpoint >= checkpoint_s:
            store.checkpoint()

    def lose(batch: list[Point], exc: BaseException) -> None:
        counts["lost"] += len(batch)
        _advance(bar, len(batch), counts, len(todo) + len(invalid))

    start = time.perf_counter()
    try:
        record(invalid, [{"point_hash": p.point_hash, "error": p.config_error} for p in invalid])
        evaluate = evaluator or evaluate_point
        size = points_per_task or spec.points_per_task
        if client is None and workers == 0:
            for batch in _batches(todo, size or 1):
                record(batch, run_batch(evaluate, batch))
        elif todo:
            with _client(client, workers, listen_all) as dask_client:
                # Fidelity points take seconds: one per task costs nothing and balances best.
                size = size or (1 if "fidelity" in spec.compute else
                                auto_points_per_task(len(todo), _total_threads(dask_client)))
                _run_dask(dask_client, evaluate, _batches(todo, size), record, lose)
    finally:
        elapsed = time.perf_counter() - start
        if bar is not None:
            bar.close()
        table = store.consolidate(spec.source)
    return SweepResult(table=_select(table, points), total=len(points), skipped=len(points) - len(todo) - len(invalid),
                       elapsed_s=elapsed, **counts)


def evaluator_id(evaluator: Evaluator | None) -> str:
    """The name of a custom evaluator that enters the point hash ("" for the built-in one)."""
    if evaluator is None:
        return ""
    if hasattr(evaluator, "sweep_id"):
        return str(evaluator.sweep_id)
    func = evaluator.func if isinstance(evaluator, functools.partial) else evaluator
    return f"{getattr(func, '__module__', '')}.{getattr(func, '__qualname__', type(func).__name__)}"


def auto_points_per_task(num_points: int, threads: int) -> int:
    """Points per task: about 4 tasks per worker thread, at most :data:`MAX_POINTS_PER_TASK`.

    Several tasks per thread keep every worker busy to the end (load balance)
    and bound what a dying worker loses; the cap keeps the per-task overhead
    (a few ms of scheduling and pickling, see ``benchmarks/test_sweep_speed.py``)
    a small fraction of a batch while a lost task costs at most 16 points.
    """
    return max(1, min(MAX_POINTS_PER_TASK, math.ceil(num_points / (4 * max(1, threads)))))


def make_row(point: Point, record: dict[str, Any], version: str) -> dict[str, Any]:
    """The results row of ``point``: axis values, workload, metrics, error and provenance."""
    metrics = {k: v for k, v in record.items() if k not in ("point_hash", "error", "eval_time_s")}
    axis_names = {key for key, _ in point.values}
    clash = sorted((set(metrics) & (set(RESERVED_COLUMNS) | axis_names)))
    if clash:
        raise ConfigError(f"the evaluator returned metric(s) {clash} that clash with result columns")
    return {"workload": point.workload.label, **dict(point.values), "batch": point.batch, "seed": point.seed,
            **metrics, "error": record["error"], "eval_time_s": record.get("eval_time_s", 0.0),
            "adept_version": version, "config_hash": point.config_hash, "point_hash": point.point_hash}


def _select(table: Any, points: list[Point]) -> Any:
    """The rows of ``points`` in their order (the file may hold rows of other specs too)."""
    import pyarrow as pa

    if table.num_rows == 0:
        return table
    index = {h: i for i, h in enumerate(table.column("point_hash").to_pylist())}
    rows = [index[p.point_hash] for p in points if p.point_hash in index]
    return table.take(pa.array(rows, type=pa.int64()))


def _batches(points: list[Point], size: int) -> Iterator[list[Point]]:
    for i in range(0, len(points), size):
        yield points[i:i + size]


def _run_dask(client: Any, evaluate: Evaluator, batches: Iterator[list[Point]],
              record: Callable, lose: Callable) -> None:
    """Submit batches (a window of IN_FLIGHT_PER_THREAD per worker thread) and record each as it completes."""
    from distributed import as_completed

    in_flight = {}
    limit = IN_FLIGHT_PER_THREAD * _total_threads(client)
    # with_results: the client fetches each result as soon as its task ends, so few finished results
    # sit on a worker (where its death would lose them and make Dask recompute them).
    # loop= this client's: without it as_completed tracks the futures on default_client()'s loop, which is
    # another client's when the caller's client is not the default one.
    completed = as_completed(with_results=True, raise_errors=False, loop=client.loop)

    def submit() -> bool:
        batch = next(batches, None)
        if batch is None:
            return False
        future = client.submit(run_batch, evaluate, batch, pure=False)
        in_flight[future.key] = batch
        completed.add(future)
        return True

    while len(in_flight) < limit and submit():
        pass
    for future, result in completed:
        batch = in_flight.pop(future.key)
        if future.status == "error":  # e.g. KilledWorker after Dask's allowed failures
            lose(batch, result)
        else:
            record(batch, result)
        future.release()
        submit()


def _total_threads(client: Any) -> int:
    return max(1, sum(client.nthreads().values()))


class _client:
    """Context manager yielding a Dask client: the caller's, one for an address, or a new LocalCluster's."""

    def __init__(self, client: Any, workers: int | None, listen_all: bool = False):
        self.given, self.workers, self.listen_all = client, workers, listen_all
        self.owned: list[Any] = []

    def __enter__(self) -> Any:
        from distributed import Client, LocalCluster

        if self.given is not None and not isinstance(self.given, str):
            return self.given
        if isinstance(self.given, str):
            self.owned = [connect(self.given)]
            return self.owned[0]
        # One single-threaded process per worker: the cost model is pure Python (GIL-bound). The scheduler's
        # HTTP server (dashboard, /health) always starts; port 0 takes a free port instead of failing on 8787.
        # Loopback by default: a Dask scheduler runs whatever a client submits, so it must not face the network.
        host = "0.0.0.0" if self.listen_all else "127.0.0.1"
        cluster = LocalCluster(n_workers=self.workers or os.cpu_count() or 1, threads_per_worker=1,
                               processes=True, host=host, dashboard_address=f"{host}:0")
        client = Client(cluster)
        self.owned = [client, cluster]
        return client

    def __exit__(self, *exc: Any) -> None:
        for obj in self.owned:
            obj.close()


def connect(address: str) -> Any:
    """A client of the scheduler at ``address``; a malformed or unreachable address is a :class:`ConfigError`.

    The wait is Dask's ``distributed.comm.timeouts.connect`` (30 s by default;
    ``DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=5s`` shortens it).
    """
    from distributed import Client

    check_address(address)
    try:
        return Client(address)
    except (OSError, TimeoutError) as exc:
        raise ConfigError(f"cannot reach the Dask scheduler at {address!r} ({exc}); is it running?") from None


def check_address(address: str) -> None:
    """Refuse a malformed scheduler address (``tcp://HOST:PORT``; the scheme may be left out)."""
    from distributed.comm import parse_address

    try:
        protocol, location = parse_address(address)
        host, _, port = location.rpartition(":")
        if protocol in ("tcp", "tls") and not (host and port.isdigit()):
            raise ValueError("no host:port")
    except ValueError as exc:
        raise ConfigError(f"scheduler address {address!r} is malformed ({exc}); expected tcp://HOST:PORT") from None


def _progress_bar(total: int, progress: bool | None) -> Any:
    if progress is False or total == 0:
        return None
    from tqdm import tqdm

    # disable=None: tqdm shows the bar only on a terminal, so logs and CI stay clean.
    return tqdm(total=total, unit="pt", desc="adept sweep", dynamic_ncols=True,
                disable=None if progress is None else False)


def _advance(bar: Any, n: int, counts: dict[str, int], total: int) -> None:
    if bar is None:
        return
    done = counts["computed"] + counts["lost"]
    bar.set_postfix(done=counts["computed"], failed=counts["failed"] + counts["lost"],
                    infeasible=counts["infeasible"], remaining=total - done, refresh=False)
    bar.update(n)
