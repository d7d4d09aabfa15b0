"""The least laser power that keeps a task metric within the target: bisection on log laser power.

The search is generic over a ``score(laser_mw, seed) -> fidelity`` function (a real model on the
emulator in :mod:`.probe`, a stub in the tests). Decisions:

- **worst seed**: a laser *passes* when every seed's fidelity is ``>= target``; seeds are tried in
  order and a probe stops at the first failing seed (it already decides the probe). The answer's
  probe ran every seed, so its spread (min, max) is always complete.
- **bracket**: ``[lo_mw, hi_mw]`` (default 1 mW .. 1e8 mW). ``hi_mw`` is far above any buildable
  laser on purpose: it is where shot and thermal noise have vanished and only RIN (which scales
  with the signal) and quantization remain. If ``hi_mw`` fails the target is unreachable:
  a *quantization floor* when the noiseless run also misses, else a *RIN ceiling*. If ``lo_mw``
  passes, the answer is ``lo_mw`` (flagged ``at_floor``).
- **steps**: a bounded number of geometric midpoints; the answer is the smallest passing laser
  and the true threshold lies in ``[answer / tolerance_factor, answer]``, with
  ``tolerance_factor = (hi/lo) ** (1 / 2**steps)`` (8 steps over 8 decades: 7.5 %).
- **monotonicity**: bisection assumes a laser that passes keeps passing above it. For a fixed seed
  the noise draw ``z`` is the same at every laser and only its scale shrinks, so this holds up to
  the rounding of quantized codes; every probe is returned so a violation is visible.
- **waveguide limit**: the answer is checked against ``optics.max_waveguide_power_mw`` per input
  waveguide (the link budget's :func:`~adept_core.hardware.linkbudget.waveguide_power_mw`); a
  laser above it is *unreachable* with the needed laser kept in ``needed_laser_mw``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

from ..errors import ConfigError
from .criteria import check_target

#: Default bracket of the laser search, mW (see the module docstring).
LASER_BRACKET_MW = (1.0, 1e8)
#: Default bisection steps.
STEPS = 8


@dataclass(frozen=True)
class Probe:
    """One laser tried: the fidelities of the seeds run (in seed order) and the decision."""

    laser_mw: float
    fidelities: tuple[float, ...]
    passed: bool


@dataclass
class SearchResult:
    """Outcome of :func:`search_laser`.

    ``status`` is ``"reached"`` or ``"unreachable"``; ``laser_mw`` is the iso-accuracy laser
    (``None`` when unreachable); ``reason`` says why unreachable; ``fidelity_*`` are over the seeds at
    ``laser_mw`` (or at the probe that decided unreachability).
    """

    status: str
    target: float
    laser_mw: float | None
    reason: str = ""
    needed_laser_mw: float | None = None
    fidelity_worst: float | None = None
    fidelity_best: float | None = None
    tolerance_factor: float | None = None
    at_floor: bool = False
    waveguide_power_mw: float | None = None
    max_waveguide_power_mw: float | None = None
    probes: list[Probe] = field(default_factory=list)

    @property
    def reached(self) -> bool:
        return self.status == "reached"


def _check_bracket(lo_mw: float, hi_mw: float, steps: int, seeds: Sequence[int]) -> None:
    if not (isinstance(lo_mw, (int, float)) and isinstance(hi_mw, (int, float)) and 0 < lo_mw < hi_mw
            and math.isfinite(hi_mw)):
        raise ConfigError(f"laser bracket must satisfy 0 < lo_mw < hi_mw < inf, got lo_mw={lo_mw!r}, hi_mw={hi_mw!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= 40:
        raise ConfigError(f"steps must be an integer in 0..40, got {steps!r}")
    if not seeds:
        raise ConfigError("seeds must name at least one noise seed")


def search_laser(score: Callable[[float, int], float], target: float = 0.99, *, seeds: Sequence[int] = (0, 1, 2),
                 lo_mw: float = LASER_BRACKET_MW[0], hi_mw: float = LASER_BRACKET_MW[1], steps: int = STEPS,
                 noiseless: Callable[[], float] | None = None,
                 waveguide: Callable[[float], tuple[float, float]] | None = None) -> SearchResult:
    """Bisection on log laser power for the least laser whose worst-seed fidelity is ``>= target``.

    Parameters
    ----------
    score : callable
        ``(laser_mw, seed) -> fidelity`` (1.0 = fp32).
    target : float
        In (0, 1].
    seeds : sequence of int
        Noise seeds; the decision uses the worst.
    lo_mw, hi_mw, steps
        Bracket and bisection steps (module docstring).
    noiseless : callable, optional
        ``() -> fidelity`` without noise, to tell a quantization floor from a RIN ceiling.
    waveguide : callable, optional
        ``laser_mw -> (mW per input waveguide, limit mW)``.
    """
    target = check_target(target)
    seeds = tuple(seeds)
    _check_bracket(lo_mw, hi_mw, steps, seeds)
    probes: list[Probe] = []

    def probe(laser_mw: float) -> Probe:
        fids = []
        for s in seeds:
            fids.append(float(score(laser_mw, s)))
            if not fids[-1] >= target:  # NaN fails too
                break
        p = Probe(laser_mw, tuple(fids), len(fids) == len(seeds) and fids[-1] >= target)
        probes.append(p)
        return p

    top = probe(hi_mw)
    if not top.passed:
        worst = min(top.fidelities)
        quiet = None if noiseless is None else float(noiseless())
        if quiet is not None and not quiet >= target:
            reason = (f"quantization floor: fidelity {quiet:.4f} without any noise is below the target {target:g}; "
                      "no laser reaches it (more bits, abfp or a calibrated ADC might)")
        else:
            reason = (f"RIN ceiling: fidelity {worst:.4f} (worst seed) at {hi_mw:g} mW, where shot and thermal noise "
                      f"have vanished, is below the target {target:g}; the signal-proportional RIN remains")
        return SearchResult("unreachable", target, None, reason, fidelity_worst=worst, fidelity_best=max(top.fidelities),
                            probes=probes)
    lo, hi, best = lo_mw, hi_mw, top
    bottom = probe(lo_mw)
    if bottom.passed:
        hi, best = lo_mw, bottom
    else:
        for _ in range(steps):
            mid = math.sqrt(lo * hi)
            p = probe(mid)
            if p.passed:
                hi, best = mid, p
            else:
                lo = mid
    result = SearchResult("reached", target, best.laser_mw, fidelity_worst=min(best.fidelities),
                          fidelity_best=max(best.fidelities), tolerance_factor=(hi_mw / lo_mw) ** (0.5 ** steps),
                          at_floor=bottom.passed, probes=probes)
    if waveguide is not None:
        per_wg, limit = waveguide(best.laser_mw)
        result.waveguide_power_mw, result.max_waveguide_power_mw = per_wg, limit
        if per_wg > limit:
            result.status, result.needed_laser_mw, result.laser_mw = "unreachable", best.laser_mw, None
            result.reason = (f"waveguide power limit: the target needs {best.laser_mw:.4g} mW of laser, {per_wg:.4g} mW "
                             f"per input waveguide, above optics.max_waveguide_power_mw = {limit:g} mW")
    return result
