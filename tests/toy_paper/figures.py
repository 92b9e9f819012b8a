"""The toy paper's figure ``toy-fig1``: the max-min SINR of ``toy2`` layouts against the number of users, every
number read from the SolveResult of ``experiments.solve``."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from experiments.reproduce import Figure, register_figure

USERS = (2, 3)


def tasks(full: bool) -> list[dict[str, Any]]:
    return [{"users": k, "seed": s} for k in USERS for s in range(4 if full else 2)]


def run_task(task: dict[str, Any]) -> list[dict[str, Any]]:
    import experiments
    import instances

    inst = instances.generate("toy2", seed=task["seed"], users=task["users"])
    res = experiments.solve("toy-maxmin", inst, "exact")
    return [{"users": task["users"], "seed": task["seed"], "min_sinr": res.objective,
             "status": res.status.value if hasattr(res.status, "value") else str(res.status)}]


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for k in USERS:
        vals = [float(r["min_sinr"]) for r in rows if int(r["users"]) == k]
        out.append({"users": k, "n": len(vals), "mean_min_sinr": sum(vals) / len(vals)})
    return out


def plot(rows: list[dict[str, Any]], summary: list[dict[str, Any]], path: Path, full: bool) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([s["users"] for s in summary], [s["mean_min_sinr"] for s in summary], marker="o")
    ax.set_xlabel("users")
    ax.set_ylabel("mean max-min SINR")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


FIGURE = register_figure(Figure(name="toy-fig1", description="toy paper: max-min SINR vs users", tasks=tasks,
                                run_task=run_task, summarise=summarise, plot=plot))
