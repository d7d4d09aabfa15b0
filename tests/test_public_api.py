"""The public Python API beyond the kernel (issue 12 section 2): bare-array inputs, compare_outputs."""

from __future__ import annotations

import numpy as np
import pytest

import adept_core
from adept_core import ShapeError, prepare
from adept_core.emulate import compare
from adept_core.graph.ir import Graph, Node
from adept_core.kernels import NoiseSpec, PhotonicGemmSpec

SPEC = PhotonicGemmSpec(rows=16, cols=8, noise=NoiseSpec(sigma_const=1.0))
GEN = np.random.default_rng(3)
W = GEN.standard_normal((20, 12)).astype(np.float32)
X = GEN.standard_normal((3, 20)).astype(np.float32)


def _fc() -> Graph:
    return Graph("fc", {"x": (3, 20)}, ["y"], [Node("fc", "MatMul", ("x", "w"), ("y",))], {"w": W},
                 {"x": (3, 20), "w": (20, 12), "y": (3, 12)})


def _two_inputs() -> Graph:
    return Graph("add", {"a": (3, 20), "b": (3, 20)}, ["y"], [Node("add", "Add", ("a", "b"), ("y",))], {},
                 {"a": (3, 20), "b": (3, 20), "y": (3, 20)})


def test_single_input_graph_takes_a_bare_array():
    model = prepare(_fc(), spec=SPEC, backend="numpy")
    bare = model.run(X, seed=5).outputs["y"]
    assert np.array_equal(bare, model.run({"x": X}, seed=5).outputs["y"])


def test_a_bare_array_for_several_inputs_names_them():
    model = prepare(_two_inputs(), precision="fp32")
    with pytest.raises(ShapeError, match=r"takes 2 inputs \['a', 'b'\]; pass a dict name -> array"):
        model.run(X)


@pytest.mark.parametrize("bad", [[1.0, 2.0], 3.0, None])
def test_inputs_that_are_neither_dict_nor_array(bad):
    with pytest.raises(ShapeError, match=r"inputs must be a dict name -> numpy array"):
        prepare(_fc(), precision="fp32").run(bad)


def test_compare_outputs_is_public_and_gives_the_cli_figures():
    ref = prepare(_fc(), precision="fp32").run(X).outputs
    out = prepare(_fc(), spec=SPEC, backend="numpy").run(X, seed=1).outputs
    figures = adept_core.compare_outputs(ref, out)
    assert set(figures) == {"y"}
    assert figures["y"] == compare(out["y"], ref["y"], classifier=True)  # 2-D, 12 classes: argmax reported
    assert 0 < figures["y"].rel_error < 0.2 and figures["y"].top1_agreement is not None
    one = adept_core.compare_outputs(ref["y"], out["y"], classifier=False)
    assert one.top1_agreement is None and one.rel_error == figures["y"].rel_error
    assert adept_core.compare_outputs(ref["y"][:, :1], ref["y"][:, :1]).top1_agreement is None  # one column


def test_compare_outputs_refuses_mismatched_arguments():
    a = np.ones((2, 3), np.float32)
    with pytest.raises(ShapeError, match=r"two arrays or two mappings"):
        adept_core.compare_outputs({"y": a}, a)
    with pytest.raises(ShapeError, match=r"reference has outputs \['y'\], emulation \['z'\]"):
        adept_core.compare_outputs({"y": a}, {"z": a})
    with pytest.raises(ShapeError, match=r"cannot compare shapes"):
        adept_core.compare_outputs(a, a[:1])
