"""The fidelity study on small subsets: settings -> hardware, the headroom diagnostic, a tiny study, the CLI."""

import argparse
import json
import math

import pytest

from adept_core import fidelity, models
from adept_core.commands import fidelity as fidelity_cmd
from adept_core.errors import ConfigError
from adept_core.fidelity import Setting, hardware_for, layer_headroom, run_study
from adept_core.hardware import link_budget, load_config


def test_settings_reach_the_hardware():
    assert hardware_for(Setting("ref", precision="fp32")) == (None, None)
    spec, budget = hardware_for(Setting("6b", bits=6))
    assert (spec.input_bits, spec.weight_bits, spec.adc_bits) == (6, 6, 6)
    assert budget.laser_power_mw == load_config("adept").optics.laser_power_mw
    quiet, _ = hardware_for(Setting("8b", bits=8, noise=False))
    assert not quiet.noise.enabled
    loud, dim = hardware_for(Setting("dim", bits=8, laser_factor=0.1))
    base, _ = hardware_for(Setting("base", bits=8))
    # Thermal noise is a fixed current: a 10x weaker signal makes it 10x larger in partial-sum units.
    assert loud.noise.sigma_const == pytest.approx(10 * base.noise.sigma_const)
    assert dim.enob_bits < budget.enob_bits
    with pytest.raises(ConfigError, match="laser_factor"):
        hardware_for(Setting("bad", laser_factor=0.0))


def test_headroom_matches_the_link_budget_at_full_scale():
    spec, budget = hardware_for(Setting("8b", bits=8))
    rows = layer_headroom({"full": {"x_absmax": 1.0, "full_scale": spec.worst_case_full_scale},
                           "small": {"x_absmax": 1.0, "full_scale": spec.worst_case_full_scale / 32}}, spec)
    assert rows[0]["range_fraction"] == 1.0
    assert rows[0]["peak_enob_bits"] == pytest.approx(budget.enob_bits, abs=1e-9)
    # 1/32 of the range: the signal is 5 bits smaller, the noise shrinks only by its RIN and shot
    # parts (RIN dominates at full scale at the default laser power), so 3.9 of the 5 bits are lost.
    assert 3.5 < rows[0]["peak_enob_bits"] - rows[1]["peak_enob_bits"] < 5.0
    quiet, _ = hardware_for(Setting("q", bits=8, noise=False))
    assert math.isinf(layer_headroom({"l": {"x_absmax": 1.0, "full_scale": 10.0}}, quiet)[0]["peak_enob_bits"])
    assert link_budget(load_config("adept")).enob_bits == pytest.approx(budget.enob_bits)


@pytest.fixture(scope="module")
def tiny_study():
    settings = (
        Setting("fp32", precision="fp32"),
        Setting("8-bit, no noise", bits=8, noise=False),
        Setting("8-bit, no noise, worst-case ADC", bits=8, noise=False, adc="worst_case"),
        Setting("8-bit, laser x 1000", bits=8, laser_factor=1000.0),
    )
    # The per-tensor scaling's behaviour (worst-case ADC range rounds partial sums away): adept-svd-mesh.
    return run_study(["minilm"], settings, config="adept-svd-mesh", model_params={"minilm": {"pairs": 1}})


def test_tiny_study(tiny_study):
    ref, calibrated, worst, bright = tiny_study
    assert ref.metrics["emb_cos_min"] == pytest.approx(1.0) and ref.laser_power_mw is None
    # Calibrated 8-bit ADC ranges keep the embeddings; the worst-case range rounds most partial sums away.
    assert calibrated.metrics["emb_cos_mean"] > 0.9
    assert worst.metrics["emb_cos_mean"] < calibrated.metrics["emb_cos_mean"] - 0.3
    # With 1000x the laser power the noise is negligible: same as no noise, to within seed effects.
    assert bright.metrics["emb_cos_mean"] == pytest.approx(calibrated.metrics["emb_cos_mean"], abs=0.02)
    assert bright.headroom["peak_enob_median"] > 8.0 and 0 < bright.headroom["range_fraction_median"] < 1
    assert worst.headroom == {}  # no calibration, no headroom figures
    table = fidelity.format_table(tiny_study)
    n = len(models.build("minilm", pairs=1).samples)
    assert f"**minilm: {n} evaluated samples per row**" in table and all(r.setting.label in table for r in tiny_study)
    assert json.loads(json.dumps([r.as_dict() for r in tiny_study], default=float))[1]["setting"]["bits"] == 8
    assert "embedding cosine, mean" in table and "emb_cos_mean" not in table and "| fp32 | kept |" in table
    assert [r.samples for r in tiny_study] == [n] * 4 and worst.as_dict()["verdict"] in ("degraded", "lost")
    assert fidelity.format_table(tiny_study, "csv").splitlines()[1].startswith("setting,verdict,laser (mW)")


def test_abfp_preset_keeps_what_the_worst_case_range_loses_per_tensor(tiny_study):
    # Block scales fill the worst-case ADC range (docs/kernel.md), so the adept preset (abfp, G = 1.86)
    # keeps embeddings that per-tensor scaling (adept-svd-mesh) loses at the same range.
    worst_tensor = tiny_study[2]
    (abfp,) = run_study(["minilm"], (worst_tensor.setting,), model_params={"minilm": {"pairs": 1}})
    assert abfp.metrics["emb_cos_mean"] > worst_tensor.metrics["emb_cos_mean"] + 0.1


def test_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(fidelity, "STANDARD_SETTINGS", (Setting("fp32", precision="fp32"),
                                                        Setting("8-bit, no noise", bits=8, noise=False)))
    monkeypatch.setattr(fidelity, "DIAGNOSTIC_SETTINGS", ())
    monkeypatch.setattr(fidelity_cmd, "QUICK_PARAMS", {"minilm": {"pairs": 1}})
    parser = argparse.ArgumentParser()
    fidelity_cmd.register(parser.add_subparsers())
    out = tmp_path / "f.json"
    args = parser.parse_args(["fidelity", "--models", "minilm", "--quick", "--diagnostics", "--json", str(out)])
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    row = next(line for line in printed.splitlines() if line.startswith("| 8-bit, no noise | "))
    assert row.split(" | ")[2] == f"{load_config('adept').optics.laser_power_mw:g}" and "paraphrase AUC (label_auc):" in printed
    assert "minilm: input_use" in printed  # the partial-sum census of --diagnostics
    saved = json.loads(out.read_text())
    assert len(saved["census"]["minilm"]) == 48  # 6 layers x (4 dense + 2 FFN + 2 attention products)
    rows = saved["rows"]
    assert [r["setting"]["label"] for r in rows] == ["fp32", "8-bit, no noise"]
    with pytest.raises(SystemExit):
        parser.parse_args(["fidelity", "--models", "resnet50"])


class _Tiny:
    """A one-MatMul 'real model' for the census: x [4, K] @ W [K, 8]."""

    def __init__(self, x, w):
        from adept_core.graph.zoo._builder import GraphBuilder

        g = GraphBuilder("tiny")
        inp = g.input("x", x.shape)
        y = g.node("MatMul", "mm", [inp, g.const("w", w)], [(x.shape[0], w.shape[1])])[0]
        self.graph, self.inputs = g.graph([y], {}), {"x": x}


def test_census_of_known_operands():
    import numpy as np

    spec, _ = hardware_for(Setting("8b", bits=8))
    # Equal operands fill the range: every product is qmax^2; K = 64 uses half of the 128 rows.
    full = fidelity.partial_sum_census(_Tiny(np.ones((4, 64), np.float32), np.ones((64, 8), np.float32)), spec)
    assert full[0]["layer"] == "mm/fc"
    assert full[0]["input_use"] == full[0]["weight_use"] == 1.0
    assert full[0]["rms_fraction"] == pytest.approx(0.5) and full[0]["peak_fraction"] == pytest.approx(0.5)
    # Independent random signs over 4 full tiles: the sum grows like sqrt(rows), not rows.
    rng = np.random.default_rng(0)
    signs = fidelity.partial_sum_census(_Tiny(rng.choice([-1.0, 1.0], (4, 512)).astype(np.float32),
                                              rng.choice([-1.0, 1.0], (512, 8)).astype(np.float32)), spec)[0]
    assert signs["cancellation"] == pytest.approx(1 / math.sqrt(128), rel=0.15)
    assert signs["rms_fraction"] == pytest.approx(signs["input_use"] * signs["weight_use"] * signs["cancellation"])
    assert set(fidelity.census_summary([full[0], signs])) == {"input_use", "weight_use", "cancellation",
                                                               "rms_fraction", "peak_fraction"}
