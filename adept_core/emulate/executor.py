"""The executor: runs a Graph as the ADEPT chip would compute it.

Usage::

    model = prepare(graph, spec=kernel_spec(config), adc="calibrated")
    model.calibrate(calibration_inputs)          # per-layer ADC ranges, stored
    result = model.run(inputs, seed=0)           # outputs + per-layer statistics

Every GEMM-class node goes to the photonic engine exactly as
:func:`~adept_core.graph.lowering.gemm_calls` lowers it (checked: the MACs
the engine ran per node must equal the lowering's); every other node runs
on the emulated ASIC (:mod:`adept_core.asic`) and its float result is
rounded to the ASIC number format. ``precision="fp32"`` swaps the photonic
engine for float32 BLAS and the ASIC format for float32: the reference.

Inputs are streamed in chunks of the Graph's batch size along each input's
batch axis (``graph.meta["batch_axes"]``, default 0); a short last chunk is
zero-padded and its padding dropped from the outputs. Intermediate values
are freed after their last reader, so memory is bounded by one chunk's
live activations plus the programmed weights. See ``docs/executor.md``.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Mapping
import time
from dataclasses import dataclass, field

import numpy as np

from ..asic import ASIC_OPS, DATA_MOVEMENT, IN_PLACE, rounder
from ..asic.reference import op_reference
from ..graph.ops import REFERENCE_OPS
from ..graph.onnx_control_flow import CONTROL_FLOW_OPS, run_control_flow
from ..asic.im2col import IMPLS, ConvGeometry
from ..errors import AdeptError, ConfigError, ShapeError, UnsupportedOpError
from ..graph.half_types import half_dtypes, is_half, keep_half
from .signature_cache import SignatureCache
from ..graph.ir import Graph
from ..graph.lowering import GEMM_OPS, gemm_calls
from ..kernels import PhotonicGemmSpec
from ..blas import blas_threads
from .engine import ADC_POLICIES, CalibrationEngine, Fp32Engine, LayerStats, PhotonicEngine
from .fp32_product import check_accumulate
from .gemm_ops import PROGRAMMED_INPUTS, RUNNERS
from .tensor_io import declared, from_protos, to_protos
from .passes import fold_batchnorm
from .fusion import shuffle_depthwise_chains
from ..asic.shuffle import channel_shuffle, unshuffle_depthwise_conv, unshuffle_taps

PRECISIONS = ("adept", "fp32")
#: Ops the executor can run: the ASIC's plus the GEMM-class runners.
EXECUTABLE_OPS = frozenset(ASIC_OPS) | frozenset(RUNNERS) | REFERENCE_OPS


def _is_reference(node) -> bool:
    """Nodes the importer could not put in canonical form carry their opset and run on the reference kernel."""
    return "onnx_opset" in node.attrs


@dataclass
class EmulationResult:
    """Outputs of a run and what it cost in host time.

    Attributes
    ----------
    outputs : dict
        Graph output name -> array (all samples, padding removed).
    layers : list of LayerStats
        Per photonic layer (``"node/role"``): calls, MACs, ADC conversions, clipped.
    clipped_layers : list of (str, float)
        Layers whose clipped fraction exceeds the model's ``clip_threshold``.
    seconds : dict
        Host seconds by where they went: ``gemm`` (kernel calls), ``program``
        (materialising, quantizing and packing weights into cores: once per
        prepared model for stationary weights, every call for activation
        operands), ``lowering`` (im2col and output relayout), ``asic`` (ASIC
        ops incl. rounding), ``glue`` (the rest: executor bookkeeping), ``total``.
    asic_seconds_by_op : dict
        The ``asic`` seconds split by op type (for GEMM-class nodes: their
        ASIC share, e.g. bias adds and the LSTM cell math).
    """

    outputs: dict[str, np.ndarray]
    layers: list[LayerStats]
    clipped_layers: list[tuple[str, float]]
    seconds: dict[str, float] = field(default_factory=dict)
    asic_seconds_by_op: dict[str, float] = field(default_factory=dict)


class PreparedModel:
    """A Graph bound to a precision, hardware spec, ADC policy and (optionally) calibration.

    Parameters
    ----------
    graph : Graph
        The model; BatchNormalization is folded into convs first (``fold_bn``).
    spec : PhotonicGemmSpec, optional
        Core size, resolutions, noise (e.g. ``adept_core.hardware.kernel_spec(config)``).
    precision : {"adept", "fp32"}
        ``"fp32"``: float32 GEMMs and float32 ASIC ops, no quantization, no noise.
    asic_format : {"bf16", "fp32"}
        Number format of the ASIC in ``"adept"`` precision.
    adc : {"worst_case", "calibrated"}
        ADC range policy (see :mod:`adept_core.emulate.engine`).
    calibration : dict, optional
        Per-layer ranges from an earlier :meth:`calibrate` (``model.calibration``).
    backend : str
        Kernel backend (``"auto"``, ``"cpp"``, ``"numba"``, ``"numpy"``).
    clip_threshold : float
        Report layers whose ADC clipped fraction exceeds this.
    headroom : float
        Multiplier (>= 1) on calibrated ADC full scales.
    threads : int, optional
        Kernel threads (default: all cores).
    blas_threads : int or None
        OpenBLAS threads while the float32 reference or the calibration runs
        (default 1: see :mod:`adept_core.blas`); ``None`` leaves BLAS alone.
    fp32_accumulate : {"float32", "float64"}
        ``precision="fp32"`` only: sums of the GEMMs in float32 BLAS (default; repeated weight
        columns computed once, so they give identical outputs) or in float64 rounded once to
        float32 (independent of the BLAS kernel, 2-3x the GEMM time); see
        :mod:`adept_core.emulate.fp32_product`.
    fuse : bool
        Run the node chains of :mod:`adept_core.emulate.fusion` as one step (default): the same
        bits, fewer passes over memory. ``False`` runs every node on its own (for comparison).
    """

    def __init__(self, graph: Graph, spec: PhotonicGemmSpec | None = None, precision: str = "adept",
                 asic_format: str = "bf16", adc: str = "worst_case", calibration: dict | None = None,
                 backend: str = "auto", clip_threshold: float = 1e-3, headroom: float = 1.0,
                 fold_bn: bool = True, im2col_impl: str = "auto", threads: int | None = None,
                 blas_threads: int | None = 1, fp32_accumulate: str = "float32", fuse: bool = True) -> None:
        if precision not in PRECISIONS:
            raise ConfigError(f"precision {precision!r} is unknown; choose one of {', '.join(PRECISIONS)}")
        if im2col_impl not in IMPLS:
            raise ConfigError(f"im2col_impl {im2col_impl!r} is unknown; choose one of {', '.join(IMPLS)}")
        check_accumulate(fp32_accumulate)  # also when precision="adept" builds no Fp32Engine
        if adc not in ADC_POLICIES:
            raise ConfigError(f"ADC range policy {adc!r} is unknown; choose one of {', '.join(ADC_POLICIES)}")
        graph.validate()
        self.graph = fold_batchnorm(graph) if fold_bn else graph
        # A reference-kernel node of an op outside REFERENCE_OPS is one the importer proved product-free
        # (a one-operand Einsum).
        unsupported = sorted({n.op for n in self.graph.nodes if (n.op not in EXECUTABLE_OPS and not _is_reference(n))
                              or (n.op in REFERENCE_OPS and n.op not in ASIC_OPS and not _is_reference(n))})
        if unsupported:
            first = next(n for n in self.graph.nodes if n.op in unsupported)
            raise UnsupportedOpError(
                f"graph {graph.name!r}: op(s) {unsupported} have no executor implementation (first: node "
                f"{first.name!r}); supported: {', '.join(sorted(EXECUTABLE_OPS))}"
            )
        self.precision = precision
        self.spec = spec if spec is not None else PhotonicGemmSpec()
        self.asic_format = "fp32" if precision == "fp32" else asic_format
        self.round = rounder(self.asic_format)
        self.adc = adc
        self.clip_threshold = float(clip_threshold)
        self.im2col_impl = im2col_impl
        self.blas_threads = blas_threads
        self._options = dict(spec=spec, precision=precision, asic_format=asic_format, adc=adc,
                             calibration=calibration, backend=backend, clip_threshold=clip_threshold,
                             headroom=headroom, fold_bn=fold_bn, im2col_impl=im2col_impl, threads=threads,
                             blas_threads=blas_threads, fp32_accumulate=fp32_accumulate, fuse=fuse)
        self.fuse = bool(fuse)
        self._bound = SignatureCache(self.MAX_BOUND_SIGNATURES)  # input signature -> model bound at it
        if precision == "fp32":
            self.engine = Fp32Engine(fp32_accumulate)
        else:
            self.engine = PhotonicEngine(self.spec, backend, adc, calibration, headroom=headroom, threads=threads)
        self._expected_macs = {n.name: sum(c.macs for c in gemm_calls(n, self.graph)) for n in self.graph.nodes
                               if n.op in GEMM_OPS}
        self._arrays = self._asic_weights()
        self._last_use = self._lifetimes()
        self._relu_into = self._fusable_relus()  # producer node -> the Relu it computes too
        self._absorbed = frozenset(self._relu_into.values())  # Relu nodes their producer computes
        self._relu_pending = False
        self._half = half_dtypes(self.graph.meta)  # value -> float16 / bfloat16 it is kept in
        self.node_cache: dict[str, tuple] = {}  # per-node static facts the runners resolve once
        self.lowering_seconds = 0.0

    # -- preparation -----------------------------------------------------------------
    def _asic_weights(self) -> dict[str, np.ndarray]:
        """Weights read as arrays (not programmed into a core), in the ASIC's format."""
        arrays = {}
        by_reference = {name for node in self.graph.nodes if _is_reference(node) for name in node.inputs}

        def reference_read(name):
            return name in by_reference

        for node in self.graph.nodes:
            programmed = PROGRAMMED_INPUTS.get(node.op, ()) if node.op in GEMM_OPS else ()
            for i, name in enumerate(node.inputs):
                if name and self.graph.is_weight(name) and i not in programmed and name not in arrays:
                    arrays[name] = self._as_asic(self.graph.weight(name), keep_float64=reference_read(name))
        return arrays

    def _as_asic(self, a: np.ndarray, keep_float64: bool = False) -> np.ndarray:
        # A float64 graph input (declared so) or a float64 weight a reference node reads stays float64:
        # the importer runs float64 ops on their reference kernels in float64, and the GEMM runners take
        # float64 operands as float32 at the DACs (gemm_ops._half_in). Other float64 weights (a
        # hand-built graph's NumPy defaults) are the ASIC's float32.
        a = np.asarray(a)
        if a.dtype == np.float64 and not keep_float64:
            a = a.astype(np.float32)
        return self.round(a) if a.dtype == np.float32 else a

    def weight_array(self, name: str) -> np.ndarray:
        """A weight's values (materialised now; programmed weights are not kept as float arrays)."""
        w = self._arrays.get(name)
        return w if w is not None else np.asarray(self.graph.weight(name), dtype=np.float32)

    def _lifetimes(self) -> dict[str, int]:
        last = {}
        for i, node in enumerate(self.graph.nodes):
            for name in node.inputs:
                if name and not self.graph.is_weight(name):
                    last[name] = i
        for name in self.graph.outputs:
            last[name] = len(self.graph.nodes)
        return last

    def _fusable_relus(self) -> dict[str, str]:
        """Relu nodes whose input a Conv or Add produces and nobody else reads: computed by that producer.

        The producer applies ``max(., 0)`` to its finished (rounded) result in
        the same pass (:mod:`adept_core.asic.fused`); the Relu node then passes
        the value on. Bit-identical, as the same operations run in the same order.
        """
        readers: dict[str, int] = {}
        for node in self.graph.nodes:
            for name in node.inputs:
                readers[name] = readers.get(name, 0) + 1
        producers = self.graph.producers()
        fused = {}
        for node in self.graph.nodes:
            if node.op != "Relu" or len(node.inputs) != 1:
                continue
            src = node.inputs[0]
            producer = producers.get(src)
            if (producer is not None and producer.op in ("Conv", "Add") and readers.get(src) == 1
                    and src not in self.graph.outputs and producer.outputs[0] == src):
                fused[producer.name] = node.name
        return fused

    def scratch(self, n: int) -> np.ndarray:
        """``n`` float32 elements of this model's one reusable buffer (grown, never shrunk).

        For values that live only inside one node (a conv's im2col columns, consumed by its
        GEMMs before the node returns): reusing the memory saves the page faults of a fresh
        large allocation on every call. Costs the largest such buffer for the model's lifetime
        (within the one-chunk activation bound of the executor).
        """
        buf = getattr(self, "_scratch", None)
        if buf is None or buf.size < n:
            buf = self._scratch = np.empty(n, np.float32)
        return buf[:n]

    def take_fused_relu(self) -> bool:
        """Whether the running node should apply its Relu reader too; the node that calls this must do so."""
        pending, self._relu_pending = self._relu_pending, False
        return pending

    @property
    def calibration(self) -> dict:
        """Per-layer ``{"x_absmax", "full_scale"}`` (JSON-ready), empty for worst_case / fp32."""
        return getattr(self.engine, "calibration", {})

    # -- execution -------------------------------------------------------------------
    def gemm(self, node, role: str, index, x: np.ndarray, w_fn, operand, out: np.ndarray | None = None) -> np.ndarray:
        """Run one GEMM of ``node``: stationary when ``operand`` is None (a weight), else programmed per call.

        ``out``: a [rows, columns] array (or view) the result is written to and returned; the
        float32 reference's BLAS writes it directly, other engines' results are copied in.
        """
        if operand is None and out is not None and type(self.engine) is Fp32Engine:
            return self.engine.weight_gemm(node.name, role, index, x, w_fn, out=out)
        if operand is None:
            y = self.engine.weight_gemm(node.name, role, index, x, w_fn)
        else:
            y = self.engine.act_gemm(node.name, role, index, x, w_fn())
        if out is None:
            return y
        out[...] = y
        return out

    def calibrate(self, inputs: dict[str, np.ndarray] | np.ndarray, progress: bool | None = None) -> dict:
        """Record per-layer input and ADC ranges from ``inputs`` (``adc="calibrated"`` only).

        Runs the float32 network on ``inputs`` with a
        :class:`~adept_core.emulate.engine.CalibrationEngine`; the result is
        stored in :attr:`calibration` (and returned), replacing any earlier one. Inputs of other shapes
        (an ONNX graph bound at run time) calibrate the model bound at them; every signature of this
        model shares the one calibration.
        """
        if self.precision != "adept" or self.adc != "calibrated":
            raise ConfigError("calibrate() applies to precision='adept' with adc='calibrated'")
        fed = self._feeds(inputs)
        bound = self._rebound(from_protos(fed)[0])
        if bound is not None:  # inputs of another signature: calibrate the model bound at it (same dict)
            return bound.calibrate({n: v for n, v in fed.items() if n in bound.graph.inputs}, progress)
        engine, fmt, rnd, precision = self.engine, self.asic_format, self.round, self.precision
        recorder = CalibrationEngine(self.spec, engine.headroom)
        self.engine, self.asic_format, self.round, self.precision = recorder, "fp32", rounder("fp32"), "calibrate"
        try:
            self.run(inputs, seed=0, progress=progress)
        finally:
            self.engine, self.asic_format, self.round, self.precision = engine, fmt, rnd, precision
        engine.calibration.clear()
        engine.calibration.update(recorder.calibration)
        # A layer whose inputs were all zero has no range: its DAC scale falls back to 1 and its ADC
        # full scale to the floor of 1, so real data later clips or loses its codes. Say which layers.
        zero = sorted(layer for layer, e in engine.calibration.items() if e["x_absmax"] == 0)
        if zero:
            shown = ", ".join(zero[:5]) + (f" and {len(zero) - 5} more" if len(zero) > 5 else "")
            warnings.warn(f"calibration: {len(zero)} layer(s) saw only zero inputs, so their ADC range is 0 "
                          f"(fallback scale 1): {shown}; calibrate on data that reaches them", stacklevel=2)
        return engine.calibration

    def run(self, inputs: dict[str, np.ndarray] | np.ndarray, seed: int = 0,
            progress: bool | None = None) -> EmulationResult:
        """Run the model on ``inputs`` (graph input name -> array with any number of samples).

        A graph with a single input also takes the bare array; NumPy scalars are 0-d arrays. Values
        may be ``onnx.TensorProto`` (converted exactly, then checked like arrays: no silent cast).
        Arrays in -> arrays out. A run fed any TensorProto returns each output, in the model's
        declared element type, in the container its element type was fed in: an array when some
        input of that type was an array, else a TensorProto (:mod:`adept_core.emulate.tensor_io`).
        """
        fed = self._feeds(inputs)
        inputs, kinds = from_protos(fed)
        bound = self._rebound(inputs)
        if bound is not None:  # as fed (the bound model picks the same containers), less inputs bound by value
            return bound.run({n: v for n, v in fed.items() if n in bound.graph.inputs}, seed, progress)
        if isinstance(self.engine, PhotonicEngine):
            self.engine.seed = seed
        self.engine.reset_stats()
        self.lowering_seconds = 0.0
        self._op_seconds: dict[str, float] = {}
        inputs = dict(inputs)
        n_samples = self._check_inputs(inputs)
        starts = range(0, max(n_samples, 1), self._batch())
        bar = _progress_bar(len(starts) * len(self.graph.nodes), progress, self.graph.name)
        asic_seconds = 0.0
        t_start = time.perf_counter()
        pieces: dict[str, list[np.ndarray]] = {name: [] for name in self.graph.outputs}
        for c, start in enumerate(starts):
            chunk = self._chunk(inputs, start, n_samples)
            self.engine.begin_chunk(c)
            with blas_threads(self.blas_threads if self.precision != "adept" else None):
                outs, asic_s = self._run_chunk(chunk, bar)
            asic_seconds += asic_s
            for name in self.graph.outputs:
                pieces[name].append(outs[name])
        if bar is not None:
            bar.close()
        total = time.perf_counter() - t_start
        outputs = {name: self._join(name, parts, n_samples) for name, parts in pieces.items()}
        dtypes = self.graph.meta.get("output_dtypes", {})
        outputs = to_protos(outputs, dtypes, kinds) if kinds is not None else declared(outputs, dtypes)
        layers = list(self.engine.stats.values())
        gemm_s = sum(st.seconds for st in layers)
        clipped = [(st.layer, st.clipped_fraction) for st in layers if st.clipped_fraction > self.clip_threshold]
        program_s = self.engine.program_seconds
        seconds = {"gemm": gemm_s, "program": program_s, "lowering": self.lowering_seconds, "asic": asic_seconds,
                   "glue": max(0.0, total - gemm_s - program_s - self.lowering_seconds - asic_seconds), "total": total}
        return EmulationResult(outputs, layers, clipped, seconds, dict(self._op_seconds))

    def _plan(self) -> list[tuple]:
        """Per node, the static facts ``_run_chunk`` needs, resolved once per prepared model.

        Saves the per-node dictionary and set lookups (a few microseconds each, which add up to
        ~10 % of a small model's run, ShuffleNet's ~250 nodes at ~15 ms).
        """
        plan = getattr(self, "_node_plan", None)
        if plan is not None:
            return plan
        plan = []
        last = self._last_use
        # Half-typed graphs keep every value in its type node by node: no fused chains there.
        shuffles = shuffle_depthwise_chains(self.graph) if not self._half and self.fuse else {}
        for i, node in enumerate(self.graph.nodes):
            reference = _is_reference(node)
            runner = None if reference else RUNNERS.get(node.op)
            programmed = PROGRAMMED_INPUTS.get(node.op, ()) if runner is not None else ()
            if node.op in CONTROL_FLOW_OPS:
                compute = run_control_flow
            elif reference:
                compute = op_reference
            else:
                compute = ASIC_OPS.get(node.op)  # None: looked up (and refused) when the node runs, as before
            in_place = IN_PLACE.get(node.op) if not reference else None
            frees = tuple(dict.fromkeys(name for name in node.inputs if name and last.get(name) == i))
            shuffle = shuffles.get(node.name)  # 0: a shuffle node passed on; G: the conv reading the shuffle
            plan.append((i, node, runner, programmed, compute, in_place, node.op not in DATA_MOVEMENT,
                         node.name in self._relu_into, node.name in self._absorbed or shuffle == 0, frees,
                         shuffle or 0))
        self._node_plan = plan
        return plan

    def _run_chunk(self, feeds: dict[str, np.ndarray], bar) -> tuple[dict[str, np.ndarray], float]:
        values: dict[str, np.ndarray] = dict(feeds)
        tainted: set[str] = set()  # values that may share memory with a weight
        asic_seconds = 0.0
        arrays = self._arrays
        last = self._last_use
        op_seconds = self._op_seconds
        perf = time.perf_counter
        plan = self._plan()
        half = self._half
        # The ASIC computes IEEE results (inf, nan) like hardware does: one errstate for the chunk.
        with np.errstate(all="ignore"):
            for i, node, runner, programmed, compute, in_place, rounds, relu_into, absorbed, frees, shuffle in plan:
                if absorbed and not half:  # passes its input on (a fused Relu, a shuffle its reader reads)
                    src, (name,) = node.inputs[0], node.outputs
                    if name in last:
                        values[name] = values[src]
                        if src in tainted:
                            tainted.add(name)
                    for name in frees:
                        values.pop(name, None)
                    if bar is not None:
                        bar.update(1)
                    continue
                args = []
                for j, name in enumerate(node.inputs):
                    if not name:
                        args.append(None)
                    elif name in values:
                        args.append(values[name])
                    elif j in programmed:
                        args.append(None)  # the engine programs it from the weight
                    else:
                        args.append(arrays[name])
                t0 = perf()
                self._relu_pending = relu_into
                if absorbed:
                    outs = (args[0],)  # its producer computed the Relu, or its reader the channel shuffle
                elif runner is not None:
                    others_before = self._node_gemm_seconds() + self.lowering_seconds + self.engine.program_seconds
                    outs = self._shuffled_depthwise(node, args, shuffle) if shuffle else runner(self, node, args)
                    others = self._node_gemm_seconds() + self.lowering_seconds + self.engine.program_seconds
                    spent = (perf() - t0) - (others - others_before)
                    asic_seconds += spent
                    op_seconds[node.op] = op_seconds.get(node.op, 0.0) + spent
                    self._check_lowering(node)
                else:
                    donor = self._donor(node, i, args, values, tainted) if in_place is not None else None
                    outs = in_place(node, args, self, donor) if donor is not None else None
                    if outs is None:
                        outs = (compute or ASIC_OPS[node.op])(node, args, self)
                        if rounds:
                            outs = tuple(self._round_result(o, args) for o in outs)
                    spent = perf() - t0
                    asic_seconds += spent
                    op_seconds[node.op] = op_seconds.get(node.op, 0.0) + spent
                if self.take_fused_relu():  # the producer took a path without the fused Relu
                    t0 = perf()
                    outs = (np.maximum(outs[0], outs[0].dtype.type(0)),) + tuple(outs[1:])
                    asic_seconds += perf() - t0
                if half:  # half-typed values stay in their type node by node (graph/half_types.py)
                    # An op that computed in the half type itself skipped the ASIC-format rounding
                    # (_round_result takes float32): in precision="adept" it is applied here too.
                    on_grid = runner is not None or node.op in DATA_MOVEMENT or self.asic_format == "fp32"
                    outs = tuple(keep_half(o if on_grid or not is_half(o) else self.round(o.astype(np.float32)),
                                           half[n]) if n in half else o for n, o in zip(node.outputs, outs))
                for name, value in zip(node.outputs, outs):
                    if name in last:  # outputs nobody reads (an LSTM's Y_c, ...) are dropped at once
                        values[name] = value = np.asarray(value)
                        if runner is None and _aliases(value, node.inputs, args, tainted, self.graph):
                            tainted.add(name)  # a view of a weight (Identity, Reshape, ...): never overwritten
                if len(node.outputs) > len(outs):
                    missing = [name for name in node.outputs[len(outs):] if name and name in last]
                    if missing:
                        raise UnsupportedOpError(f"node {node.name!r} ({node.op}): output(s) {missing} "
                                                 "are not computed")
                for name in frees:
                    values.pop(name, None)
                if bar is not None:
                    bar.update(1)
        # A graph output may be a constant (folded at import): it is the same for every chunk.
        return {name: values[name] if name in values else np.asarray(self.graph.weight(name))
                for name in self.graph.outputs}, asic_seconds

    def _shuffled_depthwise(self, node, args, groups: int) -> tuple:
        """The depthwise conv ``node`` of the channel shuffle (``groups``) of ``args[0]`` (emulate/fusion.py).

        ``args[0]`` is the unshuffled tensor (the chain's Reshape / Transpose nodes passed it on).
        Where the C loop does not apply (not float32, an uncompiled tree), the shuffle is
        materialised and the conv runs as usual: the same values either way.
        """
        x = args[0]
        key = (node.name, "unshuffled_taps")
        entry = self.node_cache.get(key)
        if entry is None:
            w = self.weight_array(node.inputs[1])
            bias = args[2] if len(args) > 2 else None
            geo = ConvGeometry.from_attrs(node.attrs, kernel_shape=w.shape[2:], name=node.name)
            entry = self.node_cache[key] = (geo,) + unshuffle_taps(w, bias, groups)
        geo, taps, bias = entry
        y = unshuffle_depthwise_conv(x, taps, bias, geo, groups) if isinstance(x, np.ndarray) else None
        if y is not None:
            return (y,)
        return RUNNERS["Conv"](self, node, [channel_shuffle(np.asarray(x), groups)] + list(args[1:]))

    def _donor(self, node, i: int, args, values: dict, tainted: set):
        """An input of node ``i`` its result may overwrite: dead after it, ours, aliased by no other value."""
        last = self._last_use
        for name, a in zip(node.inputs, args):
            if (not name or last.get(name) != i or name in tainted or name not in values
                    or not isinstance(a, np.ndarray) or not a.flags.writeable):
                continue
            if not any(other != name and isinstance(v, np.ndarray) and np.may_share_memory(v, a)
                       for other, v in values.items()):
                return a
        return None

    def _round_result(self, o, args):
        """An op's float32 result on the ASIC grid: in place unless it aliases an input.

        Rounding a fresh result in place saves an activation-sized allocation
        (whose page faults cost more than the rounding itself).
        """
        if not isinstance(o, np.ndarray) or o.dtype != np.float32:
            return o
        if o.flags.writeable and not any(isinstance(a, np.ndarray) and np.may_share_memory(o, a) for a in args):
            return self.round(o, out=o)
        return self.round(o)

    def _node_gemm_seconds(self) -> float:
        return self.engine.gemm_seconds

    def _check_lowering(self, node) -> None:
        """The engine must have run exactly the MACs the lowering (and so the scheduler) counts."""
        expected = self._expected_macs.get(node.name, 0)
        ran = self.engine.node_macs.pop(node.name, 0)
        if ran != expected:
            raise AdeptError(f"internal: node {node.name!r} ran {ran} photonic MACs, the lowering counts {expected}")

    # -- batching --------------------------------------------------------------------
    #: Input signatures a model keeps bound graphs for (oldest dropped first): bounded memory.
    MAX_BOUND_SIGNATURES = 16

    def _rebound(self, inputs: dict) -> "PreparedModel | None":
        """The model bound at the inputs' own shapes, when they do not fit this graph's (an ONNX graph only).

        Inputs fit when they have the declared shapes, or differ only on their batch axes (then they
        are streamed in chunks, as always). Other shapes re-import the model at those shapes
        (``Graph.rebind``), cached per signature (names, shapes, dtypes).
        """
        if self.graph.rebind is None or set(inputs) != set(self.graph.inputs):
            if self.graph.meta.get("deferred"):
                self._check_inputs(inputs)  # names the missing / unexpected inputs
            return None
        # A NumPy scalar (np.float32(2.0), as onnx's own cases feed a scale) is a 0-d array here too.
        arrays = {n: np.asarray(v) for n, v in inputs.items() if isinstance(v, (np.ndarray, np.generic))}
        if len(arrays) != len(inputs):
            return None
        if self.graph.meta.get("deferred"):
            return self._bound_by_value(arrays)
        def fits(name, a):
            shape, axis = tuple(self.graph.inputs[name]), self._axis(name)
            return a.shape == shape or (a.ndim == len(shape) and all(
                a.shape[d] == s for d, s in enumerate(shape) if d != axis))
        if all(fits(n, a) for n, a in arrays.items()):
            return None
        key = tuple((n, a.shape, a.dtype.str) for n, a in sorted(arrays.items()))
        return self._bound.get(key, lambda: self._child(self.graph.rebind({n: a.shape for n, a in arrays.items()})))

    def _bound_by_value(self, arrays: dict) -> "PreparedModel":
        """A deferred graph (graph/onnx_deferred.py) imported with its shape / structure inputs' values bound."""
        from ..graph.onnx_control_flow import BIND_MAX_ELEMENTS

        names = self.graph.meta["bind_by_value"]
        for name in names:
            a = arrays[name]
            want = np.dtype(self.graph.input_dtypes.get(name, "float32"))
            if a.dtype != want:
                raise ShapeError(f"input {name!r} must be a numpy array of {want}, got {a.dtype} (adept never "
                                 "casts silently)")
            if a.size > BIND_MAX_ELEMENTS:
                raise ShapeError(f"input {name!r} sets the model's shapes, so it is bound by value at import, "
                                 f"which takes at most {BIND_MAX_ELEMENTS} elements; got {a.size}")
        values = {n: arrays[n] for n in names}
        rest = {n: a for n, a in arrays.items() if n not in values}
        key = (tuple((n, a.shape, a.dtype.str) for n, a in sorted(rest.items()))
               + tuple((n, a.dtype.str, a.shape, a.tobytes()) for n, a in sorted(values.items())))
        return self._bound.get(key, lambda: self._child(self.graph.rebind({n: a.shape for n, a in rest.items()}, values)))

    def _child(self, graph: Graph) -> "PreparedModel":
        """This model's setup on ``graph`` (this graph bound at other input shapes or values).

        The child uses this model's calibration dict itself, not a copy: layer names do not depend on
        the input shapes, so ranges recorded at one signature apply at every other, and calibrating
        either model later (which updates the dict in place) is seen by both.
        """
        child = PreparedModel(graph, **self._options)
        child.share_calibration(self.calibration)
        return child

    def share_calibration(self, calibration: dict) -> None:
        """Take ``calibration`` (the same dict object, which :meth:`calibrate` updates in place) as this
        model's ADC ranges; models of one network bound at several input signatures share one."""
        if isinstance(self.engine, PhotonicEngine):
            self.engine.calibration = calibration

    def _axis(self, name: str) -> int:
        return int(self.graph.meta.get("batch_axes", {}).get(name, 0))

    def _feeds(self, inputs: object) -> dict[str, np.ndarray]:
        """``inputs`` as a name -> array mapping (a bare array names the graph's only input)."""
        if isinstance(inputs, np.ndarray):
            if len(self.graph.inputs) != 1:
                raise ShapeError(f"graph {self.graph.name!r} takes {len(self.graph.inputs)} inputs "
                                 f"{sorted(self.graph.inputs)}; pass a dict name -> array, not one array")
            return {next(iter(self.graph.inputs)): inputs}
        if not isinstance(inputs, Mapping):
            raise ShapeError(f"inputs must be a dict name -> numpy array (or one array for a single-input graph), "
                             f"got {type(inputs).__name__}")
        return dict(inputs)

    def _check_inputs(self, inputs: dict[str, np.ndarray]) -> int:
        """Validate names, dtypes and shapes; the number of samples."""
        missing = sorted(set(self.graph.inputs) - set(inputs))
        extra = sorted(set(inputs) - set(self.graph.inputs))
        if missing or extra:
            raise ShapeError(f"graph {self.graph.name!r} takes inputs {sorted(self.graph.inputs)}; "
                             f"missing {missing}, unexpected {extra}")
        counts = set()
        # Inputs exactly as declared run as one whole chunk: no batch axis is needed (scalars,
        # states, inputs whose leading sizes differ).
        self._whole = all(isinstance(inputs[n], (np.ndarray, np.generic)) and np.shape(inputs[n]) == tuple(s)
                          for n, s in self.graph.inputs.items())
        for name, shape in self.graph.inputs.items():
            a = inputs[name]
            if isinstance(a, np.generic):  # a NumPy scalar is a 0-d array
                a = inputs[name] = np.asarray(a)
            want = np.dtype(self.graph.input_dtypes.get(name, "float32"))
            if not isinstance(a, np.ndarray) or a.dtype != want:
                raise ShapeError(f"input {name!r} must be a numpy array of {want}, got "
                                 f"{getattr(a, 'dtype', type(a).__name__)} (adept never casts silently)")
            axis = self._axis(name)
            if self._whole:
                continue
            if a.ndim != len(shape) or any(a.shape[d] != s for d, s in enumerate(shape) if d != axis):
                raise ShapeError(f"input {name!r} must have shape {shape} with any size on axis {axis}, "
                                 f"got {a.shape}")
            counts.add(a.shape[axis])
        if self._whole:
            return 1
        if len(counts) != 1:
            raise ShapeError(f"inputs disagree on the number of samples: {sorted(counts)}")
        return counts.pop()

    def _chunk(self, inputs: dict[str, np.ndarray], start: int, n: int) -> dict[str, np.ndarray]:
        """Samples ``start .. start+batch`` of every input (zero-padded past ``n``), in the ASIC format.

        Made one chunk at a time, so streaming many samples never copies the whole input.
        """
        chunk = {}
        if self._whole:
            for name, a in inputs.items():
                self._check_finite(name, a, "")
                chunk[name] = self._as_asic(np.array(a, order="C"), keep_float64=True)  # a copy: ops may reuse it
            return chunk
        for name, a in inputs.items():
            axis = self._axis(name)
            size = self.graph.inputs[name][axis]
            part = np.take(a, np.arange(start, min(start + size, n)), axis=axis)
            self._check_finite(name, part, f" (samples {start}..{start + size - 1})")
            if part.shape[axis] < size:
                widths = [(0, 0)] * a.ndim
                widths[axis] = (0, size - part.shape[axis])
                part = np.pad(part, widths)
            chunk[name] = self._as_asic(np.ascontiguousarray(part), keep_float64=True)
        return chunk

    def _check_finite(self, name: str, a: np.ndarray, where: str) -> None:
        """NaN / Inf inputs are refused where a DAC would convert them; the float32 reference takes them."""
        if self.precision == "fp32" or not np.issubdtype(a.dtype, np.floating):
            return
        if not np.all(np.isfinite(a)):
            raise ShapeError(f"input {name!r} contains NaN or Inf{where}; only precision='fp32' accepts them")

    def _batch(self) -> int:
        if self._whole:
            return 1
        sizes = {self.graph.inputs[name][self._axis(name)] for name in self.graph.inputs}
        if len(sizes) != 1:
            raise ShapeError(f"graph inputs disagree on the batch size: {sorted(sizes)}")
        return sizes.pop()

    def _join(self, name: str, parts: list[np.ndarray], n: int) -> np.ndarray:
        """Concatenate an output's chunks along its batch axis and drop the padding."""
        batch = self._batch()
        if self._whole:
            return np.asarray(parts[0])
        if len(parts) == 1 and n == batch:
            return np.ascontiguousarray(parts[0])  # one graph batch: nothing to join or trim
        axis = int(self.graph.meta.get("batch_axes", {}).get(name, 0))
        if parts[0].ndim <= axis or parts[0].shape[axis] != batch:
            raise ShapeError(
                f"output {name!r} (shape {parts[0].shape}) has no batch axis {axis} of size {batch}, so "
                f"{n} samples cannot be streamed in chunks of {batch}; pass exactly {batch} samples"
            )
        out = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=axis)
        return np.take(out, np.arange(n), axis=axis) if out.shape[axis] > n else out


def _aliases(value, names, args, tainted: set, graph: Graph) -> bool:
    """True when ``value`` may share memory with an input that is a weight or a weight's view."""
    return any(name and (name in tainted or graph.is_weight(name)) and isinstance(a, np.ndarray)
               and np.may_share_memory(value, a) for name, a in zip(names, args))


def _progress_bar(total: int, progress: bool | None, name: str):
    """A tqdm bar on stderr; ``None`` means on only when stderr is a terminal."""
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=f"emulating {name}", unit="op", leave=False, file=sys.stderr)


def prepare(graph: Graph, **kwargs) -> PreparedModel:
    """Bind ``graph`` to an emulation setup; see :class:`PreparedModel` for the options."""
    return PreparedModel(graph, **kwargs)


def emulate(graph: Graph, inputs: dict[str, np.ndarray], seed: int = 0, calibration_inputs=None,
            **kwargs) -> EmulationResult:
    """One-shot: prepare, calibrate when ``adc="calibrated"`` (on ``calibration_inputs`` or ``inputs``), run."""
    model = PreparedModel(graph, **kwargs)
    if model.precision == "adept" and model.adc == "calibrated" and not model.calibration:
        model.calibrate(calibration_inputs if calibration_inputs is not None else inputs)
    return model.run(inputs, seed=seed)


