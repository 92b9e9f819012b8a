"""The resumable SQLite store of ``cfopt sweep``: one row per task, written only by the sweep's parent process.

Schema (table ``results``; the database runs in WAL mode)::

    id              INTEGER PRIMARY KEY
    study           TEXT    NOT NULL        study name
    task_key        TEXT    NOT NULL UNIQUE canonical JSON [study, grid point, realisation, method]
    point           TEXT    NOT NULL        grid point, JSON object ([grid] and [option_grid] values)
    realisation     INTEGER NOT NULL
    instance_seed   INTEGER NOT NULL        seed given to the instance generator
    method          TEXT    NOT NULL
    scenario        TEXT    NOT NULL        instance generator
    gen_params      TEXT    NOT NULL        JSON: every generator parameter except the seed
    options         TEXT    NOT NULL        JSON: the method options (seed and time_limit aside)
    problem, formulation, solver, solver_version, instance, instance_hash      TEXT  (SolveResult)
    status          TEXT    NOT NULL        optimal | feasible | infeasible | unbounded | limit | error
    certificate     TEXT    NOT NULL        global | local | stationary | none
    objective, solver_objective, bound, gap, max_violation                      REAL  (NULL = none; ±Inf kept)
    wall_time_s     REAL    NOT NULL        the method's own time
    iterations      INTEGER
    trace           TEXT    NOT NULL        JSON list
    solution        TEXT    NOT NULL        JSON object
    seed            INTEGER                 the method's seed
    versions        TEXT    NOT NULL        JSON object
    message         TEXT    NOT NULL        for status error from a raising method: "<ExceptionType>: <text>"
    engine_wall_s   REAL    NOT NULL        the task's wall time in the worker (instance generation + solve)
    worker          TEXT    NOT NULL        host:pid that ran the task
    finished_at     TEXT    NOT NULL        UTC, ISO 8601

Each row is written by one ``INSERT`` in its own transaction, so a killed sweep loses at most the tasks in flight
and never leaves a partial row; the UNIQUE task key forbids duplicates (a second sweep writing the same task into the
same database is told so and skips it).

Readers: :func:`rows`, :func:`tidy_rows` (one flat dict per task), :func:`summary` (per grid point and method: n,
mean objective, 95 % interval, shares infeasible / limit / error) and :func:`ecdf` (empirical CDF of a per-user
quantity of the solutions, e.g. ``"sinr"``).
"""
from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path
from typing import Any, Iterable, Mapping

from instances.errors import InputError

__all__ = ["COLUMNS", "REQUIRED", "Store", "open_store", "rows", "tidy_rows", "summary", "ecdf", "DuplicateTask"]

#: (name, SQL type) of every stored column except ``id``, in table order
COLUMNS: list[tuple[str, str]] = [
    ("study", "TEXT NOT NULL"), ("task_key", "TEXT NOT NULL UNIQUE"), ("point", "TEXT NOT NULL"),
    ("realisation", "INTEGER NOT NULL"), ("instance_seed", "INTEGER NOT NULL"), ("method", "TEXT NOT NULL"),
    ("scenario", "TEXT NOT NULL"), ("gen_params", "TEXT NOT NULL"), ("options", "TEXT NOT NULL"),
    ("problem", "TEXT NOT NULL"), ("formulation", "TEXT NOT NULL"), ("solver", "TEXT NOT NULL"),
    ("solver_version", "TEXT NOT NULL"), ("instance", "TEXT NOT NULL"), ("instance_hash", "TEXT NOT NULL"),
    ("status", "TEXT NOT NULL"), ("certificate", "TEXT NOT NULL"),
    ("objective", "REAL"), ("solver_objective", "REAL"), ("bound", "REAL"), ("gap", "REAL"),
    ("max_violation", "REAL"), ("wall_time_s", "REAL NOT NULL"), ("iterations", "INTEGER"),
    ("trace", "TEXT NOT NULL"), ("solution", "TEXT NOT NULL"), ("seed", "INTEGER"), ("versions", "TEXT NOT NULL"),
    ("message", "TEXT NOT NULL"), ("engine_wall_s", "REAL NOT NULL"), ("worker", "TEXT NOT NULL"),
    ("finished_at", "TEXT NOT NULL"),
    # added after the first databases were written (nullable, appended: older files gain it on open)
    ("context", "TEXT"),
]
NAMES = [c for c, _ in COLUMNS]
REQUIRED = [c for c, t in COLUMNS if "NOT NULL" in t]
JSON_COLUMNS = ("point", "gen_params", "options", "trace", "solution", "versions", "context")
REAL_COLUMNS = ("objective", "solver_objective", "bound", "gap", "max_violation")
#: scalar columns of a tidy row (after the grid point's own columns)
TIDY = ["study", "task_key", "realisation", "instance_seed", "method", "status", "certificate", "objective",
        "solver_objective", "bound", "gap", "max_violation", "wall_time_s", "engine_wall_s", "iterations", "seed",
        "problem", "formulation", "solver", "solver_version", "scenario", "instance", "instance_hash", "worker",
        "finished_at", "message"]


class DuplicateTask(Exception):
    """The task key is already stored (another sweep wrote it first)."""


def _connect(path: str | Path) -> sqlite3.Connection:
    con = sqlite3.connect(str(path), isolation_level=None, timeout=60.0)   # autocommit; explicit BEGIN below
    con.row_factory = sqlite3.Row
    return con


class Store:
    """A sweep database. Only one process should write (the sweep's parent); any number may read."""

    def __init__(self, path: str | Path, *, create: bool = True):
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise InputError("--db", f"no such database: {self.path}")
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = _connect(self.path)
            self.con.execute("PRAGMA busy_timeout = 60000")
            if create:
                mode = self.con.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise InputError("--db", f"{self.path}: cannot switch to WAL mode (got {mode})")
                self.con.execute("PRAGMA synchronous=NORMAL")    # WAL + NORMAL: durable against process death
                cols = ",\n  ".join(f"{n} {t}" for n, t in COLUMNS)
                self.con.execute(f"CREATE TABLE IF NOT EXISTS results (\n  id INTEGER PRIMARY KEY,\n  {cols}\n)")
                self.con.execute("CREATE INDEX IF NOT EXISTS results_study_method ON results(study, method)")
                have = {r[1] for r in self.con.execute("PRAGMA table_info(results)")}
                for name, typ in COLUMNS:
                    if name not in have and "NOT NULL" not in typ:
                        self.con.execute(f"ALTER TABLE results ADD COLUMN {name} {typ}")
            else:
                self.con.execute("SELECT 1 FROM results LIMIT 1")
        except sqlite3.DatabaseError as exc:
            raise InputError("--db", f"{self.path}: not a sweep database ({exc})") from None

    # ---------------------------------------------------------------------------------------------- writing
    def insert(self, row: Mapping[str, Any]) -> None:
        """Store one finished task in its own transaction. :class:`DuplicateTask` if its key is already stored."""
        missing = [c for c in REQUIRED if row.get(c) is None]
        if missing:
            raise ValueError(f"row {row.get('task_key')!r} lacks required column(s) {missing}")
        values = [_sql(c, row.get(c)) for c in NAMES]
        sql = f"INSERT INTO results ({', '.join(NAMES)}) VALUES ({', '.join('?' * len(NAMES))})"
        self.con.execute("BEGIN IMMEDIATE")
        try:
            self.con.execute(sql, values)
        except sqlite3.IntegrityError:
            self.con.execute("ROLLBACK")
            raise DuplicateTask(row["task_key"]) from None
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def delete(self, study: str, *, statuses: Iterable[str] | None = None, keys: Iterable[str] | None = None) -> int:
        """Delete rows of ``study`` (optionally only those with one of ``statuses`` / with one of ``keys``)."""
        sql, args = "DELETE FROM results WHERE study = ?", [study]
        if statuses is not None:
            st = list(statuses)
            sql += f" AND status IN ({', '.join('?' * len(st))})"
            args += st
        self.con.execute("BEGIN IMMEDIATE")
        try:
            if keys is not None:
                n = 0
                for k in keys:
                    n += self.con.execute(sql + " AND task_key = ?", [*args, k]).rowcount
            else:
                n = self.con.execute(sql, args).rowcount
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")
        return n

    # ---------------------------------------------------------------------------------------------- reading
    def stored(self, study: str) -> dict[str, dict[str, Any]]:
        """task key -> the columns that pin a task's settings (for resume and the consistency check)."""
        cur = self.con.execute("SELECT task_key, instance_seed, scenario, gen_params, options, problem, status "
                               "FROM results WHERE study = ?", (study,))
        return {r["task_key"]: dict(r) for r in cur}

    def rows(self, study: str, method: str | None = None) -> list[dict[str, Any]]:
        sql, args = "SELECT * FROM results WHERE study = ?", [study]
        if method is not None:
            sql += " AND method = ?"
            args.append(method)
        return [_decode(dict(r)) for r in self.con.execute(sql + " ORDER BY id", args)]

    def count(self, study: str | None = None) -> int:
        if study is None:
            return self.con.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        return self.con.execute("SELECT COUNT(*) FROM results WHERE study = ?", (study,)).fetchone()[0]

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_store(db: "str | Path | Store", *, create: bool = False) -> Store:
    return db if isinstance(db, Store) else Store(db, create=create)


def _sql(col: str, v: Any) -> Any:
    if col in JSON_COLUMNS:
        from solvers_adapters.result import _jsonable

        return json.dumps(_jsonable(v if v is not None else ({} if col != "trace" else [])), allow_nan=False)
    if col in REAL_COLUMNS or col in ("wall_time_s", "engine_wall_s"):
        if v is None:
            return None
        f = float(v)               # "inf"/"-inf"/"nan" strings of SolveResult.to_dict() too
        return None if math.isnan(f) else f
    if col in ("realisation", "instance_seed", "iterations", "seed"):
        return None if v is None else int(v)
    return v


def _decode(r: dict[str, Any]) -> dict[str, Any]:
    for c in JSON_COLUMNS:
        if c in r and isinstance(r[c], str):
            r[c] = json.loads(r[c])
    return r


def _study_name(study: Any) -> str:
    return study if isinstance(study, str) else study.name


# ---------------------------------------------------------------------------------------------------- analysis
def rows(db, study, method: str | None = None) -> list[dict[str, Any]]:
    """Every stored row of ``study`` (a name or :class:`~experiments.study.Study`), JSON columns decoded."""
    s = open_store(db)
    try:
        return s.rows(_study_name(study), method)
    finally:
        if s is not db:
            s.close()


def tidy_rows(db, study) -> list[dict[str, Any]]:
    """One flat dict per task: the grid point's values as columns, then the scalar fields (:data:`TIDY`)."""
    out = []
    for r in rows(db, study):
        flat = dict(r["point"])
        flat.update({c: r.get(c) for c in TIDY if c not in flat})
        out.append(flat)
    return out


def _point_label(point: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in point.items()) or "-"


def summary(db, study) -> list[dict[str, Any]]:
    """Per (grid point, method), in the study's order (first-stored order when given a name): ``n`` tasks, ``n_objective`` with a finite objective,
    ``mean_objective`` over those, ``ci95`` = 1.96·sd/√n (sample sd; None when fewer than 2), and the shares of
    tasks ``infeasible``, ``limit`` and ``error``."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    points: dict[str, dict[str, Any]] = {}
    for r in rows(db, study):
        pk = json.dumps(r["point"], sort_keys=True)
        points[pk] = r["point"]
        groups.setdefault((pk, r["method"]), []).append(r)
    order = list(groups)
    if hasattr(study, "grid_points"):          # a Study: its grid order, then its method order
        rank = {(json.dumps({**g, **o}, sort_keys=True), m): i
                for i, ((g, o), m) in enumerate((gp, m) for gp in study.grid_points() for m in study.methods)}
        order.sort(key=lambda k: rank.get(k, len(rank)))
    out = []
    for pk, method in order:
        rs = groups[(pk, method)]
        objs = [r["objective"] for r in rs if r["objective"] is not None and math.isfinite(r["objective"])]
        n, k = len(rs), len(objs)
        mean = sum(objs) / k if k else None
        ci = None
        if k >= 2:
            var = sum((x - mean) ** 2 for x in objs) / (k - 1)
            ci = 1.96 * math.sqrt(var) / math.sqrt(k)
        row = dict(points[pk])
        row.update({"method": method, "n": n, "n_objective": k, "mean_objective": mean, "ci95": ci,
                    "share_infeasible": sum(r["status"] == "infeasible" for r in rs) / n,
                    "share_limit": sum(r["status"] == "limit" for r in rs) / n,
                    "share_error": sum(r["status"] == "error" for r in rs) / n})
        out.append(row)
    return out


def format_summary(summ: list[dict[str, Any]], point_keys: list[str]) -> str:
    def f(x, spec=".6g"):
        return "-" if x is None else format(x, spec)

    head = (f"{'grid point':<28}{'method':<16}{'n':>5}{'mean objective':>16}{'± 95 %':>12}"
            f"{'infeasible':>11}{'limit':>7}{'error':>7}")
    lines = [head, "-" * len(head)]
    for r in summ:
        label = _point_label({k: r[k] for k in point_keys if k in r})
        lines.append(f"{label:<28}{r['method']:<16}{r['n']:>5}{f(r['mean_objective']):>16}{f(r['ci95'], '.3g'):>12}"
                     f"{r['share_infeasible']:>11.0%}{r['share_limit']:>7.0%}{r['share_error']:>7.0%}")
    return "\n".join(lines)


def ecdf(db, study, method: str, key: str, *, point: Mapping[str, Any] | None = None,
         statuses: Iterable[str] = ("optimal", "feasible", "limit")):
    """Empirical CDF of ``solution[key]`` (a per-user list such as ``"sinr"``, or a scalar) pooled over the stored
    tasks of ``study`` run with ``method`` whose status is in ``statuses`` (and, when given, whose grid point
    contains ``point``'s items). Returns ``(x, F)`` as numpy arrays: x sorted ascending, F[i] = (i + 1) / len(x)."""
    import numpy as np

    want = set(statuses)
    vals: list[float] = []
    for r in rows(db, study, method):
        if r["status"] not in want or key not in (r["solution"] or {}):
            continue
        if point is not None and any(r["point"].get(k) != v for k, v in point.items()):
            continue
        v = r["solution"][key]
        vals += np.asarray(v, dtype=float).ravel().tolist()       # "inf"/"nan" strings of JSON included
    x = np.sort(np.asarray(vals, dtype=float))
    F = np.arange(1, len(x) + 1, dtype=float) / max(len(x), 1)
    return x, F
