# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # A design sweep and its Pareto front
#
# A sweep evaluates a grid of hardware designs. Here: laser power x converter resolution, each
# design emulating the trained EfficientNet-Lite0 on one photo (fidelity) and priced by the cost
# model (efficiency). The designs no other design beats on both are its Pareto front. The sweep
# is kept small (6 designs, about a minute); `examples/sweeps/laser_bits_pareto.toml` is the
# full one (`adept sweep FILE.toml`, then `adept plot ... --pareto`).

# %%
import tempfile
from pathlib import Path

from adept_core.dse import run_sweep

spec = {
    "name": "tutorial",
    "workloads": [{"name": "efficientnet-lite0", "params": {"photos": ["chelsea"]}, "label": "effnet"}],
    "compute": "both",
    "axes": {
        "optics.laser_power_mw": [1000.0, 11000.0, 110000.0],
        "bits": {"keys": ["photonic.input_bits", "photonic.weight_bits", "photonic.adc_bits"], "values": [6, 8]},
    },
}
out = Path(tempfile.mkdtemp()) / "tutorial.parquet"
result = run_sweep(spec, out=out, workers=0)  # workers=0: in this process; leave it out to use Dask
print(f"{result.computed} designs computed, {result.failed} failed")

# %% [markdown]
# ## The results table
#
# One row per design: the axes, the cost metrics (units in the column names) and the fidelity
# metrics against float32.

# %%
rows = result.table.to_pylist()
for r in rows:
    print(f"laser {r['optics.laser_power_mw']:>8.0f} mW, {r['bits']} bits: "
          f"{r['inferences_per_s_per_w']:8.2f} inferences/s/W, logit cosine {r['fidelity_logit_cos_mean']:.3f}")

# %% [markdown]
# ## The Pareto front
#
# `pareto_front` returns the designs that no other design beats on both axes; `plot_pareto`
# draws every design and the front, labelled in words with units.

# %%
from adept_core.plot import pareto_front, plot_pareto

xs = [r["fidelity_logit_cos_mean"] for r in rows]
ys = [r["inferences_per_s_per_w"] for r in rows]
for i in pareto_front(xs, ys):
    print(f"on the front: laser {rows[i]['optics.laser_power_mw']:.0f} mW, {rows[i]['bits']} bits")

figure = out.with_name("pareto.png")
plot_pareto(result.table, "fidelity_logit_cos_mean", "inferences_per_s_per_w", figure, color="bits", logy=True,
            annotate="optics.laser_power_mw")
print("wrote", figure.name)

# %% [markdown]
# More laser power buys fidelity and costs efficiency: the laser is most of ADEPT's energy
# (`docs/energy.md`). The same plot from the command line:
# `adept plot tutorial.parquet --pareto --x fidelity_logit_cos_mean --color bits --logy --annotate optics.laser_power_mw`.
