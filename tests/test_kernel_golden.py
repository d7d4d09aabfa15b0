"""Hand-computed cases of the kernel contract, checked on every backend.

Each case is chosen so its answer can be worked out on paper (scales of exactly 1 or 2, an
ADC step of 1 or 2); the comments show the working. The last tests pin the noise generator
to literal values and compare every backend with a scalar transcription of the spec text.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from kernel_helpers import assert_backends_equal, random_operands, run_backends

from adept_core import NoiseSpec, PhotonicCore, PhotonicGemmSpec
from adept_core.kernels import rng

F32 = np.float32


def _row(values) -> np.ndarray:
    return np.array([values], dtype=F32)


def _all_backends(core: PhotonicCore, x: np.ndarray, **call):
    results = run_backends(core, x, **call)
    assert_backends_equal(results)
    return results["numpy"]


def test_dac_rounds_ties_to_even():
    # input_bits=3: qmax 3, sx = 3/3 = 1, so the codes are rint(x): 0.5->0, 1.5->2, 2.5->2, -0.5->0, ...
    # W = I with weight_bits=2 (qmax 1, sw = 1); ADC full scale 7 at 4 bits: lsb = 7/7 = 1, so Y = code.
    spec = PhotonicGemmSpec(input_bits=3, weight_bits=2, adc_bits=4)
    x = _row([3.0, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5])
    y, stats = _all_backends(PhotonicCore(np.eye(7, dtype=F32), spec), x, adc_full_scale=7.0)
    assert np.array_equal(y, _row([3, 0, 2, 2, 0, -2, -2]))
    assert stats.x_scale == 1.0 and stats.clipped == 0


def test_adc_rounds_ties_to_even():
    # input_bits=4: qmax 7, sx = 7/7 = 1, p = x. Full scale 14 at 4 bits: lsb = 2, so
    # p/lsb = 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5 -> codes 0, 2, 2, 0, -2, -2, 4 and Y = 2 * code.
    spec = PhotonicGemmSpec(input_bits=4, weight_bits=2, adc_bits=4)
    x = _row([1, 3, 5, -1, -3, -5, 7])
    y, stats = _all_backends(PhotonicCore(np.eye(7, dtype=F32), spec), x, adc_full_scale=14.0)
    assert np.array_equal(y, _row([0, 4, 4, 0, -4, -4, 8]))
    assert stats.clipped == 0


def test_dac_clamps_to_qmax_with_a_caller_scale():
    # x_scale = 1 given: rint(x) = 10, -10, 1, -4 clamps to +-3 at 3 bits.
    spec = PhotonicGemmSpec(input_bits=3, weight_bits=2, adc_bits=4)
    y, stats = _all_backends(PhotonicCore(np.eye(4, dtype=F32), spec), _row([10, -10, 1, -3.5]),
                             adc_full_scale=7.0, x_scale=1.0)
    assert np.array_equal(y, _row([3, -3, 1, -3]))
    assert stats.x_scale == 1.0


def test_adc_clips_counts_and_gemm_stats():
    # Codes qx = 3, 0, 2, 2, 0, -2, -2 (as in the tie test). W = I, rows=2: K=7 makes 4 K-tiles and
    # column n sees its p = qx[n] in one tile and 0 in the others. adc_bits=2: qmax 1, full scale 1,
    # lsb 1: codes clamp to +-1 and |r| > 1 clips for 3, 2, 2, -2, -2: 5 clipped conversions.
    spec = PhotonicGemmSpec(rows=2, cols=3, input_bits=3, weight_bits=2, adc_bits=2)
    x = _row([3.0, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5])
    y, stats = _all_backends(PhotonicCore(np.eye(7, dtype=F32), spec), x, adc_full_scale=1.0)
    assert np.array_equal(y, _row([1, 0, 1, 1, 0, -1, -1]))
    # M=1, K=7, N=7; k_tiles = ceil(7/2) = 4, n_tiles = ceil(7/3) = 3; passes = 1*4*3;
    # DAC conversions = M*K*n_tiles = 21; ADC conversions = M*N*k_tiles = 28.
    assert (stats.m, stats.k, stats.n, stats.k_tiles, stats.n_tiles) == (1, 7, 7, 4, 3)
    assert (stats.passes, stats.dac_conversions, stats.adc_conversions, stats.clipped) == (12, 21, 28, 5)
    assert stats.clipped_fraction == 5 / 28


def test_per_column_weight_scales():
    # weight_bits=3 (qmax 3). Column 0: max 3 -> sw 1, codes rint(1.5, 3) = (2, 3).
    # Column 1: max 6 -> sw 2, codes rint(1.5, -3) = (2, -3). x = (1, 1) at 2 bits: qx = (1, 1), sx = 1.
    # p = (2+3, 2-3) = (5, -1); lsb 1; Y = code * lsb * sx * sw = (5*1, -1*2).
    w = np.array([[1.5, 3.0], [3.0, -6.0]], dtype=F32)
    core = PhotonicCore(w, PhotonicGemmSpec(input_bits=2, weight_bits=3, adc_bits=4))
    assert np.array_equal(core.w_scale, np.array([1.0, 2.0], dtype=F32))
    assert np.array_equal(core.qw, np.array([[2, 2], [3, -3]]))
    y, _ = _all_backends(core, _row([1.0, 1.0]), adc_full_scale=7.0)
    assert np.array_equal(y, _row([5.0, -2.0]))


def test_all_zero_tensor_gets_scale_one_and_an_all_zero_column_dequantizes_to_zero():
    w = np.array([[1.0, 0.0], [2.0, 0.0]], dtype=F32)
    core = PhotonicCore(w, PhotonicGemmSpec())
    # Column 1 is quantized with scale 1 (codes 0) and dequantized with 0.
    assert core.w_scale[1] == 0.0 and core.w_scale[0] == F32(F32(2.0) / F32(127))
    assert not core.qw[:, 1].any()
    y, stats = _all_backends(core, np.zeros((3, 2), dtype=F32))
    assert stats.x_scale == 1.0
    assert np.array_equal(y, np.zeros((3, 2), dtype=F32))
    y, _ = _all_backends(core, np.ones((1, 2), dtype=F32))
    assert y[0, 1] == 0.0 and y[0, 0] != 0.0


@pytest.mark.parametrize("scaling", ["tensor", "abfp"])
def test_an_all_zero_weight_column_or_block_gives_exactly_zero_under_noise(scaling):
    # Its partial sums are pure noise; dequantized with scale 1 they came out in units of 1 (OPT's tied
    # embedding, whose padding row is zero: that logit was +-60 against true logits below 1).
    gen = np.random.default_rng(4)
    w = (gen.standard_normal((12, 5)) * 0.02).astype(F32)
    w[:, 2] = 0.0
    w[5:10, 4] = 0.0  # abfp: one whole tile (rows 5-9) of column 4 is zero, its other tiles are not
    x = gen.standard_normal((6, 12)).astype(F32)
    spec = PhotonicGemmSpec(rows=5, scaling=scaling, noise=NoiseSpec(sigma_const=40.0, shot_coeff=2.0))
    core = PhotonicCore(w, spec)
    y, _ = _all_backends(core, x, seed=3, adc_full_scale=core.calibrate_full_scale(x))
    assert np.array_equal(y[:, 2], np.zeros(6, F32))
    exact = x.astype(np.float64) @ w.astype(np.float64)
    assert np.max(np.abs(y - exact)) < 0.5 * np.max(np.abs(exact)) + 1e-3
    if scaling == "abfp":
        assert core.w_scale[1, 4] == 0.0 and core.w_scale[0, 4] > 0 and core.w_scale[2, 4] > 0


def test_noiseless_partial_sums_pass_the_adc_exactly():
    # All noise coefficients zero: y == p, so with lsb = 1 the output is the integer product itself.
    spec = PhotonicGemmSpec(rows=4, input_bits=8, weight_bits=8, adc_bits=16)
    x = np.array([[127, -127, 64, 1, 0, 3]], dtype=F32)   # sx = 1
    w = np.array([[127], [127], [-127], [5], [9], [-2]], dtype=F32)  # sw = 1
    y, _ = _all_backends(PhotonicCore(w, spec), x, adc_full_scale=32767.0)
    # tile 0: 127*127 - 127*127 - 64*127 + 5 = -8123; tile 1: 0*9 + 3*-2 = -6
    assert np.array_equal(y, np.array([[-8129.0]], dtype=F32))


def test_noise_generator_literal_values():
    """Pin the generator: if these change, every stored result of adept changes too."""
    base = rng.call_base(0, 0)
    assert base == 0xA706DD2F4D197E6F
    rk = rng.row_keys(base, 0, np.array([0], dtype=np.uint64))
    assert int(rk[0]) == 0x238275BC38FCBE91
    h = rng.element_hash(rk, np.array([0, 1], dtype=np.uint32))
    assert h[0].tolist() == [0xAC14F46E, 0x555FC867]
    z = rng.standard_normals(base, 0, np.array([0], dtype=np.uint64), np.array([0, 1], dtype=np.uint32))
    assert z[0].tolist() == [float(rng.normal_table()[44052]), float(rng.normal_table()[21855])]


def test_worked_example_with_noise():
    # docs/kernel.md walks through this case. qx = (1, 1), qw = 1 (2-bit), p = 2 in both columns;
    # sigma_const = 0.5: y = 2 + 0.5 * z with z = table[44052], table[21855] (see the literal test);
    # full scale 12.7 at 8 bits: lsb = 0.1; rint(y / 0.1) = 22 and 18; Y = float32(code * 0.1).
    spec = PhotonicGemmSpec(input_bits=2, weight_bits=2, adc_bits=8, noise=NoiseSpec(sigma_const=0.5))
    y, _ = _all_backends(PhotonicCore(np.ones((2, 2), dtype=F32), spec), np.ones((1, 2), dtype=F32),
                         adc_full_scale=12.7)
    table = rng.normal_table()
    lsb = 12.7 / 127
    codes = [round((2.0 + 0.5 * float(table[i])) / lsb) for i in (44052, 21855)]
    assert codes == [22, 18]
    assert np.array_equal(y, np.array([[F32(22 * (lsb * 1.0)), F32(18 * (lsb * 1.0))]]))


def spec_literal_gemm(x, w, spec: PhotonicGemmSpec, seed: int, call_key: int, full_scale: float):
    """The contract of ``adept_core.kernels.spec`` transcribed element by element in scalar Python.

    Independent of every backend (and of the NumPy oracle's vectorized code): float32 operations
    use numpy float32 scalars, float64 ones Python floats; ``round`` is round-half-even.
    """
    qmax = lambda b: 2 ** (b - 1) - 1  # noqa: E731
    m_rows, k = x.shape
    n_cols = w.shape[1]

    def scale(amax, bits):
        return F32(1.0) if amax == 0 else F32(F32(amax) / F32(qmax(bits)))

    def code(v, s, bits):
        return max(-qmax(bits), min(qmax(bits), round(float(F32(v) / s))))

    sx = scale(max(abs(float(v)) for v in x.ravel()), spec.input_bits)
    sw = [scale(max(abs(float(w[kk, n])) for kk in range(k)), spec.weight_bits) for n in range(n_cols)]
    # An all-zero column is quantized with 1 (codes 0) and dequantized with 0.
    sw_out = [F32(0.0) if all(w[kk, n] == 0 for kk in range(k)) else sw[n] for n in range(n_cols)]
    qa = qmax(spec.adc_bits)
    lsb = float(full_scale) / float(qa)
    ns = spec.noise
    base = rng.call_base(seed, call_key)
    table = rng.normal_table()
    out = np.zeros((m_rows, n_cols), dtype=F32)
    clipped = 0
    for m in range(m_rows):
        for n in range(n_cols):
            acc = 0
            for t, k0 in enumerate(range(0, k, spec.rows)):
                p = sum(code(x[m, kk], sx, spec.input_bits) * code(w[kk, n], sw[n], spec.weight_bits)
                        for kk in range(k0, min(k, k0 + spec.rows)))
                y = float(p)
                if ns.enabled:
                    rk = rng.splitmix64(base ^ ((t << 32) | m))
                    counter = (n * rng.GOLDEN32 + (rk >> 32)) % 2**32
                    h = int(rng.lowbias32(np.array([counter ^ (rk & rng.MASK32)], dtype=np.uint32))[0])
                    z = float(table[h >> 16])
                    var = (ns.sigma_const * ns.sigma_const + ns.shot_coeff * abs(y)) + (ns.rin_coeff * y) * (
                        ns.rin_coeff * y)
                    y = y + math.sqrt(var) * z
                r = round(y / lsb)
                clipped += abs(r) > qa
                acc += max(-qa, min(qa, r))
            out[m, n] = F32(float(acc) * (lsb * (float(sx) * float(sw_out[n]))))
    return out, clipped


@pytest.mark.parametrize("seed", [0, 1, 2**64 - 1])
@pytest.mark.parametrize("noise", [NoiseSpec(), NoiseSpec(sigma_const=1.0, shot_coeff=0.5, rin_coeff=0.05)])
def test_backends_equal_the_spec_text(seed, noise):
    spec = PhotonicGemmSpec(rows=5, cols=2, input_bits=4, weight_bits=5, adc_bits=5, noise=noise)
    x, w = random_operands(seed % 1000, 3, 12, 4)
    core = PhotonicCore(w, spec)
    full_scale = 0.6 * core.calibrate_full_scale(x)  # small enough that some conversions clip
    expected, clipped = spec_literal_gemm(x, w, spec, seed, 5, full_scale)
    y, stats = _all_backends(core, x, seed=seed, call_key=5, adc_full_scale=full_scale)
    assert np.array_equal(y, expected)
    assert stats.clipped == clipped


# ---------------------------------------------------------------- ties that catch a changed operation
# Each case lands exactly on a rounding tie under the contract's operations, and off it under a
# common "equivalent" rewrite (multiplying by a reciprocal, fusing a multiply-add), so a backend
# compiled with fast-math or FMA contraction fails here. Found by exhaustive search over small values.

def test_dac_divides_by_the_scale():
    # sx = float32(0.125) / float32(127); in float32, v / sx = 5.5, 7.5, 87.5, 103.5 exactly (ties to
    # even: 6, 8, 88, 104) while v * (1 / sx) = 5.4999995, 7.4999995, 87.49999, 103.49999 (5, 7, 87, 103).
    x = _row([0.125, 0.005413385573774576, 0.007381889503449202, 0.0861220434308052, 0.10187007486820221])
    spec = PhotonicGemmSpec(input_bits=8, weight_bits=2, adc_bits=8)
    y, stats = _all_backends(PhotonicCore(np.eye(5, dtype=F32), spec), x, adc_full_scale=127.0)
    sx = F32(F32(0.125) / F32(127))
    assert stats.x_scale == sx
    assert np.array_equal(y, _row([F32(c * (1.0 * (float(sx) * 1.0))) for c in (127, 6, 8, 88, 104)]))


def test_adc_divides_by_the_step():
    # Full scale 50.8 at 8 bits: lsb = 50.8 / 127; p / lsb = 12.500000000000002, 22.500000000000004,
    # 52.50000000000001, 62.50000000000001 -> 13, 23, 53, 63, but p * (1 / lsb) = 12.5, 22.5, ... -> 12, 22, ...
    spec = PhotonicGemmSpec(input_bits=8, weight_bits=2, adc_bits=8)
    x = _row([127, 5, 9, 21, 25])  # sx = 1: p = x through W = I
    y, stats = _all_backends(PhotonicCore(np.eye(5, dtype=F32), spec), x, adc_full_scale=50.8)
    lsb = 50.8 / 127
    assert stats.clipped == 1  # 127 / lsb = 317.5
    assert np.array_equal(y, _row([F32(c * (lsb * 1.0)) for c in (127, 13, 23, 53, 63)]))


def test_noise_is_added_without_a_fused_multiply_add():
    # p = 4 (four codes 1 * 1), sigma_const = s below, z = table[44052] for (seed 0, t 0, m 0, n 0):
    # sqrt(s*s) = s, fl(s*z) rounds so that 4 + fl(s*z) = 4.5 exactly -> code 4 (half to even, lsb 1),
    # whereas fma(s, z, 4) = 4.500000000000001 -> code 5.
    s = 1.1211706803841974
    spec = PhotonicGemmSpec(input_bits=2, weight_bits=2, adc_bits=8, noise=NoiseSpec(sigma_const=s))
    z = float(rng.normal_table()[44052])
    assert math.sqrt(s * s) == s and 4.0 + s * z == 4.5
    y, _ = _all_backends(PhotonicCore(np.ones((4, 1), dtype=F32), spec), np.ones((1, 4), dtype=F32),
                         adc_full_scale=127.0)
    assert np.array_equal(y, np.array([[4.0]], dtype=F32))
