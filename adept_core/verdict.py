"""A verdict per fidelity result: kept / degraded / lost against a stated threshold, and what moves it.

Each model is judged on one primary metric (higher is better, 1 = identical to float32):

- zoo models and ONNX files: the mean cosine similarity of the output to float32's, and for
  classifier outputs also the argmax agreement (the verdict is the worse of the two);
- MiniLM: the mean embedding cosine; EfficientNet-Lite0: top-1 agreement with float32.

The thresholds are an assumption, chosen as a user would read them: at cosine >= 0.99 the
emulated output is as good as float32 for ranking and classification; below 0.90 rankings and
top-1 classes change often enough that the result no longer stands for the model. Top-1
agreement uses 0.99 / 0.75 because it counts whole samples.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Verdict words, best first.
VERDICTS = ("kept", "degraded", "lost")


@dataclass(frozen=True)
class Threshold:
    """``value >= kept`` is kept, ``>= degraded`` is degraded, else lost."""

    metric: str
    words: str
    kept: float
    degraded: float

    def judge(self, value: float) -> str:
        if value >= self.kept:
            return "kept"
        return "degraded" if value >= self.degraded else "lost"


#: Second rule for classifier outputs of zoo models and ONNX files.
ARGMAX = Threshold("top1_agreement", "argmax agreement with float32", 0.99, 0.75)

#: Primary metric of each real model; ``None`` is the rule for zoo models and ONNX files.
THRESHOLDS = {
    None: Threshold("cosine", "output cosine vs float32 (mean over samples)", 0.99, 0.90),
    "minilm": Threshold("emb_cos_mean", "mean embedding cosine vs float32", 0.99, 0.90),
    "efficientnet-lite0": Threshold("top1_agree", "top-1 agreement with float32", 0.99, 0.75),
}


def threshold_for(model: str | None) -> Threshold:
    return THRESHOLDS.get(model, THRESHOLDS[None])


def knobs(laser_power_mw: float, bits: int, adc: str, noise: bool = True,
          max_laser_mw: float | None = None) -> list[str]:
    """The command-line changes that move the verdict, most effective first.

    ``max_laser_mw`` is the laser at the waveguide power limit: a suggestion never goes past it.
    """
    out = []
    if adc == "worst_case":
        out.append("--adc calibrated (use the ADC range the partial sums really need)")
    if noise:
        more = 10 * laser_power_mw if max_laser_mw is None else min(10 * laser_power_mw, max_laser_mw)
        if more > 1.01 * laser_power_mw:
            out.append(f"--set optics.laser_power_mw={more:.4g} ({more / laser_power_mw:.3g}x the laser: less analog "
                       "noise, more laser energy" + ("; the waveguide power limit" if more < 10 * laser_power_mw
                                                    else "") + ")")
        else:
            out.append("the laser is at the waveguide power limit (optics.max_waveguide_power_mw): less noise needs "
                       "another design (photonic.scaling, photonic.weight_array)")
        out.append("adept isoaccuracy (the least laser that keeps a trained model's accuracy, per design)")
    out.append(f"--set photonic.adc_bits={bits + 2} (finer ADC; DAC and weights: photonic.input_bits, "
               "photonic.weight_bits)")
    return out


def worst(words) -> str:
    """The worst of several verdict words."""
    return max(words, key=VERDICTS.index)


def verdict_lines(value: float, model: str | None, n_samples: int, laser_power_mw: float, bits: int,
                  adc: str, noise: bool = True, argmax: float | None = None,
                  max_laser_mw: float | None = None) -> list[str]:
    """What ``adept run`` prints: the verdict with its thresholds and sample count, then the knobs.

    ``argmax`` (classifier outputs of zoo models and ONNX files) adds :data:`ARGMAX` as a second rule.
    """
    rules = [(threshold_for(model), value)] + ([] if argmax is None else [(ARGMAX, argmax)])
    word = worst(t.judge(v) for t, v in rules)
    plural = "s" if n_samples != 1 else ""
    lines = [f"verdict: fidelity {word.upper()} over {n_samples} sample{plural}: " + "; ".join(
        f"{t.words} {v:.3f} (kept >= {t.kept:g}, degraded >= {t.degraded:g}, else lost)" for t, v in rules)]
    if n_samples < 8:
        lines.append(f"  note: {n_samples} sample(s) is a thin basis; give more with --input FILE.npz")
    if word == "kept":
        lines.append(f"  margin: --set optics.laser_power_mw={laser_power_mw / 10:g} (a tenth of the laser "
                     "energy) shows whether less light still keeps it")
    else:
        lines.append("  to improve it: " + "; ".join(knobs(laser_power_mw, bits, adc, noise, max_laser_mw)))
    return lines


def judge_run(value: float, model: str | None, argmax: float | None = None) -> str:
    """The verdict word of :func:`verdict_lines` (for JSON)."""
    rules = [(threshold_for(model), value)] + ([] if argmax is None else [(ARGMAX, argmax)])
    return worst(t.judge(v) for t, v in rules)
