"""The ONE list of onnx backend-test cases tests/test_onnx_backend.py does not run, each with its reason.

Only features that are not DNN inference are excluded (issue 9 section 1). Patterns are regular
expressions over BackendTest names (``test_<case>_cpu``); ``re.search`` semantics.
"""

#: pattern -> reason
EXCLUDED = {
    # Needs the network: BackendTest downloads these models at run time, which adept's tests never do.
    r"^OnnxBackendRealModelTest": "downloads models from the internet at run time",
    # Training.
    r"^test_(adagrad|adam|momentum|nesterov|gradient)": "training op (optimizer / gradient)",
    r"^test_(sce|nllloss|softmax_cross_entropy)": "training loss op",
    r"training": "training mode (dropout / batch-norm statistics)",
    # Random generators.
    r"^test_(bernoulli|random)": "random generator",
    # Strings, sequences, optionals, maps.
    r"^test_(string|strnorm|regex|tfidf|equal_string)": "string tensors",
    r"STRING|_string": "string tensors",
    r"sequence|^test_sequence|_seq_|_seq$|seq_none": "sequence type",
    r"optional|^test_if_opt": "optional type",
    r"^test_loop": "Loop over sequences / optionals (not needed by the tested models)",
    r"^test_ai_onnx_ml|^test_(label_encoder|tree_ensemble|array_feature_extractor|binarizer)":
        "ai.onnx.ml domain",
    # Number formats adept does not represent (decided: issue 9 allows excluding them).
    r"FLOAT8|float8|E4M3|E5M2|e4m3|e5m2": "float8 dtypes",
    r"INT4|UINT4|int4|uint4|INT2|UINT2|int2|uint2|FLOAT4|float4": "sub-byte integer / float4 dtypes",
    r"^test_image_decoder": "image file decoding, not a DNN op",
}
