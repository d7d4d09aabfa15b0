"""im2col: the Cython loop and the NumPy reference give identical columns; columns x weights = convolution."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adept_core.asic.im2col import ConvGeometry, cython_available, im2col, weight_matrix
from adept_core.errors import BackendUnavailableError, ConfigError, ShapeError, UnsupportedOpError

needs_cython = pytest.mark.skipif(not cython_available(), reason="Cython im2col not built (pip install -e .)")


def _direct_conv(x, w, geo):
    """Float64 convolution by definition (the oracle)."""
    b, cin, h, wd = x.shape
    cout, cg = w.shape[:2]
    ho, wo = geo.output_hw(h, wd)
    ng = cout // geo.groups
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (geo.pt, geo.pb), (geo.pl, geo.pr)))
    y = np.zeros((b, cout, ho, wo))
    for o in range(cout):
        g = o // ng
        for u in range(geo.kh):
            for v in range(geo.kw):
                patch = xp[:, g * cg:(g + 1) * cg, u * geo.dh: u * geo.dh + geo.sh * (ho - 1) + 1: geo.sh,
                           v * geo.dw: v * geo.dw + geo.sw * (wo - 1) + 1: geo.sw]
                y[:, o] += np.einsum("bchw,c->bhw", patch, w[o, :, u, v])
    return y


geometries = st.builds(
    lambda kh, kw, sh, sw, dh, dw, pads, groups: ConvGeometry(kh, kw, sh, sw, dh, dw, *pads, groups=groups),
    st.integers(1, 3), st.integers(1, 3), st.integers(1, 2), st.integers(1, 3), st.integers(1, 2),
    st.integers(1, 2), st.tuples(*[st.integers(0, 2)] * 4), st.sampled_from([1, 2]),
)


@settings(max_examples=60, deadline=None)
@given(geo=geometries, b=st.integers(1, 2), cg=st.integers(1, 3), h=st.integers(5, 9), w=st.integers(5, 9),
       channels_last=st.booleans())
def test_columns_times_weights_is_the_convolution(geo, b, cg, h, w, channels_last):
    rng = np.random.default_rng(0)
    cin, cout = cg * geo.groups, 2 * geo.groups
    x = rng.standard_normal((b, cin, h, w)).astype(np.float32)
    if channels_last:  # how conv outputs are stored: an NCHW view of NHWC memory
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    wt = rng.standard_normal((cout, cg, geo.kh, geo.kw)).astype(np.float32)
    cols_np = im2col(x, geo, "numpy")
    if cython_available():
        assert np.array_equal(im2col(x, geo, "cython"), cols_np)
    ng = cout // geo.groups
    ys = [cols_np[g].astype(np.float64) @ weight_matrix(wt[g * ng:(g + 1) * ng]) for g in range(geo.groups)]
    ho, wo = geo.output_hw(h, w)
    y = np.concatenate(ys, axis=1).reshape(b, ho, wo, cout).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(y, _direct_conv(x, wt, geo), rtol=1e-5, atol=1e-5)


@needs_cython
def test_resnet_stem_shape_identical():
    x = np.random.default_rng(1).standard_normal((1, 3, 224, 224)).astype(np.float32)
    geo = ConvGeometry(7, 7, 2, 2, 1, 1, 3, 3, 3, 3)
    assert np.array_equal(im2col(x, geo, "cython"), im2col(x, geo, "numpy"))


def test_errors():
    x = np.zeros((1, 4, 5, 5), np.float32)
    with pytest.raises(ShapeError, match="groups"):
        im2col(x, ConvGeometry(1, 1, groups=3))
    with pytest.raises(ShapeError, match="float32"):
        im2col(x.astype(np.float64), ConvGeometry(1, 1))
    with pytest.raises(ShapeError, match="smaller than"):
        im2col(x, ConvGeometry(7, 7))
    with pytest.raises(ConfigError, match="auto, cython, numpy"):
        im2col(x, ConvGeometry(1, 1), "fortran")
    with pytest.raises(UnsupportedOpError, match="auto_pad"):
        ConvGeometry.from_attrs({"kernel_shape": [3, 3], "auto_pad": "SAME_UPPER"})
    with pytest.raises(UnsupportedOpError, match="2-D"):
        ConvGeometry.from_attrs({"kernel_shape": [3]})
    if not cython_available():
        with pytest.raises(BackendUnavailableError):
            im2col(x, ConvGeometry(3, 3), "cython")
