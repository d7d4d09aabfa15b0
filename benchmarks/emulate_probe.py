"""Run one zoo model through the emulator in a fresh process; print seconds, breakdown and peak RSS as JSON.

Used by ``benchmarks/test_emulate_speed.py`` (a subprocess, so the peak RSS
is this model's alone) and by hand::

    python benchmarks/emulate_probe.py bert-large --seq-len 384
    python benchmarks/emulate_probe.py rnnt --utterance-s 7.2
    python benchmarks/emulate_probe.py resnet50

The hardware is the ``adept`` preset (noise from its link budget), ADC range
``worst_case`` (no calibration pass), backend ``auto``, one inference per
repeat (``--samples N`` streams N inputs through the batch-1 graph instead);
the first run (which programs every core) is reported separately from the
steady-state median of ``--repeats`` further runs.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time

import numpy as np


def peak_rss_mb() -> float:
    """This process's peak resident set, MB.

    ``VmHWM`` of ``/proc/self/status`` belongs to the current address space;
    ``ru_maxrss`` would also count the parent's RSS at fork time (it survives
    ``exec``), so it is only the fallback off Linux.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None) -> dict:
    p = argparse.ArgumentParser()
    p.add_argument("model", choices=("resnet50", "bert-large", "rnnt"))
    p.add_argument("--seq-len", type=int, default=384)
    p.add_argument("--utterance-s", type=float, default=7.2)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--backend", default="auto")
    p.add_argument("--samples", type=int, default=1,
                   help="inputs streamed through the batch-1 graph per run (shows memory stays bounded)")
    args = p.parse_args(argv)

    from adept_core.emulate import fold_batchnorm, prepare
    from adept_core.emulate.inputs import synthetic_inputs
    from adept_core.graph import zoo
    from adept_core.graph.lowering import graph_macs
    from adept_core.hardware import kernel_spec, load_config

    params = {"bert-large": {"seq_len": args.seq_len}, "rnnt": {"utterance_s": args.utterance_s}}.get(args.model, {})
    graph = fold_batchnorm(zoo.build(args.model, **params))
    batches = [synthetic_inputs(graph, seed=i) for i in range(args.samples)]
    inputs = {name: np.concatenate([b[name] for b in batches], axis=graph.meta.get("batch_axes", {}).get(name, 0))
              for name in graph.inputs}
    model = prepare(graph, spec=kernel_spec(load_config("adept")), backend=args.backend)
    t0 = time.perf_counter()
    first = model.run(inputs, seed=0, progress=False)
    first_s = time.perf_counter() - t0
    runs = [model.run(inputs, seed=1 + i, progress=False) for i in range(args.repeats)]
    totals = [r.seconds["total"] for r in runs]
    best = runs[totals.index(statistics.median_low(totals))]
    out = next(iter(best.outputs.values()))
    report = {
        "model": args.model, "params": params, "gmac": graph_macs(graph) / 1e9, "samples": args.samples,
        "first_run_s": first_s, "median_s": statistics.median(totals),
        "per_inference_s": statistics.median(totals) / args.samples, "breakdown_s": best.seconds,
        "peak_rss_mb": peak_rss_mb(),
        "output_finite": bool(np.all(np.isfinite(out))), "output_shape": list(out.shape),
        "first_breakdown_s": first.seconds,
    }
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
