"""ONNX control flow (If, Loop, Scan): folded at import when the condition is known, else run per call.

Import (:func:`import_control_flow`, called by the importer for every If / Loop / Scan node):

* **If on a known condition** (a constant, or a value folded from initializers and shapes, which the
  importer already knows when it binds the model to its input shapes): the taken branch is
  **inlined** into the Graph. Its nodes are imported one by one like any other node (so a Conv or
  MatMul in the branch gets the photonic core and is charged by the scheduler); names the branch
  defines get the prefix ``"<if node>/"`` (unique in the Graph); names it reads from the outer scope
  stay as they are; each branch output becomes an ``Identity`` onto the If's output.
* **Otherwise** (If on a run-time condition, every Loop and Scan) the node becomes one Graph node
  run on the ASIC by :func:`run_control_flow`. Its inputs are the ONNX inputs plus every outer-scope
  value its bodies read (so the executor keeps those alive and passes them in); the serialized
  NodeProto rides in the ``onnx_control_flow`` attribute.

Run time (:func:`run_control_flow`): adept drives the iteration itself - picks the If branch, carries
Loop state, slices Scan inputs along their axes and directions, stacks scan outputs - and runs each body
with adept's own executor: imported as an adept Graph per input signature (outer-scope weights become
initializers, other outer values inputs) and sharing the parent's engine, so a body MatMul is charged
to the photonic core per iteration. A body the Graph cannot hold falls back to the ``onnx`` reference
evaluator. Untrusted iteration counts are bounded: a Loop trip count (or a condition-only Loop) may run
at most :data:`MAX_ITERATIONS` iterations, and stacked scan outputs must fit the graph's
``max_elements`` budget; past either, :class:`~adept_core.errors.ShapeError` names the node - checked
before each iteration, so a ``2**62``-trip Loop fails at once instead of hanging.

Loops over sequences / optionals stay excluded (non-tensor types). See ``docs/executor.md``,
"Control flow".
"""

from __future__ import annotations

import warnings

import numpy as np

CONTROL_FLOW_OPS = frozenset({"If", "Loop", "Scan"})

#: Most iterations one run-time Loop (or Scan) may run. An untrusted model can ask for 2**62 trips;
#: 2**20 covers every sequence length a DNN inference loop uses (tokens, frames, Range steps).
MAX_ITERATIONS = 1 << 20

#: The executor attribute holding the serialized ONNX node (its bodies) of a run-time node.
PROTO_ATTR = "onnx_control_flow"


def _subgraphs(node):
    from onnx import AttributeProto

    for attr in node.attribute:
        if attr.type == AttributeProto.GRAPH:
            yield attr.g
        elif attr.type == AttributeProto.GRAPHS:
            yield from attr.graphs


def outer_names(graph) -> list[str]:
    """Names ``graph`` (or a nested body) reads but does not define: its outer-scope values, in order."""
    defined = {i.name for i in graph.input} | {t.name for t in graph.initializer}
    defined |= {t.values.name for t in graph.sparse_initializer}
    seen, out = set(), []

    def need(name):
        if name and name not in defined and name not in seen:
            seen.add(name)
            out.append(name)

    for node in graph.node:
        for name in node.input:
            need(name)
        for sub in _subgraphs(node):
            for name in outer_names(sub):
                need(name)
        defined.update(o for o in node.output if o)
    for o in graph.output:
        need(o.name)
    return out


def node_outer_names(node) -> list[str]:
    names, seen = [], set(node.input)
    for sub in _subgraphs(node):
        for name in outer_names(sub):
            if name not in seen:
                seen.add(name)
                names.append(name)
    return names


def bind_input_values(imp, values: dict) -> None:
    """Graph inputs whose values are given at bind time become constants of the importer ``imp``."""
    from onnx import helper

    from ..errors import ShapeError

    declared = {i.name: i for i in imp.proto.graph.input if i.name not in imp.consts}
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise ShapeError(f"input_values names {unknown}, but the model's inputs are {sorted(declared)}")
    for value_name, value in values.items():
        if not isinstance(value, (np.ndarray, np.generic)):
            raise ShapeError(f"input_values[{value_name!r}] must be a numpy array, got {type(value).__name__}")
        a = np.asarray(value)
        want = declared[value_name].type.tensor_type.elem_type
        if want and helper.np_dtype_to_tensor_dtype(a.dtype) != want:
            raise ShapeError(f"input_values[{value_name!r}] has dtype {a.dtype}, but the model declares "
                             f"{np.dtype(helper.tensor_dtype_to_np_dtype(want))} (adept never casts silently)")
        imp._check_budget(a.shape, f"input_values[{value_name!r}]")
        imp._set_const(value_name, a.copy())


#: Integer inputs up to this many elements may be bound by value (a rate, a mode flag, sequence lengths).
BIND_MAX_ELEMENTS = 1024

_RNN_OPS = ("LSTM", "GRU", "RNN")
_COMPARISONS = ("Equal", "Greater", "GreaterOrEqual", "Less", "LessOrEqual", "Not", "Cast")


def bind_time_inputs(model, input_names) -> list[str]:
    """Graph inputs the ONNX backend binds by value at import, one import per distinct value.

    Small integer / boolean tensors whose value decides the graph's structure:
    an RNN's ``sequence_lens`` (the canonical LSTM / GRU / RNN takes the lengths at import), and an
    input that is an ``If`` condition directly or through one comparison (a speech VAD's
    ``Equal(sr, 16000) -> If``), so the taken branch is inlined and its Conv / LSTM reach the
    photonic core; and an integer input whose values set shapes (:mod:`.onnx_shape_inputs`). Any other
    input stays a run-time value.
    """
    from onnx import TensorProto

    names = set(input_names)
    dtypes = {i.name: i.type.tensor_type.elem_type for i in model.graph.input}
    small_int = {n for n in names if dtypes.get(n) in (TensorProto.INT64, TensorProto.INT32, TensorProto.BOOL)}
    bound = set()
    feeds_if = set()
    for node in model.graph.node:
        if node.op_type == "If" and node.input:
            feeds_if.add(node.input[0])
    for node in model.graph.node:
        if node.op_type in _RNN_OPS and len(node.input) > 4 and node.input[4] in small_int:
            bound.add(node.input[4])
        if node.op_type in _COMPARISONS and any(o in feeds_if for o in node.output):
            bound.update(i for i in node.input if i in small_int)
    bound.update(n for n in feeds_if if n in small_int)
    # A third kind: an integer input whose values set shapes (AffineGrid's size, a Reshape target).
    from .onnx_shape_inputs import shape_inputs

    integer = {n for n in small_int if dtypes.get(n) != TensorProto.BOOL}
    bound.update(shape_inputs(model, integer, node_outer_names))
    return sorted(bound)


# -- import -------------------------------------------------------------------------------------
def import_control_flow(imp, node, name: str) -> None:
    """Import one If / Loop / Scan node into the importer ``imp`` (inline a known If, else a run-time node)."""
    from ..errors import ShapeError

    if node.op_type == "If" and node.input[0] in imp.consts:
        cond = np.asarray(imp.consts[node.input[0]])
        if cond.size != 1:
            raise ShapeError(f"node {name!r} (If): its condition {node.input[0]!r} has {cond.size} elements; "
                             "ONNX requires a single boolean")
        branch = next(a.g for a in node.attribute if a.name == ("then_branch" if bool(cond.reshape(())) else
                                                                  "else_branch"))
        _inline(imp, node, name, branch)
        return
    for value in node_outer_names(node):
        if value not in imp.shapes:
            raise ShapeError(f"node {name!r} ({node.op_type}): its body reads {value!r}, which has no known "
                             "shape in the outer scope")
    _check_bodies(imp, node, name)
    _run_time_node(imp, node, name)


def _check_bodies(imp, node, name: str) -> None:
    """Refuse at import what a run-time body must not run: a random generator (other numbers on every run; the
    reference evaluator, which runs a body adept cannot import, would run it) or an op of a custom domain (the
    reference has no kernel for it: the error would come only at run time). The other excluded features
    (sequences, optionals, strings) run exactly on the reference when a body needs them."""
    from ..errors import UnknownOpError
    from .ops import PREVIEW_OPS, RANDOM_OPS, not_inference

    for body in _subgraphs(node):
        for index, inner in enumerate(body.node):
            inner_name = f"{name}/{inner.name or inner.op_type + '_' + str(index)}"
            if inner.domain not in ("", "ai.onnx") and (inner.domain, inner.op_type) not in PREVIEW_OPS:
                raise imp._unsupported(inner, inner_name, f"custom domain {inner.domain!r}, in the body of "
                                                          f"{node.op_type} {name!r}", UnknownOpError)
            if inner.op_type in RANDOM_OPS:
                raise imp._unsupported(inner, inner_name, f"{not_inference(inner.op_type)}; in the body of "
                                                          f"{node.op_type} {name!r}", UnknownOpError)
            if inner.op_type in CONTROL_FLOW_OPS:
                _check_bodies(imp, inner, inner_name)


def _inline(imp, node, name: str, branch) -> None:
    from onnx import helper, numpy_helper

    from .onnx_import import MAX_ELEMENTS  # noqa: F401  (the budget is the importer's own)

    rename: dict[str, str] = {}

    def local(value: str) -> str:
        new = f"{name}/{value}"
        while new in imp.shapes or new in rename.values():
            new += "_"
        rename[value] = new
        return new

    for init in branch.initializer:
        imp._check_budget(tuple(init.dims), f"initializer {init.name!r} of the taken branch of {name!r}")
        imp._set_const(local(init.name), numpy_helper.to_array(init))
    for index, inner in enumerate(branch.node):
        copy = helper.make_node("Identity", [], [])
        copy.CopyFrom(inner)
        for j, value in enumerate(copy.input):
            if value in rename:
                copy.input[j] = rename[value]
        for sub in _subgraphs(copy):
            _rename_reads(sub, rename)
        for j, value in enumerate(copy.output):
            if value:
                copy.output[j] = local(value)
        imp._import_node(copy, f"{name}/{inner.name or inner.op_type}_{index}")
    for k, (inner_out, out) in enumerate(zip(branch.output, node.output)):
        if out:
            ident = helper.make_node("Identity", [rename.get(inner_out.name, inner_out.name)], [out])
            imp._import_node(ident, f"{name}/output_{k}")


def _rename_reads(graph, rename: dict) -> None:
    """Point a nested body's outer-scope reads at the inlined (renamed) values, respecting shadowing."""
    shadow = {i.name for i in graph.input} | {t.name for t in graph.initializer}
    for inner in graph.node:
        for j, value in enumerate(inner.input):
            if value in rename and value not in shadow:
                inner.input[j] = rename[value]
        for sub in _subgraphs(inner):
            _rename_reads(sub, {k: v for k, v in rename.items() if k not in shadow})
        shadow.update(inner.output)
    for out in graph.output:
        if out.name in rename and out.name not in shadow:
            out.name = rename[out.name]


def _run_time_node(imp, node, name: str) -> None:
    from onnx import helper

    from .ir import Node

    from ..errors import ShapeError

    try:
        imp._infer(node, name, dynamic_ok=True)
    except ShapeError:
        pass  # node inference cannot see the bodies' outer scope: the outputs' shapes are bound at run time
    # Element types the node inference left unknown come from the body's declared outputs.
    body = next(a.g for a in node.attribute if a.name in ("then_branch", "body"))
    declared = list(body.output[1:]) if node.op_type == "Loop" else list(body.output)
    for k, out in enumerate(node.output):
        if not out:
            continue
        if out not in imp.shapes:
            imp.shapes[out] = None
        if not imp.elem_types.get(out) and k < len(declared):
            imp.elem_types[out] = declared[k].type.tensor_type.elem_type
    dtypes = []
    for out in node.output:
        elem = imp.elem_types.get(out, 0) if out else 0
        dtypes.append(np.dtype(helper.tensor_dtype_to_np_dtype(elem)).name if elem else "")
    inputs = list(node.input) + node_outer_names(node)
    attrs = {PROTO_ATTR: node.SerializeToString(), "onnx_opset": imp.opset, "onnx_out_dtypes": dtypes,
             "onnx_explicit_inputs": len(node.input)}
    imp.nodes.append(Node(name, node.op_type, tuple(inputs), tuple(node.output), attrs))


# -- run time -----------------------------------------------------------------------------------
#: Distinct input signatures (shapes, dtypes) a body is imported for as an adept Graph; past it, the
#: body runs on the onnx reference evaluator (a body whose shapes change every iteration).
MAX_BODY_SIGNATURES = 16


def _body_model(node, body, values: dict, constants: dict | None = None, key: str = "body"):
    """``body`` as a model whose inputs (its own and the outer-scope values) are typed by ``values``;
    ``constants`` (outer-scope weights of the parent Graph) become initializers, so shape arithmetic on
    them folds in the body as it does in the parent."""
    from onnx import helper, numpy_helper

    graph = type(body)()
    graph.CopyFrom(body)
    del graph.input[:]
    for value, array in (constants or {}).items():
        graph.initializer.append(numpy_helper.from_array(np.asarray(array), value))
    for value, array in values.items():
        if constants and value in constants:
            continue
        a = np.asarray(array)
        graph.input.append(helper.make_tensor_value_info(value, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape))
    for index, inner in enumerate(graph.node):  # unique layer names in the executor's statistics
        inner.name = f"{node.name}/{key}/{inner.name or inner.op_type + '_' + str(index)}"
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", int(node.attrs["onnx_opset"]))])


def _adept_body(ctx, node, key: str, body, values: dict):
    """The body imported as an adept Graph and prepared like its parent, or None when it cannot be."""
    from ..emulate.executor import PreparedModel
    from ..errors import AdeptError, BudgetError
    from .onnx_import import from_onnx

    budget = int(ctx.graph.meta.get("max_elements", 1 << 30))
    try:
        constants = {n: v for n, v in values.items() if ctx.graph.is_weight(n)}
        graph = from_onnx(_body_model(node, body, values, constants, key), name=f"{node.name}/{key}",
                          input_shapes={n: np.shape(v) for n, v in values.items() if n not in constants},
                          max_elements=budget)
        precision = ctx.precision if ctx.precision in ("adept", "fp32") else "fp32"
        sub = PreparedModel(graph, spec=ctx.spec, precision=precision, fold_bn=False,
                            im2col_impl=ctx.im2col_impl, blas_threads=None)
    except AdeptError as exc:
        if isinstance(exc, BudgetError):
            raise  # an over-budget body is refused, never handed to the (unbounded) fallback
        return None  # an op the canonical Graph cannot hold here: the reference evaluator runs the body
    return sub


def _run_adept_body(ctx, sub, feeds: dict) -> list:
    # The parent's engine, number format and timers: the body's GEMMs are charged to the same photonic
    # core statistics (per iteration) and its ASIC ops round like the parent's.
    sub.engine, sub.round, sub.asic_format, sub.precision = ctx.engine, ctx.round, ctx.asic_format, ctx.precision
    sub._op_seconds = getattr(ctx, "_op_seconds", {})
    sub.lowering_seconds = 0.0
    # Copies: the body's ops may reuse a dead input's memory in place, and these arrays belong to the
    # parent (outer-scope values, carried state already stacked into scan outputs).
    outs, _ = sub._run_chunk({n: np.array(feeds[n], copy=True) for n in sub.graph.inputs}, None)
    ctx.lowering_seconds += sub.lowering_seconds
    return [np.asarray(outs[name]) for name in sub.graph.outputs]


def _body_runner(ctx, node, key: str, body, outer: dict):
    """A callable (body input values) -> body outputs; each body runs as an adept Graph per signature."""
    names = [i.name for i in body.input]
    cache_key = ("control_flow", node.name, key)
    subs = ctx.node_cache.setdefault(cache_key, {})

    def run(values):
        feeds = dict(outer)
        feeds.update((n, np.asarray(v)) for n, v in zip(names, values) if n)
        signature = tuple((n, np.shape(v), np.asarray(v).dtype.str) for n, v in feeds.items())
        sub = subs.get(signature, False)
        if sub is False and len(subs) < MAX_BODY_SIGNATURES:
            sub = subs[signature] = _adept_body(ctx, node, key, body, feeds)
        if sub:
            return _run_adept_body(ctx, sub, feeds)
        return _reference_body(ctx, node, key, body, feeds)

    return run


def _reference_body(ctx, node, key: str, body, feeds: dict) -> list:
    from ..asic.reference_fixes import reference_evaluator

    cache_key = ("control_flow_reference", node.name, key)
    evaluator = ctx.node_cache.get(cache_key)
    if evaluator is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            evaluator = ctx.node_cache[cache_key] = reference_evaluator(_body_model(node, body, feeds, key=key))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [np.asarray(v) for v in evaluator.run(None, feeds)]


def run_control_flow(node, args, ctx):
    """Run a run-time If / Loop / Scan Graph node (see the module docstring)."""
    import onnx
    from onnx import helper

    from ..errors import ShapeError

    proto = onnx.NodeProto.FromString(node.attrs[PROTO_ATTR])
    n_explicit = int(node.attrs["onnx_explicit_inputs"])
    explicit = list(args[:n_explicit])
    outer = {n: a for n, a in zip(node.inputs[n_explicit:], args[n_explicit:])}
    attrs = {a.name: (a.g if a.type == onnx.AttributeProto.GRAPH else helper.get_attribute_value(a))
             for a in proto.attribute}
    budget = int(ctx.graph.meta.get("max_elements", 1 << 30))
    if node.op == "If":
        cond = np.asarray(explicit[0])
        if cond.size != 1:
            raise ShapeError(f"node {node.name!r} (If): the condition has {cond.size} elements, not one")
        key = "then_branch" if bool(cond.reshape(())) else "else_branch"
        outs = _body_runner(ctx, node, key, attrs[key], outer)([])
    elif node.op == "Loop":
        outs = _loop(node, explicit, attrs["body"], outer, ctx, budget)
    else:
        outs = _scan(node, explicit, attrs, outer, ctx, budget)
    dtypes = node.attrs.get("onnx_out_dtypes") or []
    result = []
    for j, value in enumerate(outs[:len(node.outputs)]):
        want = dtypes[j] if j < len(dtypes) and dtypes[j] else None
        result.append(value.astype(want) if want is not None and value.dtype != np.dtype(want) else value)
    return tuple(result)


def _loop(node, explicit, body, outer, ctx, budget):
    from ..errors import BudgetError, ShapeError

    trip = explicit[0] if len(explicit) > 0 else None
    cond = explicit[1] if len(explicit) > 1 else None
    state = list(explicit[2:])
    max_trip = None if trip is None or (isinstance(trip, np.ndarray) and trip.size == 0) else int(
        np.asarray(trip).reshape(()))
    if max_trip is not None and max_trip > MAX_ITERATIONS:
        raise ShapeError(f"node {node.name!r} (Loop) asks for {max_trip:,} iterations, over the limit of "
                         f"{MAX_ITERATIONS:,} (adept_core.graph.onnx_control_flow.MAX_ITERATIONS), a guard "
                         "against model files that would never finish")
    keep_going = True if cond is None or np.asarray(cond).size == 0 else bool(np.asarray(cond).reshape(()))
    run = _body_runner(ctx, node, "body", body, outer)
    n_state = len(state)
    scans: list[list[np.ndarray]] = []
    scan_elements = 0
    i = 0
    while keep_going and (max_trip is None or i < max_trip):
        if i >= MAX_ITERATIONS:
            raise ShapeError(f"node {node.name!r} (Loop) is still running after {MAX_ITERATIONS:,} iterations "
                             "(its condition never turned false), the limit of "
                             "adept_core.graph.onnx_control_flow.MAX_ITERATIONS")
        outs = run([np.array(i, dtype=np.int64), np.array(keep_going, dtype=np.bool_)] + state)
        keep_going = bool(np.asarray(outs[0]).reshape(()))
        state = outs[1:1 + n_state]
        per_iter = outs[1 + n_state:]
        if not scans:
            scans = [[] for _ in per_iter]
        for acc, v in zip(scans, per_iter):
            acc.append(v)
        scan_elements += sum(int(v.size) for v in per_iter)
        if scan_elements > budget:
            raise BudgetError(f"node {node.name!r} (Loop): its scan outputs reach {scan_elements:,} elements after "
                             f"{i + 1} iterations, over the budget of {budget:,}; raise it with "
                             "from_onnx(..., max_elements=N)")
        i += 1
    n_scan = len(body.output) - 1 - n_state
    stacked = []
    for k in range(n_scan):
        if scans and scans[k]:
            stacked.append(np.stack(scans[k]))
        else:  # zero iterations: an empty stack of the body's declared element type
            elem = body.output[1 + n_state + k].type.tensor_type.elem_type
            from onnx import helper
            stacked.append(np.zeros((0,), dtype=helper.tensor_dtype_to_np_dtype(elem) if elem else np.float32))
    return list(state) + stacked


def _scan(node, explicit, attrs, outer, ctx, budget):
    from ..errors import ShapeError

    body = attrs["body"]
    n_scan_in = int(attrs["num_scan_inputs"])
    opset = int(node.attrs["onnx_opset"])
    run = _body_runner(ctx, node, "body", body, outer)
    if opset < 9:
        # Scan-8: a leading optional sequence_lens input, a batch axis 0 on every state and scan value,
        # the sequence on axis 1: run each batch row as a Scan-9 would.
        seq_lens, rest = explicit[0], explicit[1:]
        n_state = len(rest) - n_scan_in
        states, xs = rest[:n_state], rest[n_state:]
        dirs = list(attrs.get("directions") or [0] * n_scan_in)
        batch = (states + xs)[0].shape[0]
        rows = []
        for b in range(batch):
            length = None if seq_lens is None or np.asarray(seq_lens).size == 0 else int(seq_lens[b])
            x_b = [x[b] if length is None else x[b, :length] for x in xs]
            rows.append(_scan_steps(node, run, [s[b] for s in states], x_b, dirs, None, None,
                                    len(body.output) - n_state, budget))
        full = max(xs[0].shape[1], 0) if xs else 0
        out = []
        for k in range(len(rows[0])):
            parts = [r[k] for r in rows]
            if k >= n_state:  # scan outputs: pad short sequences with zeros to the full length
                parts = [np.pad(p, [(0, full - p.shape[0])] + [(0, 0)] * (p.ndim - 1)) if p.shape[0] < full else p
                         for p in parts]
            out.append(np.stack(parts))
        return out
    n_state = len(explicit) - n_scan_in
    state, xs = list(explicit[:n_state]), list(explicit[n_state:])
    in_axes = list(attrs.get("scan_input_axes") or [0] * n_scan_in)
    in_dirs = list(attrs.get("scan_input_directions") or [0] * n_scan_in)
    n_scan_out = len(body.output) - n_state
    out_axes = list(attrs.get("scan_output_axes") or [0] * n_scan_out)
    out_dirs = list(attrs.get("scan_output_directions") or [0] * n_scan_out)
    xs = [np.moveaxis(x, ax if ax >= 0 else ax + x.ndim, 0) for x, ax in zip(xs, in_axes)]
    return _scan_steps(node, run, state, xs, in_dirs, out_dirs, out_axes, n_scan_out, budget)


def _scan_steps(node, run, state, xs, in_dirs, out_dirs, out_axes, n_scan_out, budget):
    """Scan-9 semantics over ``xs`` whose sequence axis is 0: final states, then the scan outputs."""
    from ..errors import BudgetError, ShapeError

    n_state = len(state)
    out_dirs = out_dirs or [0] * n_scan_out
    out_axes = out_axes or [0] * n_scan_out
    lengths = {x.shape[0] for x in xs}
    if len(lengths) != 1:
        raise ShapeError(f"node {node.name!r} (Scan): scan inputs disagree on the sequence length {sorted(lengths)}")
    steps = lengths.pop()
    if steps > MAX_ITERATIONS:
        raise ShapeError(f"node {node.name!r} (Scan) would run {steps:,} iterations, over the limit of "
                         f"{MAX_ITERATIONS:,} (adept_core.graph.onnx_control_flow.MAX_ITERATIONS)")
    scans: list[list[np.ndarray]] = [[] for _ in range(n_scan_out)]
    scan_elements = 0
    for t in range(steps):
        step = [x[steps - 1 - t] if d else x[t] for x, d in zip(xs, in_dirs)]
        outs = run(list(state) + step)
        state = outs[:n_state]
        for acc, v in zip(scans, outs[n_state:]):
            acc.append(v)
            scan_elements += int(v.size)
        if scan_elements > budget:
            raise BudgetError(f"node {node.name!r} (Scan): its scan outputs reach {scan_elements:,} elements, over "
                             f"the budget of {budget:,}; raise it with from_onnx(..., max_elements=N)")
    stacked = []
    for acc, ax, d in zip(scans, out_axes, out_dirs):
        if not acc:
            raise ShapeError(f"node {node.name!r} (Scan): a zero-length sequence has no scan output shape")
        y = np.stack(acc[::-1] if d else acc)
        stacked.append(np.moveaxis(y, 0, ax if ax >= 0 else ax + y.ndim))
    return list(state) + stacked
