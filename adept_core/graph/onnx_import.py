"""ONNX -> Graph: read a model with the ``onnx`` package into the canonical Graph.

One forward walk over the (topologically ordered) ONNX nodes:

1. **Constants**: initializers are constants (also when old IR versions list
   them among the graph inputs). A node whose inputs are all constants, a
   ``Constant`` node, and ``Shape`` of a value whose shape is known (all shapes
   are static) is **folded**: evaluated at import time with the ``onnx``
   reference evaluator, its outputs become constants. This removes the shape
   arithmetic exporters emit (``Shape -> Gather -> Unsqueeze -> Concat ->
   Reshape``) and any weight preprocessing (``Transpose`` of an initializer).
2. **Shapes**: every other node's output shapes come from ONNX shape
   inference run on that node (``onnx.shape_inference.infer_node_outputs``)
   with its input shapes and the values of its constant inputs, so a Reshape
   whose target was computed from ``Shape`` resolves exactly. A symbolic
   dimension (dynamic batch) needs ``input_shapes``.
3. **Canonical form**: the node is rewritten by
   :mod:`adept_core.graph.onnx_normalize` into the form of
   :mod:`adept_core.graph.ops` (attributes as plain Python values, defaults
   filled, constant parameter inputs turned into attributes).

Constants that a remaining node reads become the Graph's weights (NumPy
arrays); the rest (shape tensors, axes) are dropped.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper, shape_inference

from ..errors import AdeptError, BudgetError, ShapeError, SymbolicShapeError, UnknownOpError, UnsupportedOpError
from .ir import DYNAMIC, Graph, Node
from .onnx_external import inline_external_data
from .onnx_normalize import NodeView, normalize
from .onnx_batch import batch_meta
from .onnx_deferred import deferred_graph
from .half_types import half_values
from .onnx_control_flow import CONTROL_FLOW_OPS, bind_input_values, import_control_flow
from .onnx_einsum import RunOnReference
from .onnx_more_ops import Refused, rename_deprecated
from .ops import EXPANDED_OPS, PREVIEW_OPS, RANDOM_OPS, REFERENCE_OPS, REWRITTEN_OPS, SUPPORTED_OPS, not_inference

#: Constants up to this many elements are handed to shape inference as data (shape tensors are tiny;
#: weights are not needed to infer shapes and would only be copied).
_SHAPE_DATA_MAX_ELEMENTS = 1 << 16

#: Default largest tensor (elements) an import may create or declare: 2**30 (4 GiB of float32). A model
#: file is untrusted input: a 192-byte ``ConstantOfShape([3e9])`` or an input declared with 2**40 rows
#: must fail before anything is allocated, not exhaust the machine. Raise it with
#: ``from_onnx(..., max_elements=N)`` for a genuinely larger model (recorded in ``graph.meta``; the
#: reference kernels check sizes bound at run time against it too).
MAX_ELEMENTS = 1 << 30

#: Oldest opset read: opset 7 introduced NumPy-style broadcasting, which the Graph assumes.
_MIN_OPSET = 7


def from_onnx(model, input_shapes: dict | None = None, name: str | None = None, *,
              external_data_dir: str | os.PathLike | None = None, max_elements: int = MAX_ELEMENTS,
              batch_axes: dict | None = None, input_values: dict | None = None) -> Graph:
    """Import an ONNX model as a :class:`~adept_core.graph.ir.Graph`.

    Parameters
    ----------
    model : str, os.PathLike, bytes or onnx.ModelProto
        A path to an ``.onnx`` file, its bytes, or a loaded model.
    input_shapes : dict, optional
        Graph input name -> shape, overriding the model's declared shape
        (required for inputs with symbolic dimensions such as a dynamic batch).
    name : str, optional
        Graph name (default: the file stem, else the ONNX graph name).
    external_data_dir : str or os.PathLike, optional
        The directory external tensor data is read from (default: the model
        file's folder). Required when ``model`` is bytes or a ModelProto whose
        tensors keep their data in side files; see
        :mod:`adept_core.graph.onnx_external` for what is refused.
    max_elements : int
        Element budget of any one tensor the model declares, folds or materialises
        (default :data:`MAX_ELEMENTS`); checked before allocating.
    batch_axes : dict, optional
        Value name -> the axis holding the batch, for inputs and outputs whose
        batch is not on axis 0 or not declared symbolic; sets ``meta["batch"]``
        (inferences per run, what the cost model divides by) and
        ``meta["batch_axes"]`` (see :mod:`adept_core.graph.onnx_batch`).
    input_values : dict, optional
        Graph input name -> NumPy array bound at import ("bind time"): the input becomes a constant
        (and is no longer a graph input), so what is computed from it folds - e.g. an ``If`` on a
        sample-rate input is inlined with its taken branch (see :mod:`adept_core.graph.onnx_control_flow`).

    Raises
    ------
    AdeptError
        The file is missing, not ONNX, truncated or fails the ONNX checker, or
        its external data is outside the external data directory, not named,
        or shorter than declared.
    UnsupportedOpError
        A node's op is outside :data:`~adept_core.graph.ops.SUPPORTED_OPS` (and
        cannot be folded), or uses a feature the Graph does not represent.
    ShapeError
        A shape cannot be determined statically.
    """
    proto, source = _load(model, external_data_dir)
    proto = _upgrade(proto)
    opset = _default_opset(proto)
    graph_name = name or (Path(source).stem if source else proto.graph.name) or "onnx_model"
    if isinstance(max_elements, bool) or not isinstance(max_elements, int) or max_elements < 1:
        raise ShapeError(f"max_elements must be a positive integer, got {max_elements!r}")
    importer = _Importer(proto, opset, input_shapes or {}, max_elements, input_values or {})  # bad arguments raise
    try:
        graph = importer.run(graph_name, source, batch_axes)
    except (ShapeError, UnsupportedOpError) as exc:  # the walk: maybe cured by binding input values
        graph = deferred_graph(proto, graph_name, source, input_shapes or {}, input_values or {}, exc)
        if graph is None:
            raise
    # Shapes (and, for a deferred graph, the values of its shape / structure inputs) bound when the
    # inputs are known: the prepared model re-imports at the inputs' own shapes and those values.
    graph.rebind = lambda shapes, values=None: from_onnx(
        proto, shapes, graph_name, external_data_dir=external_data_dir or (os.path.dirname(source) if source else None),
        max_elements=max_elements, batch_axes=batch_axes, input_values={**(input_values or {}), **(values or {})})
    return graph


def _load(model, external_data_dir=None) -> tuple[onnx.ModelProto, str | None]:
    source = None
    base_dir = external_data_dir
    try:
        if isinstance(model, onnx.ModelProto):
            proto = model
        elif isinstance(model, (bytes, bytearray)):
            proto = onnx.load_from_string(bytes(model))
        elif isinstance(model, (str, os.PathLike)):
            source = os.fspath(model)
            if not os.path.isfile(source):
                raise AdeptError(f"ONNX file {source!r} does not exist")
            proto = onnx.load(source, load_external_data=False)
            base_dir = os.path.dirname(os.path.abspath(source)) if base_dir is None else base_dir
        else:
            raise AdeptError(f"from_onnx expects a path, bytes or onnx.ModelProto, got {type(model).__name__}")
        # Before the checker, which would resolve external paths against the working directory.
        proto = inline_external_data(proto, base_dir, repr(source or "model"))
        onnx.checker.check_model(proto)
    except AdeptError:
        raise
    except Exception as exc:  # protobuf DecodeError, ValidationError, OSError: all mean "not a usable model"
        what = source or "model"
        raise AdeptError(f"{what!r} is not a valid ONNX model ({type(exc).__name__}: {_first_line(exc)})") from exc
    if not proto.graph.node:
        raise AdeptError(f"{source or 'model'!r} is not a valid ONNX model: its graph has no nodes")
    return proto, source


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else "no message"


def _upgrade(proto: onnx.ModelProto) -> onnx.ModelProto:
    """A model older than opset 7 converted by onnx's own version converter (NumPy broadcasting, which
    the Graph assumes, starts at opset 7); refused when the converter cannot convert it."""
    version = next((int(e.version) for e in proto.opset_import if e.domain in ("", "ai.onnx")), None)
    if version is None or version >= _MIN_OPSET:
        return proto
    from onnx import version_converter

    try:
        return version_converter.convert_version(proto, _MIN_OPSET)
    except Exception as exc:
        raise UnsupportedOpError(
            f"the model uses ONNX opset {version}; adept reads opset {_MIN_OPSET} and newer (older broadcasting "
            f"rules differ) and onnx's version converter could not upgrade it ({_first_line(exc)})") from exc


def _default_opset(proto: onnx.ModelProto) -> int:
    for entry in proto.opset_import:
        if entry.domain in ("", "ai.onnx"):
            if entry.version < _MIN_OPSET:
                raise UnsupportedOpError(
                    f"the model uses ONNX opset {entry.version}; adept reads opset {_MIN_OPSET} and newer "
                    "(older broadcasting rules differ); upgrade it with onnx.version_converter.convert_version")
            return int(entry.version)
    raise AdeptError("the model imports no version of the default ONNX operator set")


class _Importer:
    def __init__(self, proto: onnx.ModelProto, opset: int, input_shapes: dict, max_elements: int = MAX_ELEMENTS,
                 input_values: dict | None = None):
        self.proto = proto
        self.max_elements = max_elements
        self.opset = opset
        self.opset_imports = [helper.make_opsetid("", opset)]
        #: Version of every imported domain (the default one as "").
        self.domain_opsets = {("" if e.domain == "ai.onnx" else e.domain): int(e.version) for e in proto.opset_import}
        self.consts: dict[str, np.ndarray] = {}
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.elem_types: dict[str, int] = {}
        self.nodes = []
        self.folded = 0
        self._read_initializers()
        bind_input_values(self, input_values or {})
        self.inputs, self.input_dtypes = self._read_inputs(input_shapes)

    # -- setup --------------------------------------------------------------------------------
    def _read_initializers(self) -> None:
        for init in self.proto.graph.initializer:
            self._check_budget(tuple(init.dims), f"initializer {init.name!r}")
            self._set_const(init.name, numpy_helper.to_array(init))
        for sparse in self.proto.graph.sparse_initializer:
            self._check_budget(tuple(sparse.dims), f"sparse initializer {sparse.values.name!r}")
            self._set_const(sparse.values.name, numpy_helper.to_array(numpy_helper.to_dense(sparse)))  # rare

    def _check_budget(self, shape, what: str) -> None:
        """Refuse a tensor larger than the element budget before anything allocates it."""
        if shape is None:
            return
        count = math.prod(int(d) for d in shape if d != DYNAMIC)
        if count > self.max_elements:
            raise BudgetError(
                f"{what} has shape {tuple(int(d) for d in shape)} = {count:,} elements, over the import budget "
                f"of {self.max_elements:,} elements per tensor (a guard against model files that would exhaust "
                "memory); raise it with from_onnx(..., max_elements=N) if the model is genuine")

    def _read_inputs(self, overrides: dict):
        inputs, dtypes = {}, {}
        real = [i for i in self.proto.graph.input if i.name not in self.consts]
        unknown = sorted(set(overrides) - {i.name for i in real})
        if unknown:
            raise ShapeError(f"input_shapes names {unknown}, but the model's inputs are {[i.name for i in real]}")
        for value in real:
            tensor = value.type.tensor_type
            if not value.type.HasField("tensor_type"):
                raise UnsupportedOpError(f"graph input {value.name!r} is not a tensor")
            if value.name in overrides:
                shape = tuple(int(d) for d in overrides[value.name])
            else:
                shape = self._static_dims(tensor.shape, f"graph input {value.name!r}",
                                          "pass input_shapes={name: shape} to from_onnx")
            if any(d < 0 for d in shape):
                raise ShapeError(f"graph input {value.name!r} has shape {shape}; dimensions must be >= 0")
            self._check_budget(shape, f"graph input {value.name!r}")
            inputs[value.name] = shape
            try:
                dtypes[value.name] = np.dtype(helper.tensor_dtype_to_np_dtype(tensor.elem_type)).name
            except (KeyError, TypeError, ValueError):
                raise UnsupportedOpError(f"graph input {value.name!r} has element type {tensor.elem_type}, "
                                         "which has no NumPy dtype") from None
            self.shapes[value.name] = shape
            self.elem_types[value.name] = tensor.elem_type
        return inputs, dtypes

    @staticmethod
    def _static_dims(shape_proto, what: str, hint: str) -> tuple[int, ...]:
        dims = []
        for i, dim in enumerate(shape_proto.dim):
            if not dim.HasField("dim_value"):
                label = dim.dim_param or "unknown"
                raise SymbolicShapeError(f"{what} has a symbolic dimension {i} ({label!r}); {hint}")
            dims.append(int(dim.dim_value))
        return tuple(dims)

    def _set_const(self, name: str, value: np.ndarray) -> None:
        value = np.asarray(value)
        self.consts[name] = value
        self.shapes[name] = tuple(int(d) for d in value.shape)
        self.elem_types[name] = helper.np_dtype_to_tensor_dtype(value.dtype)

    # -- the walk -----------------------------------------------------------------------------
    def run(self, graph_name: str, source: str | None, batch_axes: dict | None = None) -> Graph:
        seen = set()
        for index, node in enumerate(self.proto.graph.node):
            # Node names seed the executor's noise: they must exist and be unique.
            name = node.name or f"{node.op_type}_{index}"
            name = f"{name}_{index}" if name in seen else name
            seen.add(name)
            self._import_node(node, name)
        outputs = [o.name for o in self.proto.graph.output]
        used = {name for node in self.nodes for name in node.inputs} | set(outputs)
        weights = {name: value for name, value in self.consts.items() if name in used}
        shapes = {name: shape for name, shape in self.shapes.items()
                  if name not in self.consts or name in weights}
        meta = {
            "source": source or "onnx.ModelProto",
            "opset": self.opset,
            "producer": f"{self.proto.producer_name} {self.proto.producer_version}".strip(),
            "folded_nodes": self.folded,
            "max_elements": self.max_elements,
            "inputs": {name: f"{self.input_dtypes[name]} {list(shape)}" for name, shape in self.inputs.items()},
            # Values the model types float16 / bfloat16: the executor keeps them in that type node by
            # node, as a half-precision ASIC stores them (adept_core/graph/half_types.py).
            "half_values": half_values(self.nodes, self.elem_types),
            "output_dtypes": {name: np.dtype(helper.tensor_dtype_to_np_dtype(self.elem_types[name])).name
                              for name in outputs if self.elem_types.get(name)},
            **batch_meta(self.proto, self.inputs, self.shapes, outputs, batch_axes),
        }
        graph = Graph(graph_name, self.inputs, outputs, self.nodes, weights, shapes, self.input_dtypes, meta)
        graph.validate()
        return graph

    def _import_node(self, node: onnx.NodeProto, name: str) -> None:
        if node.domain not in ("", "ai.onnx") and (node.domain, node.op_type) not in PREVIEW_OPS:
            raise self._unsupported(node, name, f"custom domain {node.domain!r}", UnknownOpError)
        for value in node.input:
            if value and value not in self.shapes:
                raise ShapeError(f"node {name!r} ({node.op_type}) reads {value!r}, which has no known shape "
                                 "(produced by an unsupported output or never defined)")
        if node.op_type in CONTROL_FLOW_OPS:  # before folding: a body may read outer run-time values
            import_control_flow(self, node, name)
            return
        if node.op_type in RANDOM_OPS:  # before folding: a folded RandomNormal is a different constant per import
            raise self._unsupported(node, name, not_inference(node.op_type), UnknownOpError)
        if self._foldable(node):
            self._fold(node, name)
            return
        if node.op_type in EXPANDED_OPS:
            self._import_function_body(node, name)
            return
        successor = rename_deprecated(node.op_type, self.opset)
        if successor is not None:  # a deprecated op run as its successor's kernel (Scatter -> ScatterElements)
            self._infer(node, name, dynamic_ok=True)  # with the deprecated op's own schema
            ref = self._reference_node(node, name)
            self.nodes.append(Node(ref.name, successor[0], ref.inputs, ref.outputs,
                                   {**ref.attrs, "onnx_opset": successor[1]}))
            return
        canonical = node.op_type in SUPPORTED_OPS or node.op_type in REWRITTEN_OPS
        if not canonical and node.op_type not in REFERENCE_OPS:
            raise self._unsupported(node, name, not_inference(node.op_type), UnknownOpError)
        dynamic_in = [i for i in node.input if i and _is_dynamic(self.shapes[i])]
        if dynamic_in and node.op_type not in REFERENCE_OPS:
            raise ShapeError(f"node {name!r} ({node.op_type}) reads {dynamic_in[0]!r}, whose shape depends on "
                             "input data; only ops on the ASIC's reference kernels accept such values")
        out_shapes = self._infer(node, name, dynamic_ok=node.op_type in REFERENCE_OPS)
        if (not canonical or dynamic_in or any(_is_dynamic(o) for o, out in zip(out_shapes, node.output) if out)
                or (node.op_type in REFERENCE_OPS and self._float64(node))):
            self.nodes.append(self._reference_node(node, name))
            return
        view = NodeView(
            name=name, op=node.op_type, opset=self.opset, inputs=list(node.input), outputs=list(node.output),
            attrs=_attributes(node), in_shapes=[self.shapes.get(i) for i in node.input],
            out_shapes=out_shapes, consts=[self.consts.get(i) for i in node.input],
            new_value=lambda suffix, shape: self._new_value(name, suffix, shape),
            new_const=lambda suffix, value: self._new_const(name, suffix, value),
            out_elem_types=[self.elem_types.get(o, 0) if o else 0 for o in node.output],
            in_elem_types=[self.elem_types.get(i, 0) if i else 0 for i in node.input],
        )
        try:
            self.nodes.extend(normalize(view))
        except UnsupportedOpError as exc:
            # The canonical form cannot express this use (run-time Clip bounds, a 1-D pool, MaxPool
            # indices, a one-operand Einsum, ...): an op without a weight product then runs on its
            # reference kernel.
            if isinstance(exc, Refused) or (node.op_type not in REFERENCE_OPS and not isinstance(exc, RunOnReference)):
                raise
            self.nodes.append(self._reference_node(node, name))

    def _float64(self, node: onnx.NodeProto) -> bool:
        """True when the node reads or writes a float64 tensor.

        Decided (docs/executor.md, "float64"): the ASIC's widest format is float32, so a float64 op
        without a weight product runs on its ONNX reference kernel in float64 and returns float64,
        exactly as ONNX defines it (as Cast to the types the ASIC lacks does); it is not an emulation
        of ASIC arithmetic, and the graph says so by being a reference node. The photonic GEMMs take
        float64 operands at their DACs as float32 (far finer than the DACs' resolution) and hand the
        result back as float64.
        """
        return any(v and self.elem_types.get(v) == onnx.TensorProto.DOUBLE
                   for v in list(node.input) + list(node.output))

    def _import_function_body(self, node: onnx.NodeProto, name: str) -> None:
        """Import ``node`` as the nodes of its ONNX function body (its MatMuls then reach the photonic core)."""
        domain = "" if node.domain == "ai.onnx" else node.domain
        version = self.domain_opsets.get(domain, self.opset)
        types = [helper.make_tensor_type_proto(self.elem_types[i], self.shapes[i]).SerializeToString() if i
                 else onnx.TypeProto().SerializeToString() for i in node.input]
        try:
            schema = onnx.defs.get_schema(node.op_type, version, domain)
            body = onnx.FunctionProto.FromString(schema.get_context_dependent_function_with_opset_version(
                version, node.SerializeToString(), types))
        except Exception as exc:
            raise self._unsupported(node, name, f"its function body could not be built ({_first_line(exc)})") from exc
        rename = dict(zip(body.input, list(node.input) + [""] * (len(body.input) - len(node.input))))
        rename.update(zip(body.output, node.output))
        for index, inner in enumerate(body.node):
            copy = onnx.NodeProto()
            copy.CopyFrom(inner)
            for field in (copy.input, copy.output):
                for j, value in enumerate(field):
                    if value:
                        field[j] = rename.setdefault(value, f"{name}/{value}")
            self._import_node(copy, f"{name}/{inner.name or inner.op_type}_{index}")

    def _reference_node(self, node: onnx.NodeProto, name: str) -> Node:
        """A Graph node run by the ONNX reference kernel of this opset (:mod:`adept_core.asic.reference`)."""
        dtypes = [np.dtype(helper.tensor_dtype_to_np_dtype(self.elem_types[o])).name if o else ""
                  for o in node.output]
        attrs = {**_attributes(node), "onnx_opset": self.opset, "onnx_out_dtypes": dtypes}
        inputs = list(node.input)
        while inputs and not inputs[-1]:
            inputs.pop()
        return Node(name, node.op_type, tuple(inputs), tuple(node.output), attrs)

    def _foldable(self, node: onnx.NodeProto) -> bool:
        if node.op_type in ("Shape", "Size"):
            return not _is_dynamic(self.shapes[node.input[0]])  # known at import unless bound at run time
        return all(not i or i in self.consts for i in node.input)

    def _fold(self, node: onnx.NodeProto, name: str) -> None:
        if node.op_type == "Shape":
            shape = np.asarray(self.shapes[node.input[0]], dtype=np.int64)
            attrs = _attributes(node)
            start, end = attrs.get("start", 0), attrs.get("end", len(shape))
            self._set_const(node.output[0], shape[start:end])
        elif node.op_type == "Size":  # like Shape: known from the bound shape (an If on it then folds)
            self._set_const(node.output[0], np.asarray(math.prod(self.shapes[node.input[0]]), dtype=np.int64))
        else:
            # Shapes first, so a fold that would create a huge tensor (ConstantOfShape [3e9]) fails here.
            try:
                self._infer(node, name, dynamic_ok=True)
            except ShapeError:
                # Shape inference is stricter than the op's kernels: a Range whose bounds are 1-element
                # 1-D tensors (AffineGrid's function body Splits them from 'size') is refused by it but
                # computed by the reference (and onnxruntime). With every input known, the output's size
                # is computed from the values and checked against the budget instead.
                from ..asic.reference import _runtime_elements

                count = _runtime_elements(node.op_type, [self.consts[i] for i in node.input if i])
                if count is None:
                    raise
                self._check_budget((count,), f"node {name!r} ({node.op_type}), folded,")
            values = self._evaluate(node, name)
            for out, value in zip([o for o in node.output if o], values):  # the evaluator skips unused outputs
                self._set_const(out, value)
        self.folded += 1

    def _evaluate(self, node: onnx.NodeProto, name: str) -> list[np.ndarray]:
        from ..asic.reference import evaluator_for

        feeds = {i: self.consts[i] for i in node.input if i}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the reference runtime warns about its own internals
                evaluator = evaluator_for(node, feeds, self.opset)  # the kernel of the model's own opset
                return [np.asarray(v) for v in evaluator.run(None, feeds)]
        except Exception as exc:
            if node.op_type not in SUPPORTED_OPS:
                raise self._unsupported(node, name, f"constant folding failed: {_first_line(exc)}") from exc
            raise AdeptError(f"node {name!r} ({node.op_type}): constant folding failed: {_first_line(exc)}") from exc

    def _infer(self, node: onnx.NodeProto, name: str, dynamic_ok: bool = False) -> list:
        """Output shapes by ONNX shape inference; with ``dynamic_ok``, unknown sizes become
        :data:`~adept_core.graph.ir.DYNAMIC` (an unknown rank: ``None``), bound when the node runs."""
        types, data = {}, {}
        for value in node.input:
            if not value:
                continue
            shape = self.shapes[value]
            types[value] = (helper.make_tensor_type_proto(self.elem_types[value], None) if shape is None else
                            helper.make_tensor_type_proto(self.elem_types[value],
                                                          [d if d != DYNAMIC else None for d in shape]))
            const = self.consts.get(value)
            if const is not None and const.size <= _SHAPE_DATA_MAX_ELEMENTS:
                data[value] = numpy_helper.from_array(const, value)
        try:
            schema = onnx.defs.get_schema(node.op_type, self.opset, "")
            inferred = shape_inference.infer_node_outputs(schema, node, types, data, opset_imports=self.opset_imports)
        except Exception as exc:
            raise ShapeError(f"node {name!r} ({node.op_type}): ONNX shape inference failed: {_first_line(exc)}") from exc
        shapes = []
        for out in node.output:
            if not out:
                shapes.append(None)
                continue
            if out not in inferred or not inferred[out].tensor_type.HasField("shape"):
                if not dynamic_ok or out not in inferred:
                    raise ShapeError(f"node {name!r} ({node.op_type}): ONNX shape inference gave no shape "
                                     f"for {out!r}")
                self.shapes[out] = None
                self.elem_types[out] = inferred[out].tensor_type.elem_type
                shapes.append(None)
                continue
            tensor = inferred[out].tensor_type
            if dynamic_ok:
                shape = tuple(int(d.dim_value) if d.HasField("dim_value") else DYNAMIC for d in tensor.shape.dim)
            else:
                shape = self._static_dims(tensor.shape, f"output {out!r} of node {name!r} ({node.op_type})",
                                          "its shape depends on input data, which a static Graph cannot represent")
            self._check_budget(shape, f"output {out!r} of node {name!r} ({node.op_type})")
            self.shapes[out] = shape
            self.elem_types[out] = tensor.elem_type
            shapes.append(shape)
        return shapes

    def _new_value(self, node_name: str, suffix: str, shape: tuple[int, ...]) -> str:
        value = f"{node_name}/{suffix}"
        while value in self.shapes:
            value += "_"
        self.shapes[value] = tuple(shape)
        return value

    def _new_const(self, node_name: str, suffix: str, value: np.ndarray) -> str:
        name = self._new_value(node_name, suffix, value.shape)
        self._set_const(name, value)
        return name

    def _unsupported(self, node: onnx.NodeProto, name: str, why: str,
                     error: type[UnsupportedOpError] = UnsupportedOpError) -> UnsupportedOpError:
        detail = f" ({why})" if why else ""
        return error(
            f"node {name!r} has op type {node.op_type!r} (domain {node.domain or 'ai.onnx'!r}, opset {self.opset}), which adept "
            f"does not support{detail}. "
            f"Supported ops: {', '.join(sorted(SUPPORTED_OPS))} (and {', '.join(sorted(REWRITTEN_OPS))}, rewritten; "
            f"{', '.join(sorted(REFERENCE_OPS - SUPPORTED_OPS))} on the ASIC's reference kernels); "
            "any op whose inputs are all constants is folded at import.")


def _is_dynamic(shape) -> bool:
    return shape is None or DYNAMIC in shape


def _attributes(node: onnx.NodeProto) -> dict:
    """Attributes as plain Python values (str, int, float, lists of them, NumPy arrays)."""
    out = {}
    for attr in node.attribute:
        value = helper.get_attribute_value(attr)
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        elif isinstance(value, onnx.TensorProto):
            value = numpy_helper.to_array(value)
        elif isinstance(value, (list, tuple)):
            value = [v.decode("utf-8") if isinstance(v, bytes) else v for v in value]
        out[attr.name] = value
    return out
