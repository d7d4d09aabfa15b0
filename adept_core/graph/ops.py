"""The operator set of the Graph and the canonical form every producer emits.

Producers (the zoo, :func:`adept_core.graph.onnx_import.from_onnx`, hand-built
graphs) and consumers (executor, scheduler) agree on this module. Ops keep
ONNX names and ONNX (opset 17+) semantics, with one simplification: every
parameter that ONNX passes as a *constant input* but that only steers the op
(axes, split sizes, Reshape/Expand targets, Slice bounds, Pad widths, Clip
bounds) is an **attribute holding plain Python values**, and every attribute
of :data:`CANONICAL_ATTRS` is present with its ONNX default filled in. So a
consumer never reads an int64 tensor to learn an axis, and never needs to know
which opset a model came from.

Canonical attributes and inputs (``[x]`` = optional input, may be ``""``):

=====================  ====================================================================
``Conv``               X, W, [B]; 2-D only; ``pads`` = [top, left, bottom, right] (auto_pad resolved)
``MaxPool``            X; 2-D; ``ceil_mode`` 0/1; ``pads`` as Conv
``AveragePool``        X; 2-D; ``count_include_pad`` 0/1
``Gemm``               A, B, [C]; ``alpha``, ``beta`` (float), ``transA``, ``transB`` (0/1)
``LSTM``, ``GRU``      X, W, R, [B], [sequence_lens], [initial_h], ([initial_c], [P] for LSTM);
                       ``layout`` is always 0 ([seq, batch, input]); default activations only;
                       GRU has ``linear_before_reset``; ``direction`` forward/reverse/bidirectional
``Clip``               X; ``min``, ``max`` floats (``-inf``/``inf`` when unbounded)
``Gelu``               ``approximate`` "none" (erf form) or "tanh"
``Softmax``            ``axis``: opset-13 semantics (one axis), non-negative
``LayerNormalization`` X, Scale, [B]; ``axis`` non-negative, ``epsilon``
``BatchNormalization`` X, scale, B, mean, var; ``epsilon``; inference mode only
``Reshape``            X; ``shape``: the exact output shape (no 0 or -1 left)
``Expand``             X; ``shape``: the exact output shape
``Slice``              X; ``starts``, ``ends``, ``axes`` (non-negative), ``steps``: lists, clamped
                       so that NumPy's ``x[start:end:step]`` is exactly the ONNX slice: within
                       ``[0, dim]``, except that with a negative step an end of ``-dim-1`` means
                       "through index 0"
``Pad``                X; ``pads`` (2 x rank, ONNX order), ``mode``, ``value`` (float)
``Squeeze``,           X; ``axes`` list, non-negative (of the input for Squeeze, of the output for
``Unsqueeze``          Unsqueeze)
``Split``              X; ``axis`` non-negative, ``split`` list of sizes
``ReduceMean``         X; ``axes`` list, non-negative; ``keepdims`` 0/1
``Cast``               X; ``to``: NumPy dtype name (``"float32"``, ``"int64"``, ...)
``Concat``, ``Gather``, ``axis`` non-negative
``Flatten``
``Transpose``          ``perm`` list
=====================  ====================================================================

Ops without attributes: ``MatMul``, ``Relu``, ``Erf``, ``Pow``, ``Sqrt``,
``Sigmoid``, ``Tanh``, ``Add``, ``Sub``, ``Mul``, ``Div``, ``Where``,
``GlobalAveragePool``, ``Identity`` (inputs exactly as ONNX, with broadcasting).
"""

from __future__ import annotations

#: Every op :func:`~adept_core.graph.onnx_import.from_onnx` accepts. The executor implements
#: ``SUPPORTED_OPS - FOLDED_OPS`` (see :data:`GRAPH_OPS`).
SUPPORTED_OPS = frozenset({
    "Conv", "Gemm", "MatMul", "LSTM", "GRU", "RNN",
    "Relu", "Clip", "Gelu", "Erf", "Pow", "Sqrt", "Sigmoid", "Tanh",
    "Softmax", "LayerNormalization", "BatchNormalization",
    "Add", "Sub", "Mul", "Div", "Where",
    "MaxPool", "AveragePool", "GlobalAveragePool",
    "Reshape", "Transpose", "Concat", "Slice", "Gather", "Pad", "Flatten", "Squeeze", "Unsqueeze", "Split",
    "Cast", "ReduceMean", "Expand", "Identity",
    "Constant", "Shape", "ConstantOfShape",
})

#: Ops whose outputs are known at import time (shapes are static): they become weights and never
#: appear in a Graph. (Any other op whose inputs are all constants is folded too.)
FOLDED_OPS = frozenset({"Constant", "Shape", "ConstantOfShape"})

#: Ops that may appear in a Graph built by the zoo or by ``from_onnx``: what the executor runs.
GRAPH_OPS = SUPPORTED_OPS - FOLDED_OPS

#: Ops ``from_onnx`` also accepts by rewriting them into :data:`GRAPH_OPS`.
REWRITTEN_OPS = {"Sum": "a chain of Add", "Dropout": "Identity (inference)",
                 "ConvTranspose": "a stride-1 Conv on the zero-stuffed input",
                 "DeformConv": "bilinear sampling on the ASIC (DeformSample) and a 1x1 grouped Conv (photonic)",
                 "Einsum": "one MatMul between Transposes/Reshapes (one operand: reference kernel)",
                 **{op: "a MatMul / Conv of the zero-point-centred integers (requantised on the ASIC)"
                    for op in ("MatMulInteger", "ConvInteger", "QLinearMatMul", "QLinearConv")}}

#: Ops imported as the nodes of their ONNX function body: Attention's Q K^T and P V become MatMuls of two
#: activations (photonic, re-programmed per call), its scaling, masking and softmax ASIC ops.
EXPANDED_OPS = frozenset({"Attention", "CausalConvWithState", "FlexAttention"})

#: Ops of a non-default domain adept imports: (domain, op). FlexAttention's function body (its ``score_mod``
#: / ``prob_mod`` graphs inlined) is default-domain ops, its two products MatMuls (photonic).
PREVIEW_OPS = frozenset({("ai.onnx.preview", "FlexAttention")})

#: Attributes present on every node of these ops (defaults filled in).
CANONICAL_ATTRS = {
    "Conv": ("kernel_shape", "strides", "pads", "dilations", "group"),
    "MaxPool": ("kernel_shape", "strides", "pads", "dilations", "ceil_mode"),
    "AveragePool": ("kernel_shape", "strides", "pads", "ceil_mode", "count_include_pad"),
    "Gemm": ("alpha", "beta", "transA", "transB"),
    "LSTM": ("hidden_size", "direction", "layout"),
    "GRU": ("hidden_size", "direction", "layout", "linear_before_reset"),
    "RNN": ("hidden_size", "direction", "layout"),
    "Clip": ("min", "max"),
    "Gelu": ("approximate",),
    "Softmax": ("axis",),
    "LayerNormalization": ("axis", "epsilon"),
    "BatchNormalization": ("epsilon",),
    "Reshape": ("shape",),
    "Expand": ("shape",),
    "Slice": ("starts", "ends", "axes", "steps"),
    "Pad": ("pads", "mode", "value"),
    "Squeeze": ("axes",),
    "Unsqueeze": ("axes",),
    "Split": ("axis", "split"),
    "ReduceMean": ("axes", "keepdims"),
    "Cast": ("to",),
    "Concat": ("axis",),
    "Gather": ("axis",),
    "Flatten": ("axis",),
    "Transpose": ("perm",),
}

#: Inference ops ``from_onnx`` accepts beyond :data:`SUPPORTED_OPS` (or, for a supported op, when its
#: canonical rewrite does not apply, e.g. Clip bounds computed at run time). Their Graph nodes keep the
#: ONNX attributes and carry ``onnx_opset`` / ``onnx_out_dtypes``; they run on the ASIC through the
#: ONNX reference kernels (:mod:`adept_core.asic.reference`). None of them has a weight product
#: (photonic ops stay in :data:`SUPPORTED_OPS`); see docs/executor.md for the unit table.
REFERENCE_OPS = frozenset("""
Abs Acos Acosh Add And Asin Asinh Atan Atanh BitShift BitwiseAnd BitwiseNot BitwiseOr BitwiseXor Ceil Celu Clip
Cos Cosh Div Elu Equal Erf Exp Floor Gelu Greater GreaterOrEqual HardSigmoid HardSwish Hardmax Identity IsInf
IsNaN LeakyRelu Less LessOrEqual Log LogSoftmax Max Mean Min Mish Mod Mul Neg Not Or Pow PRelu Reciprocal Relu
Round Selu Shrink Sigmoid Sign Sin Sinh Softmax Softplus Softsign Sqrt Sub Sum Tan Tanh ThresholdedRelu Where Xor
ArgMax ArgMin ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax ReduceMean ReduceMin ReduceProd ReduceSum
ReduceSumSquare CumSum TopK AveragePool MaxPool GlobalAveragePool GlobalMaxPool LpPool
MaxUnpool RoiAlign BatchNormalization InstanceNormalization GroupNormalization LayerNormalization LpNormalization
RMSNormalization MeanVarianceNormalization LRN DepthToSpace SpaceToDepth Dropout Flatten Resize Upsample
QuantizeLinear DequantizeLinear DynamicQuantizeLinear RotaryEmbedding Cast CastLike Concat ConstantOfShape Expand
EyeLike Gather GatherElements GatherND NonZero OneHot Pad Range Reshape ScatterElements ScatterND Shape Size
Slice Split Squeeze Tile Transpose Trilu Unsqueeze Compress ReverseSequence Unique Det Col2Im CenterCropPad
GridSample AffineGrid Swish NonMaxSuppression BlackmanWindow HammingWindow HannWindow DFT STFT
MelWeightMatrix CumProd SwiGLU TensorScatter BitCast NegativeLogLikelihoodLoss SoftmaxCrossEntropyLoss LinearAttention
""".split())

#: Random generators: refused everywhere, folded constants and control-flow bodies included (other numbers on
#: every run or import would break the emulator's determinism).
RANDOM_OPS = frozenset({"Bernoulli", "RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike",
                        "Multinomial"})

#: Default-domain ops adept does not run because they are not DNN inference: op -> the feature they need.
EXCLUDED_OPS = {
    **{op: "a random generator" for op in sorted(RANDOM_OPS)},
    # The two loss ops are not here: scoring a prediction against labels is an inference-time
    # computation too (gathers and reductions, on the ASIC).
    **{op: "training" for op in ("Gradient", "Adagrad", "Adam", "Momentum")},
    **{op: "string tensors" for op in ("StringNormalizer", "StringConcat", "StringSplit", "RegexFullMatch",
                                       "TfIdfVectorizer")},
    **{op: "the sequence type" for op in ("SequenceAt", "SequenceConstruct", "SequenceEmpty", "SequenceErase",
                                          "SequenceInsert", "SequenceLength", "SequenceMap", "SplitToSequence",
                                          "ConcatFromSequence")},
    **{op: "the optional type" for op in ("Optional", "OptionalGetElement", "OptionalHasElement")},
    "ImageDecoder": "image file decoding",
}


def not_inference(op: str) -> str:
    """Why an op of :data:`EXCLUDED_OPS` is refused, as import errors say it ("" for other ops)."""
    feature = EXCLUDED_OPS.get(op)
    return f"it needs {feature}, which is not DNN inference" if feature else ""
