"""ONNX external data is read only from the directory the caller trusts (issue 8, item 2).

One Add model whose weight ``w`` (4 float32) lives in a side file, loaded from
its path, as bytes and as a ModelProto. The working directory is set to the
model's folder so that a reader falling back to it would find the data.
"""

import os

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from adept_core.errors import AdeptError
from adept_core.graph.onnx_import import from_onnx

WEIGHTS = np.arange(4, dtype=np.float32) + 0.5


def _model(location, offset=None, length=None):
    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[4], data_location=TensorProto.EXTERNAL)
    for key, value in (("location", location), ("offset", offset), ("length", length)):
        if value is not None:
            w.external_data.add(key=key, value=str(value))
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])
    graph = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"])], "g", [x], [y], [w])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.fixture
def dirs(tmp_path, monkeypatch):
    model_dir, outside = tmp_path / "model", tmp_path / "outside"
    model_dir.mkdir()
    outside.mkdir()
    WEIGHTS.tofile(model_dir / "w.bin")
    WEIGHTS.tofile(outside / "secret.bin")
    monkeypatch.chdir(model_dir)
    return model_dir, outside


def _load(mode, model, model_dir, **kw):
    if mode == "path":
        onnx.save(model, model_dir / "m.onnx")
        return from_onnx(model_dir / "m.onnx", **kw)
    return from_onnx(model.SerializeToString() if mode == "bytes" else model, **kw)


@pytest.mark.parametrize("mode", ["bytes", "proto"])
def test_no_folder_no_external_data(dirs, mode):
    with pytest.raises(AdeptError, match=r"tensor 'w' keeps its data in external file 'w.bin'.*external_data_dir="):
        _load(mode, _model("w.bin"), dirs[0])


@pytest.mark.parametrize("mode", ["path", "bytes", "proto"])
def test_named_directory_is_read(dirs, mode, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the named directory, not the working directory, is the base
    model = _model("w.bin")
    graph = _load(mode, model, dirs[0], external_data_dir=dirs[0])
    np.testing.assert_array_equal(graph.weight("w"), WEIGHTS)
    assert model.graph.initializer[0].data_location == TensorProto.EXTERNAL  # the caller's proto is untouched


def test_symlink_inside_the_base_is_followed(dirs):
    os.symlink(dirs[0] / "w.bin", dirs[0] / "alias.bin")
    graph = _load("path", _model("alias.bin"), dirs[0])
    np.testing.assert_array_equal(graph.weight("w"), WEIGHTS)


ESCAPES = {
    "dotdot": lambda model_dir, outside: "../outside/secret.bin",
    "absolute": lambda model_dir, outside: str(outside / "secret.bin"),
    "dir_symlink": lambda model_dir, outside: os.symlink(outside, model_dir / "link") or "link/secret.bin",
    "file_symlink": lambda model_dir, outside: os.symlink(outside / "secret.bin", model_dir / "s.bin") or "s.bin",
}


@pytest.mark.parametrize("escape", list(ESCAPES))
@pytest.mark.parametrize("mode", ["path", "bytes", "proto"])
def test_locations_outside_the_base_are_refused(dirs, mode, escape):
    location = ESCAPES[escape](*dirs)
    with pytest.raises(AdeptError, match=r"tensor 'w'.*(resolves outside the external data directory|"
                                         r"must be a non-empty path relative)"):
        _load(mode, _model(location), dirs[0], external_data_dir=None if mode == "path" else dirs[0])


@pytest.mark.parametrize("offset, length, match", [
    (1000, None, r"offset 1000 is past the end of 'w.bin' \(16 bytes\)"),
    (0, 1000, r"\(offset 0, length 1000\) runs past the end of 'w.bin' \(16 bytes\)"),
    (8, 8, r"needs 16 bytes, its external data \(offset 8 of 'w.bin'\) gives 8"),
    (-4, None, r"offset '-4' is not a non-negative integer"),
    ("x", None, r"offset 'x' is not a non-negative integer"),
])
@pytest.mark.parametrize("mode", ["path", "bytes", "proto"])
def test_offset_and_length_inside_the_file(dirs, mode, offset, length, match):
    with pytest.raises(AdeptError, match=match):
        _load(mode, _model("w.bin", offset, length), dirs[0], external_data_dir=None if mode == "path" else dirs[0])


@pytest.mark.parametrize("mode", ["bytes", "path"])
def test_constant_node_attribute_tensors_are_covered(dirs, mode):
    value = TensorProto(name="c", data_type=TensorProto.FLOAT, dims=[4], data_location=TensorProto.EXTERNAL)
    value.external_data.add(key="location", value="w.bin" if mode == "bytes" else "../outside/secret.bin")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])
    nodes = [helper.make_node("Constant", [], ["w"], value=value), helper.make_node("Add", ["x", "w"], ["y"])]
    model = helper.make_model(helper.make_graph(nodes, "g", [x], [y]), opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(AdeptError, match=r"tensor 'c'.*(external_data_dir=|resolves outside)"):
        _load(mode, model, dirs[0])
    if mode == "bytes":
        graph = from_onnx(model.SerializeToString(), external_data_dir=dirs[0])
        np.testing.assert_array_equal(graph.weight("w"), WEIGHTS)
