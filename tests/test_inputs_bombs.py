"""Input files (``adept run --input``) whose headers lie are refused before anything is allocated."""
import io
import zipfile

import numpy as np
import pytest
from numpy.lib import format as npy_format

from adept_core.emulate.inputs import load_inputs
from adept_core.errors import InputError
from adept_core.graph import zoo


def _npy_bytes(shape, payload: bytes = b"\0" * 12) -> bytes:
    buf = io.BytesIO()
    npy_format.write_array_header_1_0(buf, {"descr": "<f4", "fortran_order": False, "shape": shape})
    return buf.getvalue() + payload


@pytest.fixture(scope="module")
def graph():
    return zoo.build("resnet50", batch=1)


@pytest.mark.parametrize("rows", [2**40, 2**62, 3 * 2**28])
def test_npz_with_a_huge_declared_shape_is_refused(tmp_path, graph, rows):
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{next(iter(graph.inputs))}.npy", _npy_bytes((rows, 3)))
    with pytest.raises(InputError, match="declares shape"):
        load_inputs(path, graph)


def test_npy_whose_header_claims_more_than_it_holds_is_refused(tmp_path, graph):
    path = tmp_path / "short.npy"
    path.write_bytes(_npy_bytes((1000, 1000)))  # 4 MB declared, 12 bytes held
    with pytest.raises(InputError, match="holds 12 bytes"):
        load_inputs(path, graph)


def test_the_limit_is_named_and_can_be_raised(tmp_path, graph):
    x = np.zeros(graph.inputs[next(iter(graph.inputs))], np.float32)
    path = tmp_path / "x.npy"
    np.save(path, x)
    with pytest.raises(InputError, match="MAX_INPUT_BYTES"):
        load_inputs(path, graph, max_bytes=x.nbytes - 1)
    assert np.array_equal(load_inputs(path, graph, max_bytes=x.nbytes)[next(iter(graph.inputs))], x)


def test_a_real_npz_still_loads(tmp_path, graph):
    name = next(iter(graph.inputs))
    x = np.random.default_rng(0).standard_normal(graph.inputs[name]).astype(np.float32)
    path = tmp_path / "x.npz"
    np.savez_compressed(path, **{name: x})
    assert np.array_equal(load_inputs(path, graph)[name], x)
