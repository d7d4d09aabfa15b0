"""The results file: one Parquet row per point, written so that a crash never corrupts it.

Layout for ``--out results.parquet``:

- ``results.parquet`` -- the consolidated table (one row per ``point_hash``);
- ``results.parquet.journal/part-*.parquet`` -- checkpoints of rows finished
  since the last consolidation, one small file per checkpoint.

Every file is written to a temporary name in the same directory, flushed and
``fsync``-ed, then moved into place with :func:`os.replace` (atomic on POSIX
and Windows): a reader or a crash sees the old file or the new one, never a
half-written one. Checkpoints append a new part instead of rewriting the whole
table, so their cost does not grow with the sweep. On open, the table and the
journal are merged (first row of each hash wins); consolidation rewrites the
table and only then deletes the parts it absorbed, so a crash between the two
steps leaves duplicates that the next open drops, never a loss.

A writer holds an exclusive ``fcntl`` lock on ``results.parquet.lock`` (next
to the file) from opening the store to closing it; a second sweep on the same
file is refused at once with the first one's pid, so neither loses rows. The
lock file stays behind (deleting it would race with the next writer); the
kernel drops the lock when its process exits, however it dies. Where
``fcntl`` does not exist (Windows) there is no lock. Readers take no lock:
every file they see is complete.

Existing files are checked before anything is computed: a file or part that
is not Parquet (truncated, foreign) or has no ``point_hash`` column is refused
with its name and the way to recover, and so is an axis whose values cannot
share a column with the file's (ints then strings). A part is only written
when its schema merges with the rest, so the package can always read back
what it wrote.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from pathlib import Path
from typing import Any, Iterable

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import ConfigError

#: Schema-metadata key holding the spec (JSON) of the last sweep that wrote the file.
SPEC_METADATA_KEY = b"adept.sweep.spec"


def rows_to_table(rows: list[dict[str, Any]]) -> pa.Table:
    """A table with the union of the rows' keys as columns (missing values are null).

    ``pa.Table.from_pylist`` takes its columns from the first row only, which
    would drop the metrics of every row after a failed (metric-less) one.
    """
    columns = list(dict.fromkeys(itertools.chain.from_iterable(rows)))
    return pa.table({name: pa.array([row.get(name) for row in rows]) for name in columns})


def concat(tables: Iterable[pa.Table]) -> pa.Table:
    """Concatenate tables whose columns differ (null-filled) or widen (int64 -> double)."""
    tables = [t.replace_schema_metadata(None) for t in tables]
    if not tables:
        return pa.table({})
    return pa.concat_tables(tables, promote_options="permissive")


def first_per_hash(table: pa.Table) -> pa.Table:
    """Keep the first row of each ``point_hash``."""
    if table.num_rows == 0:
        return table
    seen: dict[str, int] = {}
    for i, h in enumerate(table.column("point_hash").to_pylist()):
        seen.setdefault(h, i)
    if len(seen) == table.num_rows:
        return table
    return table.take(pa.array(sorted(seen.values()), type=pa.int64()))


def write_atomic(table: pa.Table, path: Path) -> None:
    """Write ``table`` to ``path`` as Parquet: temp file in the same directory, fsync, ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            pq.write_table(table, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; directories cannot be opened this way on Windows.
    if os.name == "posix":
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _read(path: Path, what: str, recover: str) -> pa.Table:
    """A results table or part, or a :class:`ConfigError` naming the file and how to recover."""
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise ConfigError(f"{what} {str(path)!r} cannot be read as Parquet (truncated or not a results file: "
                          f"{exc}); {recover}") from None
    if table.num_rows == 0 and not table.column_names:  # what an empty sweep wrote before 0.x: harmless
        return table
    column = table.column("point_hash") if "point_hash" in table.column_names else None
    if column is None or column.null_count or not pa.types.is_string(column.type):
        raise ConfigError(f"{what} {str(path)!r} is not an adept results file (no point_hash column of text, "
                          f"one per row); {recover}")
    return table


class _Lock:
    """An exclusive, non-blocking ``flock`` on ``path`` holding the owner's pid (see the module docstring)."""

    def __init__(self, path: Path, results: Path):
        self.fd = None
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks of this kind
            return
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ConfigError(f"cannot write the results file {str(results)!r}: creating its lock file failed "
                              f"({exc.strerror}); choose a writable --out") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            owner = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise ConfigError(f"results file {str(results)!r} is being written by another sweep (pid {owner}); "
                              "wait for it to finish or choose another --out") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor drops the flock
            self.fd = None


def check_writable(path: Path) -> None:
    """Refuse an output location that cannot hold a results file, before anything is computed."""
    journal = path.with_name(path.name + ".journal")
    if path.is_dir():
        raise ConfigError(f"--out {str(path)!r} is a directory; name a file such as {str(path / 'results.parquet')!r}")
    if journal.exists() and not journal.is_dir():
        raise ConfigError(f"{str(journal)!r} (the journal of {str(path)!r}) exists and is not a directory; "
                          "move it away")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"--out {str(path)!r}: cannot create directory {str(path.parent)!r} "
                          f"({exc.strerror})") from None


class ResultStore:
    """Rows of a sweep: those already on disk and those finished in this run.

    Parameters
    ----------
    path : path or None
        The Parquet file; ``None`` keeps everything in memory (nothing is resumed).
    lock : bool
        Take the writer's lock (refused while another process holds it);
        release it with :meth:`close`. Readers pass ``False``.
    """

    def __init__(self, path: str | os.PathLike[str] | None, lock: bool = False):
        self.path = Path(path) if path is not None else None
        self.journal = self.path.with_name(self.path.name + ".journal") if self.path else None
        self._tables: list[pa.Table] = []
        self._absorbed: list[Path] = []
        self._pending: list[dict[str, Any]] = []
        self._parts_written = 0
        self._lock: _Lock | None = None
        self.done: set[str] = set()
        self.last_checkpoint = time.monotonic()
        if self.path is not None:
            if lock:
                check_writable(self.path)
                self._lock = _Lock(self.path.with_name(self.path.name + ".lock"), self.path)
            try:
                self._load()
            except BaseException:
                self.close()
                raise

    def close(self) -> None:
        """Release the writer's lock (if held); the store must not be written after this."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _load(self) -> None:
        if self.path.exists():
            self._tables.append(_read(self.path, "results file", "move it away (its points are computed again) "
                                      "or restore it from a backup"))
        if self.journal.is_dir():
            for part in sorted(self.journal.glob("*.parquet")):
                self._tables.append(_read(part, "journal part", "delete it (its points are computed again by the "
                                          "next run)"))
                self._absorbed.append(part)
        for table in self._tables:
            if table.num_rows:
                self.done.update(table.column("point_hash").to_pylist())

    @property
    def schema(self) -> pa.Schema:
        """The merged schema of every table on disk (what a new row must fit)."""
        return pa.unify_schemas([t.schema.remove_metadata() for t in self._tables] or [pa.schema([])],
                                promote_options="permissive")

    def check_columns(self, columns: dict[str, list[Any]]) -> None:
        """Refuse column values (an axis's) whose type cannot merge with the file's, before they are computed."""
        known = self.schema
        for name, values in columns.items():
            if name not in known.names:
                continue
            new = pa.array(values).type
            try:
                pa.unify_schemas([pa.schema([known.field(name)]), pa.schema([pa.field(name, new)])],
                                 promote_options="permissive")
            except (pa.ArrowTypeError, pa.ArrowInvalid):
                raise ConfigError(f"axis {name!r} has {new} values but column {name!r} of {str(self.path)!r} holds "
                                  f"{known.field(name).type}; rename the axis or write to another --out") from None

    def add(self, rows: list[dict[str, Any]]) -> None:
        """Record finished rows (kept in memory until the next :meth:`checkpoint`)."""
        self._pending.extend(rows)
        self.done.update(row["point_hash"] for row in rows)

    def checkpoint(self) -> None:
        """Write the rows finished since the last checkpoint as a new journal part."""
        self.last_checkpoint = time.monotonic()
        if not self._pending:
            return
        table = rows_to_table(self._pending)
        try:
            # A part that cannot merge would make the file unreadable for every later run: refuse it unwritten.
            pa.unify_schemas([self.schema, table.schema], promote_options="permissive")
        except (pa.ArrowTypeError, pa.ArrowInvalid) as exc:
            raise ConfigError(f"new rows do not fit the columns of {str(self.path)!r} ({exc}); "
                              "write to another --out") from None
        self._pending = []
        self._tables.append(table)
        if self.path is None:
            return
        self._parts_written += 1
        part = self.journal / f"part-{time.time_ns():020d}-{os.getpid()}-{self._parts_written:06d}.parquet"
        write_atomic(table, part)
        self._absorbed.append(part)

    def table(self) -> pa.Table:
        """Every row known (on disk and finished in this run), one per hash."""
        self.checkpoint()
        return first_per_hash(concat(self._tables))

    def consolidate(self, spec_source: dict | None = None) -> pa.Table:
        """Rewrite the results file with every row and drop the journal; returns the table."""
        table = self.table()
        if self.path is None or (table.num_rows == 0 and not self.path.exists()):
            return table  # nothing to keep: no empty file that names no columns
        if spec_source is not None:
            table = table.replace_schema_metadata({SPEC_METADATA_KEY: json.dumps(spec_source, default=str)})
        write_atomic(table, self.path)
        for part in self._absorbed:
            part.unlink(missing_ok=True)
        self._absorbed = []
        if self.journal.is_dir() and not any(self.journal.iterdir()):
            self.journal.rmdir()
        self._tables = [table]
        return table


def read_results(path: str | os.PathLike[str]) -> pa.Table:
    """Read a results file, merging any journal left by an interrupted sweep."""
    path = Path(path)
    journal = path.with_name(path.name + ".journal")
    if path.is_dir():
        raise ConfigError(f"results file {str(path)!r} is a directory")
    if not path.exists() and not journal.is_dir():
        raise ConfigError(f"results file {str(path)!r} does not exist")
    return ResultStore(path).table()
