"""The cost model at the iso-accuracy laser: the design vs the systolic baselines (as ``adept compare``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping

#: Workloads, batches and baselines of the comparison: the paper's three zoo workloads and the two real
#: models' own graphs (shapes only: MiniLM at the study's padded length of 16 tokens, EfficientNet at 224 px).
ZOO_WORKLOADS = ("resnet50", "bert-large", "rnnt")
REAL_WORKLOADS = ("minilm", "efficientnet-lite0")
WORKLOADS = ZOO_WORKLOADS + REAL_WORKLOADS
MINILM_SEQ_LEN = 16
BATCHES = (1, 8)
BASELINES = ("systolic", "systolic-tpuv1")


@lru_cache(maxsize=64)
def _graph(workload: str, batch: int):
    from ..graph import zoo

    if workload == "minilm":
        from ..models.minilm import build_graph

        return build_graph(batch, MINILM_SEQ_LEN)
    if workload == "efficientnet-lite0":
        from ..models.efficientnet_lite import build_graph

        return build_graph(batch)
    return zoo.build(workload, batch=batch)


@lru_cache(maxsize=64)
def _baseline(workload: str, batch: int, baseline: str):
    from ..energy.evaluate import evaluate

    return evaluate(_graph(workload, batch), baseline, batch)


def cost_rows(cfg, workloads=WORKLOADS, batches=BATCHES, baselines=BASELINES) -> list[dict[str, Any]]:
    """One dict per (workload, batch, baseline): ADEPT's and the baseline's IPS, W, IPS/W and the ratio."""
    from ..energy.evaluate import evaluate

    rows = []
    for w in workloads:
        for b in batches:
            a = evaluate(_graph(w, b), cfg, b)
            for base in baselines:
                s = _baseline(w, b, base)
                rows.append({"workload": w, "batch": b, "baseline": base,
                             "adept_inferences_per_s": a.inferences_per_s, "adept_power_w": a.power_w,
                             "adept_inferences_per_s_per_w": a.inferences_per_s_per_w,
                             "baseline_inferences_per_s": s.inferences_per_s, "baseline_power_w": s.power_w,
                             "baseline_inferences_per_s_per_w": s.inferences_per_s_per_w,
                             "ips_per_w_ratio": a.inferences_per_s_per_w / s.inferences_per_s_per_w})
    return rows


def empty_cost_rows(workloads=WORKLOADS, batches=BATCHES, baselines=BASELINES) -> list[Mapping[str, Any]]:
    """The same keys with no numbers: the rows of an unreachable design."""
    keys = ("adept_inferences_per_s", "adept_power_w", "adept_inferences_per_s_per_w", "baseline_inferences_per_s",
            "baseline_power_w", "baseline_inferences_per_s_per_w", "ips_per_w_ratio")
    return [{"workload": w, "batch": b, "baseline": base, **dict.fromkeys(keys)}
            for w in workloads for b in batches for base in baselines]
