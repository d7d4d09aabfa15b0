"""Iso-accuracy search: the least laser keeping a real model within a target of fp32, and the cost there.

See ``docs/isoaccuracy.md``. Modules: :mod:`.criteria` (what "within the target" means),
:mod:`.search` (bisection on log laser power), :mod:`.probe` (a real model on the emulator),
:mod:`.designs` (default set, TOML files), :mod:`.cost` (the cost model vs the baselines),
:mod:`.api` (one search, a set, resume keys), :mod:`.report` (table, figure, Parquet).
"""

from .api import IsoAccuracy, iso_accuracy, result_rows, run_key, run_search
from .criteria import CRITERIA, check_target, fidelity
from .designs import DEFAULT_DESIGNS, QUICK_DESIGNS, Design, load_designs, parse_designs
from .search import LASER_BRACKET_MW, STEPS, Probe, SearchResult, search_laser

__all__ = ["CRITERIA", "DEFAULT_DESIGNS", "Design", "IsoAccuracy", "LASER_BRACKET_MW", "Probe", "QUICK_DESIGNS",
           "STEPS", "SearchResult", "check_target", "fidelity", "iso_accuracy", "load_designs", "parse_designs",
           "result_rows", "run_key", "run_search", "search_laser"]
