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

Two sweeps must not write the same file at the same time (no locking).
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


class ResultStore:
    """Rows of a sweep: those already on disk and those finished in this run.

    Parameters
    ----------
    path : path or None
        The Parquet file; ``None`` keeps everything in memory (nothing is resumed).
    """

    def __init__(self, path: str | os.PathLike[str] | None):
        self.path = Path(path) if path is not None else None
        self.journal = self.path.with_name(self.path.name + ".journal") if self.path else None
        self._tables: list[pa.Table] = []
        self._absorbed: list[Path] = []
        self._pending: list[dict[str, Any]] = []
        self._parts_written = 0
        self.done: set[str] = set()
        self.last_checkpoint = time.monotonic()
        if self.path is not None:
            self._load()

    def _load(self) -> None:
        if self.path.exists():
            self._tables.append(pq.read_table(self.path))
        if self.journal.is_dir():
            for part in sorted(self.journal.glob("part-*.parquet")):
                self._tables.append(pq.read_table(part))
                self._absorbed.append(part)
        for table in self._tables:
            if "point_hash" in table.column_names:
                self.done.update(table.column("point_hash").to_pylist())

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
        if self.path is None:
            return table
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
    from ..errors import ConfigError

    path = Path(path)
    journal = path.with_name(path.name + ".journal")
    if not path.exists() and not journal.is_dir():
        raise ConfigError(f"results file {str(path)!r} does not exist")
    return ResultStore(path).table()
