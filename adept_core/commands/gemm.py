"""``adept gemm``: one photonic GEMM on random data, on every available backend.

Prints whether the backends agree bit for bit, the error against float32 ``x @ w``, the fraction
of ADC conversions that clipped, and each backend's time as a ratio to NumPy's float32 matmul
(medians, timed alternately in one run so machine load affects both alike).

Examples::

    adept gemm                                  # BERT-large FFN-up shape, link-budget noise
    adept gemm --m 1 --k 2048 --n 4096 --repeat 20
    adept gemm --bits 6 --no-noise --adc-range worst_case
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import replace

import numpy as np

from ..errors import ConfigError
from ..hardware import config_hash, kernel_spec, load_config
from ..kernels import NoiseSpec, PhotonicCore, available_backends
from ..kernels.spec import MAX_BITS, MIN_BITS
from .argtypes import positive_int as _positive_int, seed as _seed

#: Rows of the separate random batch the "calibrated" ADC range is measured on.
CALIBRATION_ROWS = 64
#: The NumPy oracle is ~100x slower than the fast backends; it runs once, for the equality check.
ORACLE = "numpy"


def _bits(text: str) -> int:
    value = _positive_int(text)
    if not MIN_BITS <= value <= MAX_BITS:
        raise argparse.ArgumentTypeError(f"bits must be in [{MIN_BITS}, {MAX_BITS}], got {value}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "gemm",
        help="run one photonic GEMM on every backend: bit equality, error, clipping, speed",
        description=(
            "Run one photonic GEMM on random normal data with every available backend and print the "
            "bit-equality check, the relative error vs float32 matmul, the clipped fraction and each "
            "backend's median time as a ratio to numpy float32 x @ w. The core geometry, resolutions and "
            "analog noise come from the hardware preset (--config): the noise is the link budget's "
            "NoiseSpec at the preset's laser power (`adept linkbudget` prints it)."
        ),
    )
    p.add_argument("--m", type=_positive_int, default=384, help="rows of x (inputs streamed) [384]")
    p.add_argument("--k", type=_positive_int, default=1024, help="columns of x = rows of w [1024]")
    p.add_argument("--n", type=_positive_int, default=4096, help="columns of w (outputs) [4096]")
    p.add_argument("--bits", type=_bits, default=None,
                   help="DAC, weight and ADC bits (one value for all three) [the preset's: 8]")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the random data and of the analog noise [0]")
    p.add_argument("--no-noise", action="store_true", help="switch the analog noise off (then y = p exactly)")
    p.add_argument("--adc-range", choices=("calibrated", "worst_case"), default="calibrated",
                   help=f"ADC full scale: the largest noiseless partial sum of {CALIBRATION_ROWS} other random "
                        "rows (calibrated), or rows*qmax_x*qmax_w, which never clips (worst_case) [calibrated]")
    p.add_argument("--repeat", type=_positive_int, default=5,
                   help="timed runs per fast backend; the numpy oracle runs once [5]")
    p.add_argument("--threads", type=_positive_int, default=None, help="kernel threads [all cores]")
    p.add_argument("--config", default="adept", help="hardware preset or .toml file for geometry and noise [adept]")
    p.set_defaults(func=run)


def _spec(args: argparse.Namespace):
    overrides = {}
    if args.bits is not None:
        overrides = {f"photonic.{f}": args.bits for f in ("input_bits", "weight_bits", "adc_bits")}
    cfg = load_config(args.config, overrides)
    spec = kernel_spec(cfg)
    return cfg, (replace(spec, noise=NoiseSpec()) if args.no_noise else spec)


def _timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def check_fits(m: int, k: int, n: int, backends: int) -> None:
    """Refuse sizes whose float32 arrays (x, w, calibration rows, one y per backend and x @ w) exceed RAM."""
    need = 4 * (m * k + k * n + CALIBRATION_ROWS * k + (backends + 2) * m * n)
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not POSIX: 64 GiB, a large workstation
        ram = 64 << 30
    if need > ram:
        raise ConfigError(f"--m {m} --k {k} --n {n} needs {need / 2**30:,.1f} GiB of float32 arrays, more than "
                          f"this machine's {ram / 2**30:,.1f} GiB of memory; choose smaller sizes")


def run(args: argparse.Namespace) -> int:
    check_fits(args.m, args.k, args.n, len(available_backends()))
    cfg, spec = _spec(args)
    gen = np.random.default_rng(args.seed)
    x = gen.standard_normal((args.m, args.k), dtype=np.float32)
    w = gen.standard_normal((args.k, args.n), dtype=np.float32)
    x_cal = gen.standard_normal((CALIBRATION_ROWS, args.k), dtype=np.float32)
    core = PhotonicCore(w, spec)
    full_scale = core.calibrate_full_scale(x_cal) if args.adc_range == "calibrated" else "worst_case"
    call = dict(seed=args.seed, adc_full_scale=full_scale, threads=args.threads)

    noise = spec.noise
    print(f"adept gemm: M={args.m} K={args.k} N={args.n} on a {spec.rows}x{spec.cols} core, "
          f"{spec.input_bits}/{spec.weight_bits}/{spec.adc_bits}-bit DAC/weights/ADC, seed {args.seed}")
    print("  noise: off" if not noise.enabled else
          f"  noise (link budget of {cfg.name} {config_hash(cfg)}): sigma_const={noise.sigma_const:.4g} "
          f"shot_coeff={noise.shot_coeff:.4g} rin_coeff={noise.rin_coeff:.4g} (partial-sum units)")
    if args.adc_range == "calibrated":
        print(f"  ADC full scale: {full_scale:.6g} (largest |p| of {CALIBRATION_ROWS} other random rows)")
    else:
        print(f"  ADC full scale: {spec.worst_case_full_scale:.6g} (worst case, never clips)")

    backends = available_backends()
    outputs, times, matmul_times = {}, {}, {}
    for name in backends:
        core(x[:1], backend=name, adc_full_scale=full_scale)  # compile / pack outside the timing
        runs = 1 if name == ORACLE and len(backends) > 1 else args.repeat
        times[name], matmul_times[name] = [], []
        for _ in range(runs):  # alternate with numpy's matmul so both see the same machine load
            matmul_times[name].append(_timed(lambda: x @ w)[0])
            elapsed, outputs[name] = _timed(lambda: core(x, backend=name, **call))
            times[name].append(elapsed)

    exact = x @ w
    print(f"\n  {'backend':8s} {'median ms':>10s} {'x numpy matmul':>15s} {'runs':>5s}")
    for name in backends:
        t = statistics.median(times[name])
        ratio = t / statistics.median(matmul_times[name])
        print(f"  {name:8s} {t * 1e3:10.2f} {ratio:14.2f}x {len(times[name]):5d}")
    print(f"  numpy float32 x @ w: {statistics.median(sum(matmul_times.values(), [])) * 1e3:.2f} ms median")

    first_y, first_stats = outputs[backends[0]]
    agree = all(np.array_equal(y, first_y) and s.clipped == first_stats.clipped for y, s in outputs.values())
    rel = float(np.linalg.norm(first_y - exact) / np.linalg.norm(exact))
    print(f"\n  bit-equal across {', '.join(backends)}: {'yes' if agree else 'NO'}")
    print(f"  relative error vs float32 matmul (Frobenius): {rel:.4g}")
    print(f"  clipped ADC conversions: {first_stats.clipped} of {first_stats.adc_conversions} "
          f"({first_stats.clipped_fraction:.3g})")
    return 0 if agree else 1
