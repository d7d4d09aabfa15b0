"""Regenerate every image under docs/img from the shipped examples (one command, about 4 minutes).

    python tools/make_figures.py            # all figures
    python tools/make_figures.py compare    # only the named ones (compare, cores, pareto)

The sweeps are the ones in examples/sweeps; their results go to a temporary directory.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMG = ROOT / "docs" / "img"


def adept(*args: str) -> None:
    print("+ adept", " ".join(args), flush=True)
    subprocess.run([sys.executable, "-m", "adept_core", *args], check=True, cwd=ROOT)


def compare(tmp: Path) -> None:
    adept("compare", "--plot", str(IMG / "compare.png"))


def cores(tmp: Path) -> None:
    results = tmp / "cores_bits.parquet"
    adept("sweep", "examples/sweeps/cores_bits.toml", "--out", str(results))
    adept("plot", str(results), "--x", "photonic.num_cores", "--y", "inferences_per_s_per_w", "--color", "core_size",
          "--where", "workload=resnet50", "--where", "photonic.adc_bits=8", "--logx",
          "--out", str(IMG / "sweep_cores.png"))


def pareto(tmp: Path) -> None:
    results = tmp / "laser_bits.parquet"
    adept("sweep", "examples/sweeps/laser_bits_pareto.toml", "--out", str(results))
    # Only designs within the waveguide power limit: an over-limit laser is not a design one can build.
    adept("plot", str(results), "--pareto", "--x", "fidelity_logit_cos_mean", "--color", "bits", "--logy",
          "--annotate", "optics.laser_power_mw", "--where", "infeasible=",
          "--title", "Pareto front of the designs within the waveguide power limit", "--out", str(IMG / "sweep_pareto.png"))


FIGURES = {"compare": compare, "cores": cores, "pareto": pareto}


def main(names: list[str]) -> int:
    unknown = [n for n in names if n not in FIGURES]
    if unknown:
        print(f"unknown figure {unknown[0]!r}; choose from {', '.join(FIGURES)}", file=sys.stderr)
        return 2
    IMG.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in names or FIGURES:
            FIGURES[name](Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
