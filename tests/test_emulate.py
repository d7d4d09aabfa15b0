"""The executor: determinism, ADC policies, batching, BN folding, lowering agreement, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from adept_core.emulate import fold_batchnorm, prepare, stable_key
from adept_core.emulate.inputs import synthetic_inputs
from adept_core.errors import ConfigError, ShapeError, UnsupportedOpError
from adept_core.graph.ir import Graph, LazyWeight, Node
from adept_core.kernels import NoiseSpec, PhotonicCore, PhotonicGemmSpec

NOISY = PhotonicGemmSpec(rows=16, cols=16, noise=NoiseSpec(sigma_const=20.0, shot_coeff=1.0, rin_coeff=1e-3))
QUIET = PhotonicGemmSpec(rows=16, cols=16)


def small_cnn(batch: int = 2) -> Graph:
    """conv-bn-relu-maxpool, grouped conv, depthwise conv, GAP, Gemm, Softmax; lazy + concrete weights."""
    rng = np.random.default_rng(0)
    b = batch
    nodes = [
        Node("c1", "Conv", ("x", "w1", "b1"), ("a1",),
             {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "strides": [2, 2]}),
        Node("bn", "BatchNormalization", ("a1", "s", "bb", "m", "v"), ("a2",), {"epsilon": 1e-5}),
        Node("r", "Relu", ("a2",), ("a3",)),
        Node("mp", "MaxPool", ("a3",), ("a4",), {"kernel_shape": [2, 2], "strides": [2, 2]}),
        Node("c2", "Conv", ("a4", "w2"), ("a5",), {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "group": 2}),
        Node("dw", "Conv", ("a5", "w3"), ("a6",), {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "group": 8}),
        Node("gap", "GlobalAveragePool", ("a6",), ("a7",)),
        Node("fl", "Flatten", ("a7",), ("a8",), {"axis": 1}),
        Node("fc", "Gemm", ("a8", "wf", "bf"), ("a9",), {"transB": 1}),
        Node("sm", "Softmax", ("a9",), ("y",), {"axis": 1}),
    ]
    weights = {
        "w1": rng.standard_normal((8, 3, 3, 3)).astype(np.float32), "b1": np.zeros(8, np.float32),
        "s": np.full(8, 1.5, np.float32), "bb": np.full(8, 0.1, np.float32), "m": np.full(8, 0.2, np.float32),
        "v": np.full(8, 2.0, np.float32), "w2": LazyWeight((8, 4, 3, 3), fan_in=36),
        "w3": LazyWeight((8, 1, 3, 3), fan_in=9, seed=3), "wf": LazyWeight((10, 8), fan_in=8, seed=5),
        "bf": np.zeros(10, np.float32),
    }
    shapes = {"x": (b, 3, 16, 16), "a1": (b, 8, 8, 8), "a2": (b, 8, 8, 8), "a3": (b, 8, 8, 8), "a4": (b, 8, 4, 4),
              "a5": (b, 8, 4, 4), "a6": (b, 8, 4, 4), "a7": (b, 8, 1, 1), "a8": (b, 8), "a9": (b, 10), "y": (b, 10)}
    shapes.update({k: (v.shape if isinstance(v, LazyWeight) else v.shape) for k, v in weights.items()})
    return Graph("small_cnn", {"x": (b, 3, 16, 16)}, ["y", "a9"], nodes, weights, shapes, meta={"batch": b})


def attention(batch: int = 1, seq: int = 6, d: int = 8) -> Graph:
    """Q K^T / softmax / x V with activation x activation MatMuls (re-programmed per call)."""
    nodes = [
        Node("q", "MatMul", ("x", "wq"), ("q",)),
        Node("k", "MatMul", ("x", "wk"), ("k",)),
        Node("kt", "Transpose", ("k",), ("kt",), {"perm": [0, 2, 1]}),
        Node("qk", "MatMul", ("q", "kt"), ("s",)),
        Node("p", "Softmax", ("s",), ("p",), {"axis": 2}),
        Node("pv", "MatMul", ("p", "x"), ("y",)),
        Node("ln", "LayerNormalization", ("y", "g", "be"), ("z",), {"axis": 2, "epsilon": 1e-5}),
        Node("act", "Gelu", ("z",), ("out",), {"approximate": "none"}),
    ]
    weights = {"wq": LazyWeight((d, d), fan_in=d, seed=1), "wk": LazyWeight((d, d), fan_in=d, seed=2),
               "g": np.ones(d, np.float32), "be": np.zeros(d, np.float32)}
    s = (batch, seq, d)
    shapes = {"x": s, "q": s, "k": s, "kt": (batch, d, seq), "s": (batch, seq, seq), "p": (batch, seq, seq),
              "y": s, "z": s, "out": s, "wq": (d, d), "wk": (d, d), "g": (d,), "be": (d,)}
    return Graph("attention", {"x": s}, ["out"], nodes, weights, shapes, meta={"batch": batch})


def _x(graph: Graph, n: int, seed: int = 0) -> dict:
    shape = list(graph.inputs["x"])
    shape[0] = n
    return {"x": np.random.default_rng(seed).standard_normal(shape).astype(np.float32)}


def test_same_seed_same_bits_different_seed_different_bits():
    g = small_cnn()
    model = prepare(g, spec=NOISY, backend="numpy")
    a = model.run(_x(g, 2), seed=7).outputs["a9"]
    b = prepare(g, spec=NOISY, backend="numpy").run(_x(g, 2), seed=7).outputs["a9"]
    c = model.run(_x(g, 2), seed=8).outputs["a9"]
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_backends_give_identical_bits():
    g = attention()
    from adept_core import available_backends

    outs = [prepare(g, spec=NOISY, backend=b).run(_x(g, 1), seed=3).outputs["out"] for b in available_backends()]
    for o in outs[1:]:
        assert np.array_equal(o, outs[0])


def test_gemm_node_is_exactly_one_kernel_call_with_the_derived_key():
    """The executor passes the lowering's GEMM to the kernel with call_key = stable_key(node, role, ...)."""
    rng = np.random.default_rng(1)
    w = rng.standard_normal((20, 12)).astype(np.float32)
    g = Graph("fc", {"x": (3, 20)}, ["y"], [Node("fc", "MatMul", ("x", "w"), ("y",))], {"w": w},
              {"x": (3, 20), "w": (20, 12), "y": (3, 12)})
    x = rng.standard_normal((3, 20)).astype(np.float32)
    got = prepare(g, spec=NOISY, asic_format="fp32", backend="numpy").run({"x": x}, seed=11).outputs["y"]
    want = PhotonicCore(w, NOISY)(x, seed=11, call_key=stable_key("fc", "fc", 0, 0, 0), backend="numpy").out
    assert np.array_equal(got, want)


def test_fp32_precision_has_no_quantization_or_noise():
    g = attention()
    x = _x(g, 1)
    a = prepare(g, precision="fp32").run(x, seed=1).outputs["out"]
    b = prepare(g, precision="fp32").run(x, seed=2).outputs["out"]
    assert np.array_equal(a, b)
    # Low 16 bits are used: not bf16-rounded.
    assert np.any(a.view(np.uint32) & 0xFFFF)


def test_bf16_asic_outputs_lie_on_the_bf16_grid():
    g = attention()
    out = prepare(g, spec=PhotonicGemmSpec(rows=16, adc_bits=12)).run(_x(g, 1)).outputs["out"]
    assert not np.any(out.view(np.uint32) & 0xFFFF)
    ref = prepare(g, precision="fp32").run(_x(g, 1)).outputs["out"]
    assert np.linalg.norm(out - ref) / np.linalg.norm(ref) < 0.03


def test_emulation_tracks_fp32_and_noise_hurts():
    g = small_cnn()
    x = _x(g, 2)
    ref = prepare(g, precision="fp32").run(x).outputs["a9"]
    quiet = prepare(g, spec=PhotonicGemmSpec(input_bits=12, weight_bits=12, adc_bits=16), asic_format="fp32")
    err_quiet = np.linalg.norm(quiet.run(x).outputs["a9"] - ref) / np.linalg.norm(ref)
    loud = PhotonicGemmSpec(input_bits=12, weight_bits=12, adc_bits=16, noise=NoiseSpec(sigma_const=1e6))
    loud_out = prepare(g, spec=loud, asic_format="fp32").run(x).outputs["a9"]
    err_loud = np.linalg.norm(loud_out - ref) / np.linalg.norm(ref)
    assert err_quiet < 2e-3
    assert err_loud > 10 * err_quiet


def test_calibration_is_stored_repeatable_and_json_ready(tmp_path):
    g = small_cnn()
    model = prepare(g, spec=NOISY, adc="calibrated", backend="numpy")
    with pytest.raises(ConfigError, match="calibrate"):
        model.run(_x(g, 2))
    cal = model.calibrate(_x(g, 2, seed=5))
    assert set(cal) == {"c1/conv", "c2/conv", "fc/fc"}  # depthwise conv is not photonic
    path = tmp_path / "cal.json"
    path.write_text(json.dumps(cal))
    again = prepare(g, spec=NOISY, adc="calibrated", calibration=json.loads(path.read_text()), backend="numpy")
    assert np.array_equal(model.run(_x(g, 2), seed=4).outputs["y"], again.run(_x(g, 2), seed=4).outputs["y"])
    ref = prepare(g, precision="fp32").run(_x(g, 2)).outputs["a9"]
    worst = prepare(g, spec=NOISY, backend="numpy").run(_x(g, 2), seed=4).outputs["a9"]
    calibrated = model.run(_x(g, 2), seed=4).outputs["a9"]
    # Calibrated ranges spend the ADC codes on the signal: closer to fp32 than the worst case.
    assert np.linalg.norm(calibrated - ref) < np.linalg.norm(worst - ref)


def test_clipping_layers_are_reported():
    g = small_cnn()
    model = prepare(g, spec=QUIET, adc="calibrated", backend="numpy", clip_threshold=1e-3)
    model.calibrate(_x(g, 2))
    assert model.run(_x(g, 2)).clipped_layers == []
    loud = {"x": _x(g, 2, seed=9)["x"] * 10}  # ten times the calibrated range: the DAC clamps ...
    model.calibration["c2/conv"]["full_scale"] /= 20  # ... and c2's ADC range is now far too small
    clipped = dict(model.run(loud).clipped_layers)
    assert "c2/conv" in clipped and clipped["c2/conv"] > 1e-3


def test_streaming_in_chunks_matches_one_batch_per_sample():
    g = small_cnn(batch=2)
    x = _x(g, 5)
    streamed = prepare(g, precision="fp32").run(x).outputs["y"]
    assert streamed.shape == (5, 10)
    single = prepare(small_cnn(batch=1), precision="fp32")
    for i in range(5):
        one = single.run({"x": x["x"][i:i + 1]}).outputs["y"]
        np.testing.assert_allclose(streamed[i:i + 1], one, rtol=1e-5, atol=1e-7)


def test_batchnorm_is_folded_into_the_conv():
    g = small_cnn()
    folded = fold_batchnorm(g)
    assert "BatchNormalization" not in {n.op for n in folded.nodes}
    assert "BatchNormalization" in {n.op for n in g.nodes}  # input graph untouched
    x = _x(g, 2)
    a = prepare(g, precision="fp32", fold_bn=False).run(x).outputs["a9"]
    b = prepare(g, precision="fp32").run(x).outputs["a9"]
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_bn_with_a_second_reader_is_not_folded():
    g = small_cnn()
    g.nodes.insert(2, Node("tap", "Relu", ("a1",), ("tap_out",)))
    g.shapes["tap_out"] = g.shapes["a1"]
    g.outputs.append("tap_out")
    assert "BatchNormalization" in {n.op for n in fold_batchnorm(g).nodes}


def test_photonic_macs_match_the_lowering():
    from adept_core.graph.lowering import node_macs

    g = fold_batchnorm(attention(batch=2))
    result = prepare(g, spec=QUIET).run(_x(g, 2))
    ran = {}
    for st in result.layers:
        node = st.layer.split("/")[0]
        ran[node] = ran.get(node, 0) + st.macs
    assert ran == {n.name: node_macs(n, g) for n in g.nodes if node_macs(n, g)}
    assert result.layers and all(st.calls >= 1 for st in result.layers)
    # Q K^T and P V: one kernel call per batch item, each re-programmed.
    assert {st.layer: st.calls for st in result.layers}["qk/matmul"] == 2


def test_timings_add_up():
    g = small_cnn()
    s = prepare(g, spec=QUIET).run(_x(g, 2)).seconds
    assert set(s) == {"gemm", "program", "lowering", "asic", "glue", "total"}
    assert all(v >= 0 for v in s.values())
    assert s["gemm"] + s["program"] + s["lowering"] + s["asic"] <= s["total"] * 1.01


def test_bad_inputs_are_clear_errors():
    g = small_cnn()
    model = prepare(g, precision="fp32")
    with pytest.raises(ShapeError, match="missing"):
        model.run({})
    with pytest.raises(ShapeError, match="float32"):
        model.run({"x": np.zeros((2, 3, 16, 16), np.float64)})
    with pytest.raises(ShapeError, match="shape"):
        model.run({"x": np.zeros((2, 3, 15, 16), np.float32)})
    with pytest.raises(ShapeError, match="NaN"):  # a DAC cannot convert NaN: the emulation refuses it
        prepare(g, spec=QUIET).run({"x": np.full((2, 3, 16, 16), np.nan, np.float32)})
    # The float32 reference computes IEEE results like onnxruntime (IsNaN, IsInf need NaN inputs).
    out = model.run({"x": np.full((2, 3, 16, 16), np.nan, np.float32)}).outputs
    assert all(np.isnan(v).all() for v in out.values())
    with pytest.raises(ConfigError, match="precision"):
        prepare(g, precision="fp16")
    with pytest.raises(ConfigError, match="worst_case"):
        prepare(g, adc="best")


def test_unsupported_op_names_node_and_lists_supported():
    g = Graph("bad", {"x": (1, 2)}, ["y"], [Node("weird", "Hardmax", ("x",), ("y",))], {},
              {"x": (1, 2), "y": (1, 2)})
    with pytest.raises(UnsupportedOpError, match=r"Hardmax.*weird.*supported: .*Conv"):
        prepare(g)


def test_stable_key_is_stable():
    assert stable_key("conv1", "conv", 0, 0, 0) == stable_key("conv1", "conv", 0, 0, 0)
    assert stable_key("a", 1) != stable_key("a", 2)


def test_stable_key_pinned_value():
    # BLAKE2b-64 of b"conv1/conv/0/0/0", little endian: must never change across versions.
    import hashlib

    digest = hashlib.blake2b(b"conv1/conv/0/0/0", digest_size=8).digest()
    assert stable_key("conv1", "conv", 0, 0, 0) == int.from_bytes(digest, "little")


def test_synthetic_inputs_respect_gather_tables():
    g = Graph("emb", {"ids": (2, 4), "mask": (2, 4)}, ["y"],
              [Node("g", "Gather", ("table", "ids"), ("e",), {"axis": 0}),
               Node("c", "Cast", ("mask",), ("mf",), {"to": "float32"}),
               Node("u", "Unsqueeze", ("mf",), ("mu",), {"axes": [2]}),
               Node("m", "Mul", ("e", "mu"), ("y",))],
              {"table": np.ones((7, 3), np.float32)},
              {"ids": (2, 4), "mask": (2, 4), "table": (7, 3), "e": (2, 4, 3), "mf": (2, 4), "mu": (2, 4, 1),
               "y": (2, 4, 3)}, {"ids": "int64", "mask": "int64"})
    feeds = synthetic_inputs(g, seed=0)
    assert feeds["ids"].dtype == np.int64 and feeds["ids"].max() < 7
    assert np.all(feeds["mask"] == 1)
    assert prepare(g).run(feeds).outputs["y"].shape == (2, 4, 3)


def test_calibration_equals_the_kernels_calibrate_full_scale():
    rng = np.random.default_rng(2)
    w = rng.standard_normal((40, 9)).astype(np.float32)
    x = rng.standard_normal((5, 40)).astype(np.float32)
    g = Graph("fc", {"x": (5, 40)}, ["y"], [Node("fc", "MatMul", ("x", "w"), ("y",))], {"w": w},
              {"x": (5, 40), "w": (40, 9), "y": (5, 9)})
    cal = prepare(g, spec=QUIET, adc="calibrated").calibrate({"x": x})
    core = PhotonicCore(w, QUIET)
    sx = float(np.float32(np.float32(np.abs(x).max()) / np.float32(127)))
    assert cal["fc/fc"]["full_scale"] == core.calibrate_full_scale(x, x_scale=sx)
    assert cal["fc/fc"]["x_absmax"] == float(np.abs(x).max())


def test_progress_bar_on_request_and_off_when_not_a_tty(capsys):
    g = attention()
    prepare(g, precision="fp32").run(_x(g, 1), progress=True)
    assert "emulating attention" in capsys.readouterr().err
    prepare(g, precision="fp32").run(_x(g, 1))  # stderr is captured, not a terminal: no bar
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("precision", ["fp32", "adept"])
def test_in_place_rounding_never_overwrites_live_values_or_weights(precision):
    """Results are rounded in place only when fresh: a value read later, a view of it, or a weight must survive."""
    w = np.arange(6, dtype=np.float32).reshape(2, 3) - 2
    nodes = [
        Node("r1", "Relu", ("x",), ("a",)),
        Node("v", "Reshape", ("a",), ("av",), {"shape": [3, 2]}),      # a view of a: a is not dead yet
        Node("add", "Add", ("a", "x"), ("b",)),                       # a dies here but its view av lives
        Node("wv", "Reshape", ("w",), ("wr",), {"shape": [2, 3]}),    # a view of a weight
        Node("r2", "Neg", ("wr",), ("c",)),                          # must not write into w
        Node("out", "Add", ("b", "c"), ("y",)),
        Node("keep", "Reshape", ("av",), ("z",), {"shape": [2, 3]}),
    ]
    shapes = {"x": (2, 3), "a": (2, 3), "av": (3, 2), "b": (2, 3), "w": (2, 3), "wr": (2, 3), "c": (2, 3),
              "y": (2, 3), "z": (2, 3)}
    g = Graph("inplace", {"x": (2, 3)}, ["y", "z"], nodes, {"w": w}, shapes)
    x = np.array([[-1, 2, -3], [4, -5, 6]], np.float32)
    w_before = w.copy()
    out = prepare(g, precision=precision).run({"x": x}).outputs  # small integers: exact in bf16
    relu = np.maximum(x, 0)
    np.testing.assert_array_equal(out["z"], relu)
    np.testing.assert_array_equal(out["y"], relu + x - w_before)
    np.testing.assert_array_equal(w, w_before)
