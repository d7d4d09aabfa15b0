"""``adept run``: emulate a network on ADEPT, print its fidelity vs float32 and its cost.

Examples::

    adept run resnet50                          # the main command: zoo ResNet-50, batch 1
    adept run bert-large --seed 3 --json bert.json
    adept run minilm                            # real trained model on real sentences
    adept run model.onnx --input x.npz --adc worst_case
    adept run resnet50 --set photonic.laser_power_mw=1

The same Graph (after batch-norm folding) is run three ways: float32
reference, ADEPT emulation (photonic GEMMs with the link-budget noise of
the configuration, bf16 ASIC), and the cost model.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from ..emulate import compare_outputs, fold_batchnorm, prepare
from ..emulate.inputs import load_inputs, synthetic_inputs
from ..errors import ConfigError, SymbolicShapeError
from ..graph import zoo
from ..kernels.registry import BACKEND_NAMES
from .argtypes import positive_int, seed
from ..verdict import judge_run, threshold_for, verdict_lines
from .linkbudget import parse_override

REAL_MODELS = ("minilm", "efficientnet-lite0")
MODEL_CHOICES = zoo.ZOO_NAMES + REAL_MODELS


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "run", help="emulate a network on ADEPT: fidelity vs float32 and the cost report",
        description="Run MODEL through the emulated chip and the float32 reference, then print "
                    "their agreement and the cost of the same Graph on the same design (docs/executor.md).",
    )
    p.add_argument("model", help=f"{', '.join(MODEL_CHOICES)}, or a path to an .onnx file")
    p.add_argument("--config", default="adept", help="preset name or path to a .toml file [adept]")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one config value, e.g. --set photonic.adc_bits=6 (repeatable)")
    p.add_argument("--seed", type=seed, default=0, help="noise seed of the run [0]")
    p.add_argument("--input", metavar="FILE", help=".npy (single-input model) or .npz (name -> array) inputs; "
                   "any number of samples, streamed in chunks of --batch")
    p.add_argument("--batch", type=positive_int, default=1,
                   help="batch a zoo model or ONNX file is built for (the chunk size of --input) [1]; the real "
                        "models (minilm, efficientnet-lite0) always run their whole evaluation set as one batch")
    p.add_argument("--batch-axes", metavar="NAME=AXIS,...", default=None,
                   help="ONNX only: the axis holding the batch of each named input/output (default: axis 0; the "
                        "cost is charged per sample of that axis)")
    p.add_argument("--backend", default="auto", choices=("auto",) + BACKEND_NAMES, help="kernel backend [auto]")
    p.add_argument("--adc", default="calibrated", choices=("calibrated", "worst_case"),
                   help="ADC range policy; calibrated uses a separate synthetic (or held-out) batch [calibrated]")
    p.add_argument("--asic-format", default="bf16", choices=("bf16", "fp32"), help="ASIC number format [bf16]")
    p.add_argument("--calibration-input", metavar="FILE",
                   help="held-out .npy/.npz samples the ADC ranges are calibrated on (default with --input: the "
                        "--input samples themselves, said so; without --input: a separate synthetic batch)")
    p.add_argument("--calibration", metavar="FILE", help="ADC calibration JSON: read it if it exists (no "
                   "calibration pass), else write the one this run computes (reuse it to repeat a run exactly)")
    p.add_argument("--no-cost", action="store_true", help="skip the cost report")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (it is off anyway when not a TTY)")
    p.add_argument("--json", metavar="FILE", help="write fidelity, timings, clipped layers and cost as JSON")
    p.set_defaults(func=run)


def _load_model(args):
    """(graph, inputs, calibration inputs, real-model metrics or None)."""
    name = args.model
    if name in zoo.ZOO_NAMES:
        graph = zoo.build(name, batch=args.batch)
        return graph, None, synthetic_inputs(graph, seed=1_000_003), None
    if name in REAL_MODELS:
        from .. import models

        real = models.build(name)
        return real.graph, real.inputs, real.calibration_inputs, real
    if name.endswith(".onnx") or os.path.exists(name):
        graph = _onnx_graph(name, args)
        return graph, None, synthetic_inputs(graph, seed=1_000_003), None
    raise ConfigError(f"unknown model {name!r}; choose one of {', '.join(MODEL_CHOICES)} or give an .onnx path")


def _onnx_graph(path: str, args):
    """Import an ONNX file; symbolic dimensions are taken from --input's arrays (batch = --batch)."""
    from ..graph.onnx_import import from_onnx

    axes = _batch_axes(args.batch_axes)
    try:
        return from_onnx(path, batch_axes=axes)
    except SymbolicShapeError:
        if not args.input:
            raise
    import onnx

    model = onnx.load(path, load_external_data=False)
    names = [i.name for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}]
    data = np.load(args.input, allow_pickle=False)
    arrays = {names[0]: data} if isinstance(data, np.ndarray) else dict(data)
    shapes = {name: (args.batch,) + tuple(arrays[name].shape[1:]) for name in names if name in arrays}
    return from_onnx(path, input_shapes=shapes, batch_axes=axes)


def _batch_axes(text):
    """``--batch-axes x=0,state=1`` as ``{"x": 0, "state": 1}`` (None when not given)."""
    if text is None:
        return None
    axes = {}
    for item in text.split(","):
        name, eq, axis = item.strip().partition("=")
        try:
            axes[name] = int(axis)
        except ValueError:
            eq = ""
        if not eq or not name:
            raise ConfigError(f"--batch-axes expects NAME=AXIS[,NAME=AXIS...] with integer axes, got {item!r}")
    return axes


def run(args: argparse.Namespace) -> int:
    from ..hardware import kernel_spec, load_config
    from ..hardware.linkbudget import max_laser_power_mw

    t_start = time.perf_counter()
    # Read before the long runs so that a bad file fails in a second, not after the reference run.
    calibration = (read_calibration(args.calibration)
                   if args.adc == "calibrated" and args.calibration and os.path.exists(args.calibration) else None)
    if args.calibration and calibration is None:
        from ..cli import check_output_path

        check_output_path("--calibration", args.calibration)  # written at the end: fail now, not then
    cfg = load_config(args.config, dict(parse_override(o) for o in args.overrides))
    spec = kernel_spec(cfg)
    graph, inputs, calib, real = _load_model(args)
    calib_source = "the model's own held-out set" if real is not None else "a separate synthetic (seeded random) batch"
    if args.input:
        inputs = load_inputs(args.input, graph)
    elif inputs is None:
        inputs = synthetic_inputs(graph, seed=args.seed)
    if args.calibration_input:
        calib, calib_source = load_inputs(args.calibration_input, graph), f"held-out {args.calibration_input}"
    elif args.input and real is None:
        # Real data was given: synthetic N(0, 1) ranges would misplace every ADC range (a CRNN's error
        # rate tripled), so calibrate on that data, and say that it is not held out.
        calib = inputs
        calib_source = (f"the --input samples themselves ({args.input}; not held out, so optimistic: "
                        "pass --calibration-input FILE for held-out data)")
    progress = False if args.no_progress else None

    graph = fold_batchnorm(graph)  # once, so the reference, the emulation and the cost see one Graph
    # The reference model is dropped right away: its float32 weight cache (1.3 GB for
    # BERT-large) need not coexist with the calibration's and the cores.
    reference = prepare(graph, precision="fp32").run(inputs, progress=progress)
    model = prepare(graph, spec=spec, precision="adept", asic_format=args.asic_format, adc=args.adc,
                    backend=args.backend)
    if args.adc == "calibrated":
        if calibration is not None:
            model.engine.calibration.update(calibration)
        else:
            print(f"ADC ranges calibrated on {calib_source}")
            model.calibrate(calib, progress=progress)
            if args.calibration:
                with open(args.calibration, "w") as fh:
                    json.dump(model.calibration, fh, indent=1)
    result = model.run(inputs, seed=args.seed, progress=progress)

    n_samples = _samples(inputs)
    print(f"{graph.name}: {len(model.graph.nodes)} ops, seed {args.seed}, config {cfg.name}, "
          f"{spec.rows}x{spec.cols} core, {spec.input_bits}/{spec.weight_bits}/{spec.adc_bits}-bit DAC/weight/ADC, "
          f"ADC range {args.adc}, ASIC {args.asic_format}")
    print(f"  analog noise, in partial-sum units (one tile's integer dot product, full scale "
          f"{spec.worst_case_full_scale:.4g}): sigma = sqrt({spec.noise.sigma_const:.3g}^2 + "
          f"{spec.noise.shot_coeff:.3g}*|p| + ({spec.noise.rin_coeff:.3g}*p)^2)")
    if real is not None:
        print(f"  inputs: {n_samples} samples ({real.name}'s own evaluation data) in one batch of {n_samples}; "
              "--batch applies to zoo models and ONNX files only")
    else:
        source = args.input or "synthetic (seeded random) input"
        print(f"  inputs: {n_samples} sample(s) from {source}")
    fidelity = {}
    for name in graph.outputs:
        ref, got = reference.outputs[name], result.outputs[name]
        # Argmax agreement for logits-like outputs (zoo, ONNX files); real models report their own task metrics.
        f = compare_outputs(ref, got, classifier=None if real is None else False)
        fidelity[name] = f.as_dict()
        top1 = "" if f.top1_agreement is None else f", argmax agreement {f.top1_agreement:.3f}"
        print(f"  output {name} vs float32 over {n_samples} sample(s): relative error {f.rel_error:.3e}, "
              f"cosine {f.cosine:.6f}{top1}")
    first = fidelity[graph.outputs[0]] if graph.outputs else {"cosine": float("nan"), "top1_agreement": None}
    primary, argmax = first["cosine"], first["top1_agreement"]
    if real is not None:
        from ..models import METRIC_LABELS

        metrics = real.compare(reference.outputs, result.outputs)
        fidelity["task_metrics"] = metrics
        for key, value in metrics.items():
            print(f"  {METRIC_LABELS.get(key, key)} ({key}): {value:.4f}")
        primary, argmax = metrics.get(threshold_for(real.name).metric, primary), None
    verdict = verdict_lines(primary, None if real is None else real.name, n_samples, cfg.optics.laser_power_mw,
                            spec.adc_bits, args.adc, spec.noise.enabled, argmax=argmax,
                            max_laser_mw=max_laser_power_mw(cfg) if cfg.accelerator == "adept" else None)
    for line in clip_warning_lines(result.clipped_layers):
        print(line)
    print("\n".join(verdict))
    s = result.seconds
    print(f"emulation {s['total']:.2f} s (GEMM {s['gemm']:.2f}, programming cores {s['program']:.2f}, "
          f"im2col/relayout {s['lowering']:.2f}, "
          f"ASIC ops {s['asic']:.2f}, glue {s['glue']:.3f}); fp32 reference {reference.seconds['total']:.2f} s")
    data = {"verdict": judge_run(primary, None if real is None else real.name, argmax), "samples": n_samples,
            "model": graph.name, "config": cfg.name, "seed": args.seed, "adc": args.adc,
            "asic_format": args.asic_format, "fidelity": fidelity,
            "clipped_layers": [list(c) for c in result.clipped_layers], "seconds": s,
            "reference_seconds": reference.seconds["total"], "calibration": model.calibration}
    if not args.no_cost:
        from ..energy import evaluate
        from ..energy.table import format_report

        report = evaluate(model.graph, cfg, batch=graph.meta.get("batch"))
        print()
        print(format_report(report, top=3))
        data["cost"] = report.to_dict()
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(data, fh, indent=1, default=_jsonable)
        print(f"wrote {args.json}")
    print(f"(adept run took {time.perf_counter() - t_start:.1f} s)")
    return 0


def read_calibration(path: str) -> dict[str, dict[str, float]]:
    """An ADC calibration file: JSON ``{layer: {"x_absmax": >= 0, "full_scale": > 0}}`` (what a run writes)."""
    try:
        with open(path, "rb") as fh:
            data = json.load(fh)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--calibration {path!r} is not JSON ({exc}); delete it to calibrate again") from None
    ok = isinstance(data, dict) and all(
        isinstance(entry, dict) and set(entry) == {"x_absmax", "full_scale"}
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) for v in entry.values())
        and entry["x_absmax"] >= 0 and entry["full_scale"] > 0 for entry in data.values())
    if not ok:
        raise ConfigError(f"--calibration {path!r} is not an ADC calibration: expected "
                          '{"layer": {"x_absmax": number >= 0, "full_scale": number > 0}, ...} as written by '
                          "adept run --calibration; delete it to calibrate again")
    return data
#: Clipping layers named one by one; the rest are counted (``--json`` lists every one).
CLIP_WARNINGS_SHOWN = 5


def clip_warning_lines(clipped_layers, shown: int = CLIP_WARNINGS_SHOWN) -> list[str]:
    """The worst ``shown`` clipping layers, then one line counting the others (a 50-layer wall helps nobody)."""
    worst = sorted(clipped_layers, key=lambda item: -item[1])
    lines = [f"  warning: layer {layer} clipped {frac:.2%} of its ADC conversions" for layer, frac in worst[:shown]]
    rest = worst[shown:]
    if rest:
        lines.append(f"  warning: {len(rest)} more layer(s) clip, {rest[-1][1]:.2%} to {rest[0][1]:.2%} of their "
                     "conversions (all of them: --json FILE, key clipped_layers)")
    return lines


def _samples(inputs) -> int:
    """Samples in the run's inputs (axis 0 of the first input)."""
    first = next(iter(inputs.values()), None) if isinstance(inputs, dict) else inputs
    return int(np.shape(first)[0]) if first is not None and np.ndim(first) else 1


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
