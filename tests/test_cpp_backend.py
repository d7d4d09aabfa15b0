"""C++ backend specifics: spec mirror, SIMD == portable, int16 path, threads, GIL, raw-binding errors.

The cross-backend equality grid (numpy == numba == cpp) lives in tests/test_kernel_*.py; here
the C++ kernel is compared with the NumPy oracle only where a C++-only path needs it.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
from dataclasses import fields

import numpy as np
import pytest

from adept_core import NoiseSpec, PhotonicCore, PhotonicGemmSpec
from adept_core.kernels import rng
from adept_core.kernels.registry import get_backend
from adept_core.kernels.spec import qmax

native = pytest.importorskip("adept_core._native", reason="C++ extension not built (pip install -e .)")

HAS_AVX512 = native.avx512_vnni_supported()
needs_avx512 = pytest.mark.skipif(not HAS_AVX512, reason="CPU without AVX-512 VNNI: only the portable path exists")
HAS_AVX2 = native.avx2_supported()
needs_avx2 = pytest.mark.skipif(not HAS_AVX2, reason="CPU without AVX2")
#: The SIMD bodies, each compared with the portable one (the definition of the bits) where the CPU has it.
SIMD_ISAS = [pytest.param("avx512_vnni", marks=needs_avx512), pytest.param("avx2", marks=needs_avx2)]
#: Every ISA this CPU runs.
LOCAL_ISAS = ("portable",) + (("avx512_vnni",) if HAS_AVX512 else ()) + (("avx2",) if HAS_AVX2 else ())

NOISES = [NoiseSpec(), NoiseSpec(sigma_const=3.0), NoiseSpec(shot_coeff=0.8), NoiseSpec(rin_coeff=0.02),
          NoiseSpec(1.5, 0.4, 0.01)]


def _args(core: PhotonicCore, x: np.ndarray, *, isa: str = "auto", threads: int = 1, seed: int = 0,
          call_key: int = 0, full_scale: object = "worst_case", x_scale: float = 0.0, pool=None) -> tuple:
    """Positional arguments of the raw binding's gemm for a programmed core."""
    spec = core.spec
    cspec = native.GemmSpec()
    cspec.rows, cspec.cols = spec.rows, spec.cols
    cspec.input_bits, cspec.weight_bits, cspec.adc_bits = spec.input_bits, spec.weight_bits, spec.adc_bits
    cspec.noise.sigma_const = spec.noise.sigma_const
    cspec.noise.shot_coeff = spec.noise.shot_coeff
    cspec.noise.rin_coeff = spec.noise.rin_coeff
    # the issue-10 modes (defaults: tensor scaling, coherent detection, independent RIN)
    cspec.scaling, cspec.analog_gain = spec.scaling, spec.analog_gain
    cspec.noise.detection, cspec.noise.rin_correlation = spec.noise.detection, spec.noise.rin_correlation
    wide = spec.input_bits > 8 or spec.weight_bits > 8
    packed = native.pack_weights(core.qw, spec.rows, wide)
    lsb = core.full_scale(full_scale) / float(qmax(spec.adc_bits))
    return (packed, x, cspec, x_scale, lsb, np.ascontiguousarray(core.w_scale).reshape(-1), rng.call_base(seed, call_key), rng.normal_table(), threads,
            isa, pool)


def _call(core: PhotonicCore, x: np.ndarray, **kwargs):
    """Run the raw binding on a programmed core; returns (y, x_absmax, x_scale, clipped)."""
    return native.gemm(*_args(core, x, **kwargs))


def _case(rng_: np.random.Generator, m: int, k: int, n: int, spec: PhotonicGemmSpec):
    x = (rng_.standard_normal((m, k)) * rng_.uniform(0.1, 10.0)).astype(np.float32)
    w = rng_.standard_normal((k, n)).astype(np.float32)
    return PhotonicCore(w, spec), x


def _assert_same(a, b):
    ya, *sa = a
    yb, *sb = b
    assert np.array_equal(ya, yb), f"{np.count_nonzero(ya != yb)} of {ya.size} outputs differ"
    assert sa == sb


def test_spec_struct_mirrors_the_python_dataclasses():
    mirror = native.spec_fields()
    assert mirror["GemmSpec"] == [f.name for f in fields(PhotonicGemmSpec)]
    assert mirror["NoiseSpec"] == [f.name for f in fields(NoiseSpec)]
    # defaults agree too
    cspec, pspec = native.GemmSpec(), PhotonicGemmSpec()
    for name in mirror["GemmSpec"]:
        if name != "noise":
            assert getattr(cspec, name) == getattr(pspec, name), name
    for name in mirror["NoiseSpec"]:
        assert getattr(cspec.noise, name) == getattr(pspec.noise, name), name


def test_backend_is_available_and_auto_prefers_it():
    backend = get_backend("cpp")
    assert backend.unavailable_reason() is None
    assert get_backend("auto").name == "cpp"


@pytest.mark.parametrize("simd_isa", SIMD_ISAS)
@pytest.mark.parametrize("noise", NOISES, ids=lambda s: f"sc{s.sigma_const}-sh{s.shot_coeff}-rin{s.rin_coeff}")
def test_simd_path_equals_portable_path(noise, simd_isa):
    gen = np.random.default_rng(7)
    shapes = [(1, 1, 1), (1, 300, 33), (7, 128, 32), (9, 129, 31), (70, 515, 257), (65, 64, 600), (130, 40, 65)]
    bit_sets = [(8, 8, 8), (2, 2, 2), (4, 6, 3), (8, 8, 14), (5, 8, 16)]
    for i, (m, k, n) in enumerate(shapes):
        for bits in bit_sets:
            rows = int(gen.choice([128, 64, 37, 4, 1, 256]))
            spec = PhotonicGemmSpec(rows=rows, input_bits=bits[0], weight_bits=bits[1], adc_bits=bits[2], noise=noise)
            core, x = _case(gen, m, k, n, spec)
            full_scale = "worst_case" if i % 2 else core.calibrate_full_scale(x) * 0.4  # forces clipping
            seed = int(gen.integers(0, 2**64, dtype=np.uint64))
            kwargs = dict(seed=seed, call_key=i, full_scale=full_scale)
            portable = _call(core, x, isa="portable", **kwargs)
            simd = _call(core, x, isa=simd_isa, threads=2, **kwargs)
            _assert_same(portable, simd)
            if noise.enabled and i % 2 == 0 and m * k > 1:
                assert portable[3] > 0  # the clipping branch really ran


@pytest.mark.parametrize("simd_isa", SIMD_ISAS)
def test_simd_equals_portable_with_caller_scale_and_saturating_inputs(simd_isa):
    gen = np.random.default_rng(3)
    core, x = _case(gen, 33, 300, 70, PhotonicGemmSpec(rows=100, noise=NoiseSpec(1.0, 0.1, 0.0)))
    x[0, :5] = [0.5, -0.5, 1.5, -2.5, 1e30]  # ties at code boundaries and far beyond the clamp
    for x_scale in (1.0, 0.5, 1e-30):
        _assert_same(_call(core, x, isa="portable", x_scale=x_scale), _call(core, x, isa=simd_isa, x_scale=x_scale))


@pytest.mark.parametrize("isa", ["portable", *SIMD_ISAS])
def test_adc_ties_round_half_to_even_like_the_oracle(isa):
    # lsb = 2 partial-sum units: every odd noiseless partial sum is an exact tie y / lsb = k + 1/2.
    gen = np.random.default_rng(21)
    spec = PhotonicGemmSpec(rows=16, input_bits=3, weight_bits=3, adc_bits=5)  # range +-30: some clip
    x = gen.uniform(-1, 1, (30, 50)).astype(np.float32)
    core = PhotonicCore(gen.uniform(-1, 1, (50, 40)).astype(np.float32), spec)
    full_scale = 2.0 * qmax(spec.adc_bits)
    y, _, _, clipped = _call(core, x, isa=isa, full_scale=full_scale)
    ref, stats = core(x, adc_full_scale=full_scale, backend="numpy")
    assert np.array_equal(y, ref) and clipped == stats.clipped > 0
    qx = np.rint(x / np.float32(np.abs(x).max() / 3)).astype(np.int64)
    p = qx[:, :16] @ core.qw[:16].astype(np.int64)
    assert np.count_nonzero(p % 2) > 100  # many ties really occurred


@pytest.mark.parametrize("bits", [(12, 12, 12), (16, 16, 16), (8, 16, 8), (16, 4, 10), (9, 8, 8)])
def test_int16_path_matches_the_numpy_oracle(bits):
    gen = np.random.default_rng(bits[0] * 100 + bits[1])
    spec = PhotonicGemmSpec(rows=256, input_bits=bits[0], weight_bits=bits[1], adc_bits=bits[2],
                            noise=NoiseSpec(2.0, 0.3, 0.001))
    x = gen.standard_normal((21, 700)).astype(np.float32)
    w = gen.standard_normal((700, 45)).astype(np.float32)
    x[0] = np.abs(x).max()  # row 0 x column 0 at full scale: partial sums of 256 * qmax_x * qmax_w
    w[:, 0] = 1.0
    core = PhotonicCore(w, spec)
    if bits[:2] == (16, 16):
        assert core.calibrate_full_scale(x) > 2**31  # the int64 tile sum really is needed
    ref, ref_stats = core(x, seed=11, backend="numpy")
    y, stats = core(x, seed=11, backend="cpp")
    assert np.array_equal(y, ref)
    assert stats.clipped == ref_stats.clipped


def test_env_var_forces_portable_path_and_bits_do_not_change(monkeypatch):
    gen = np.random.default_rng(5)
    core, x = _case(gen, 40, 260, 50, PhotonicGemmSpec(noise=NoiseSpec(1.0, 0.5, 0.01)))
    ref = core(x, seed=2, backend="numpy").out
    monkeypatch.setenv("ADEPT_ISA", "portable")
    assert get_backend("cpp").isa() == "portable"
    assert np.array_equal(core(x, seed=2, backend="cpp").out, ref)
    monkeypatch.setenv("ADEPT_ISA", "avx512")
    with pytest.raises(ValueError, match="ADEPT_ISA"):
        core(x, backend="cpp")


@pytest.mark.parametrize("isa", ["portable", *SIMD_ISAS])
def test_thread_count_does_not_change_bits(isa):
    gen = np.random.default_rng(9)
    core, x = _case(gen, 200, 300, 530, PhotonicGemmSpec(rows=64, noise=NoiseSpec(1.0, 0.5, 0.01)))
    one = _call(core, x, isa=isa, threads=1, seed=4)
    for threads in (2, 3, 64):
        _assert_same(one, _call(core, x, isa=isa, threads=threads, seed=4))


@pytest.mark.parametrize("isa", ["portable", *SIMD_ISAS])
def test_worker_pool_does_not_change_bits(isa):
    gen = np.random.default_rng(10)
    core, x = _case(gen, 150, 260, 300, PhotonicGemmSpec(rows=64, noise=NoiseSpec(1.0, 0.5, 0.01)))
    one = _call(core, x, isa=isa, threads=1, seed=8)
    pool = native.WorkerPool(3)
    assert pool.size == 3
    for threads in (1, 2, 3, 5):  # 5 > pool size: the pool grows to the call's team
        _assert_same(one, _call(core, x, isa=isa, threads=threads, seed=8, pool=pool))
    assert pool.size == 5
    for bad in (0, 257):
        with pytest.raises(ValueError, match=r"a WorkerPool needs threads in \[1, 256\]"):
            native.WorkerPool(bad)


@pytest.mark.parametrize("spin_us", [0, 1, native.WorkerPool.default_spin_us, native.WorkerPool.max_spin_us])
def test_worker_pool_spin_time_does_not_change_bits(spin_us):
    # Calls spaced by more than the spin (threads asleep) and by less (threads polling) give the same bits.
    gen = np.random.default_rng(11)
    core, x = _case(gen, 150, 260, 300, PhotonicGemmSpec(rows=64, noise=NoiseSpec(1.0, 0.5, 0.01)))
    one = _call(core, x, threads=1, seed=8)
    pool = native.WorkerPool(2, spin_us)
    assert pool.spin_us == spin_us
    for gap_s in (0.0, 0.002, 0.0):
        time.sleep(gap_s)
        _assert_same(one, _call(core, x, threads=2, seed=8, pool=pool))
    started = time.monotonic()
    del pool  # a polling thread must notice the stop at once, not at the end of its spin
    gc.collect()
    assert time.monotonic() - started < 0.5


@pytest.mark.parametrize("bad", [-1, native.WorkerPool.max_spin_us + 1])
def test_worker_pool_spin_time_is_bounded(bad):
    with pytest.raises(ValueError, match=r"a WorkerPool needs spin_us in \[0, 1000000\], got " + str(bad)):
        native.WorkerPool(2, bad)


def test_pool_spin_time_comes_from_the_environment(monkeypatch):
    from adept_core import ConfigError
    from adept_core.kernels.cpp_backend import CppBackend, pool_spin_us

    monkeypatch.delenv("ADEPT_POOL_SPIN_US", raising=False)
    assert pool_spin_us() == native.WorkerPool.default_spin_us == 50_000
    monkeypatch.setenv("ADEPT_POOL_SPIN_US", "0")
    assert CppBackend()._pool(2).spin_us == 0
    for bad in ("-1", "1000001", "fast", "1e3", ""):
        monkeypatch.setenv("ADEPT_POOL_SPIN_US", bad)
        with pytest.raises(ConfigError, match=r"ADEPT_POOL_SPIN_US must be an integer number of microseconds "
                                              r"in \[0, 1000000\], got " + repr(bad)):
            pool_spin_us()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_worker_pool_survives_fork():
    # A forked child has none of the pool's threads: calls must fall back to their own threads,
    # and destroying the pool must neither hang nor crash.
    gen = np.random.default_rng(12)
    core, x = _case(gen, 100, 200, 70, PhotonicGemmSpec(noise=NoiseSpec(1.0, 0.5, 0.01)))
    pool = native.WorkerPool(2)
    ref = _call(core, x, threads=2, pool=pool)
    pid = os.fork()
    if pid == 0:  # child: report through the exit status only
        ok = False
        try:
            ok = np.array_equal(_call(core, x, threads=2, pool=pool)[0], ref[0])
            del pool
            gc.collect()
        finally:
            os._exit(0 if ok else 1)
    deadline = time.monotonic() + 60
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("forked child hung using or destroying the worker pool")
        time.sleep(0.01)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    _assert_same(ref, _call(core, x, threads=2, pool=pool))


def test_two_python_threads_at_once_equal_sequential_calls():
    gen = np.random.default_rng(13)
    core, _ = _case(gen, 1, 512, 384, PhotonicGemmSpec(noise=NoiseSpec(1.0, 0.5, 0.01)))
    xs = [gen.standard_normal((96, 512)).astype(np.float32) for _ in range(4)]
    # threads=2: the calls share the backend's worker pool; whoever finds it busy starts threads.
    sequential = [core(x, seed=i, backend="cpp", threads=2).out for i, x in enumerate(xs)]
    results: dict[int, np.ndarray] = {}
    barrier = threading.Barrier(2)

    def worker(ids):
        barrier.wait()
        for _ in range(3):
            for i in ids:
                results[i] = core(xs[i], seed=i, backend="cpp", threads=2).out

    threads = [threading.Thread(target=worker, args=(ids,)) for ids in ((0, 1), (2, 3))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, y in enumerate(sequential):
        assert np.array_equal(results[i], y)


def test_call_releases_the_gil():
    # While one thread is inside a long kernel call, a pure-Python thread must keep running.
    # With the GIL held it could only run around the call: until the caller asks for the GIL
    # back, one switch interval at most, just after `start` or just before `end`.
    gen = np.random.default_rng(17)
    core, x = _case(gen, 2048, 2048, 512, PhotonicGemmSpec(noise=NoiseSpec(1.0, 0.5, 0.01)))
    args = _args(core, x, threads=1)  # packing (which also releases the GIL) stays outside the window
    stamps: list[float] = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            stamps.append(time.perf_counter())

    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    t = threading.Thread(target=ticker)
    t.start()
    try:
        time.sleep(0.01)
        start = time.perf_counter()
        native.gemm(*args)
        end = time.perf_counter()
    finally:
        stop.set()
        t.join()
        sys.setswitchinterval(interval)
    margin = 0.004  # eight switch intervals
    assert end - start > 4 * margin, "call too short to tell"
    inside = [s for s in stamps if start + margin < s < end - margin]
    assert inside, "no Python bytecode ran while the kernel was running: the GIL was held"


class TestRawBindingRejectsBadInput:
    """Every malformed argument raises a Python exception naming it; none crashes."""

    @pytest.fixture()
    def parts(self):
        gen = np.random.default_rng(1)
        core, x = _case(gen, 5, 40, 6, PhotonicGemmSpec(rows=16, noise=NoiseSpec(1.0)))
        packed = native.pack_weights(core.qw, 16, False)
        spec = native.GemmSpec()
        spec.rows = 16
        spec.noise.sigma_const = 1.0
        args = dict(packed=packed, x=x, spec=spec, x_scale=0.0, lsb=np.ones(6), w_scale=core.w_scale,
                    base_key=1, normal_table=rng.normal_table(), threads=1, isa="auto")
        return core, args

    def test_good_arguments_work(self, parts):
        _, args = parts
        y, amax, sx, clipped = native.gemm(**args)
        assert y.shape == (5, 6) and y.dtype == np.float32 and amax > 0 and sx > 0 and clipped >= 0

    @pytest.mark.parametrize("name, value, match", [
        ("x", "float64", "dtype float32"),
        ("x", "1d", "2-D"),
        ("x", "noncontig", "C-contiguous"),
        ("x", "wrong_k", "x has 39 columns but the weights were programmed for K=40"),
        ("lsb", np.ones(6, np.float32), "dtype float64"),
        ("lsb", np.ones(5), "length 6"),
        ("lsb", np.zeros(6), "lsb must be finite and > 0"),
        ("w_scale", np.ones(7, np.float32), "length 6"),
        ("normal_table", np.ones(100, np.float32), "length 65536"),
        ("threads", 0, r"threads must be in \[1, 256\], got 0"),
        ("isa", "sse9", "isa must be"),
        ("x_scale", float("nan"), "x_scale"),
        ("x_scale", -1.0, "x_scale"),
    ])
    def test_bad_argument(self, parts, name, value, match):
        _, args = parts
        x = args["x"]
        value = {"float64": x.astype(np.float64), "1d": x[0], "noncontig": np.asfortranarray(x),
                 "wrong_k": x[:, :39].copy()}.get(value, value) if isinstance(value, str) and name == "x" else value
        args[name] = value
        with pytest.raises((TypeError, ValueError), match=match):
            native.gemm(**args)

    @pytest.mark.parametrize("field, value, match", [
        ("rows", 32, r"plan rows \(32\) differ from the packed weights' rows \(16\)"),
        ("input_bits", 1, r"input_bits must be in \[2, 16\], got 1"),
        ("input_bits", 17, r"input_bits must be in \[2, 16\], got 17"),
        ("adc_bits", 0, r"adc_bits must be in \[2, 16\], got 0"),
        ("input_bits", 12, "wide"),
    ])
    def test_bad_spec(self, parts, field, value, match):
        _, args = parts
        setattr(args["spec"], field, value)
        with pytest.raises(ValueError, match=match):
            native.gemm(**args)

    @pytest.mark.parametrize("field", ["sigma_const", "shot_coeff", "rin_coeff"])
    def test_bad_noise(self, parts, field):
        _, args = parts
        setattr(args["spec"].noise, field, -0.5)
        with pytest.raises(ValueError, match=rf"noise.{field} must be finite and >= 0"):
            native.gemm(**args)

    def test_non_finite_input_returns_early_without_casting(self, parts):
        _, args = parts
        for bad in (np.nan, np.inf, -np.inf):
            x = args["x"].copy()
            x[3, 7] = bad
            args["x"] = x
            for isa in LOCAL_ISAS:
                args["isa"] = isa
                _, amax, _, _ = native.gemm(**args)
                assert not np.isfinite(amax)
                assert np.isnan(amax) == np.isnan(bad)

    def test_wrong_object_types(self, parts):
        _, args = parts
        with pytest.raises(TypeError):
            native.gemm(**{**args, "packed": np.zeros((40, 6), np.int8)})
        with pytest.raises(TypeError):
            native.gemm(**{**args, "spec": PhotonicGemmSpec()})
        with pytest.raises(TypeError):
            native.gemm(**{**args, "base_key": -1})
        with pytest.raises(TypeError):
            native.gemm(**{**args, "pool": 2})
        spec = native.GemmSpec()
        with pytest.raises(TypeError):
            spec.rows = 16.5

    def test_bad_weights(self):
        with pytest.raises(TypeError, match="qw must have dtype"):
            native.pack_weights(np.ones((4, 4), np.float32), 4, False)
        with pytest.raises(TypeError, match="qw must have dtype"):
            native.pack_weights(np.ones((4, 4), np.int32), 4, False)
        with pytest.raises(ValueError, match="2-D"):
            native.pack_weights(np.ones(4, np.int8), 4, False)
        with pytest.raises(ValueError, match="C-contiguous"):
            native.pack_weights(np.ones((4, 6), np.int8)[:, ::2], 4, False)
        with pytest.raises(ValueError, match="wide"):
            native.pack_weights(np.ones((4, 4), np.int16), 4, False)
        with pytest.raises(ValueError, match=r"rows must be in \[1, 4096\], got 0"):
            native.pack_weights(np.ones((4, 4), np.int8), 0, False)

    def test_requesting_missing_isa_is_an_error(self):
        # auto: AVX-512 VNNI where present, else AVX2, else portable
        assert native.resolve_isa("auto") == ("avx512_vnni" if HAS_AVX512 else "avx2" if HAS_AVX2 else "portable")
        if not HAS_AVX2:
            with pytest.raises(ValueError, match="AVX2"):
                native.resolve_isa("avx2")
        if HAS_AVX512:
            pass
        else:
            with pytest.raises(ValueError, match="AVX-512"):
                native.resolve_isa("avx512_vnni")


@pytest.mark.parametrize("bad", [None, np.nan, np.inf, -np.inf])
def test_abfp_reports_max_abs_x_and_stops_on_non_finite_input(bad):
    """abfp takes max|x| from its per-(row, tile) scales on AVX-512: same value, same early return."""
    gen = np.random.default_rng(7)
    spec = PhotonicGemmSpec(rows=16, noise=NoiseSpec(1.0), scaling="abfp", analog_gain=2.0)
    core, x = _case(gen, 70, 40, 6, spec)  # 70 rows: three quantization chunks of 32
    if bad is not None:
        x[65, 37] = bad  # in the last chunk and the last (short) tile
    cspec = native.GemmSpec()
    cspec.rows, cspec.scaling, cspec.analog_gain = 16, "abfp", 2.0
    cspec.noise.sigma_const = 1.0
    for isa in LOCAL_ISAS:
        _, amax, _, _ = native.gemm(native.pack_weights(core.qw, 16, False), x, cspec, 0.0, np.ones(6), core.w_scale.reshape(-1),
                                    1, rng.normal_table(), 1, isa)
        if bad is None:
            assert amax == np.abs(x).max()
        else:
            assert not np.isfinite(amax)
            assert np.isnan(amax) == np.isnan(bad)


def test_int8_weight_code_minus_128_is_refused():
    """-128 has no int8 magnitude for the dual-rail light; the quantizer never makes it (qmax 127)."""
    qw = np.zeros((8, 3), np.int8)
    qw[5, 1] = -128
    with pytest.raises(ValueError, match=r"int8 weight codes must be in \[-127, 127\], got -128"):
        native.pack_weights(qw, 4, False)
    native.pack_weights(qw, 4, True)  # the int16 path holds it
    qw[5, 1] = -127
    native.pack_weights(qw, 4, False)


MODE_SPECS = {  # the issue-10 modes, each with a clipping ADC in some cases
    "abfp": dict(scaling="abfp", analog_gain=2.0, noise=NoiseSpec(1.5, 0.4, 0.01)),
    "abfp-g8-quiet": dict(scaling="abfp", analog_gain=8.0),
    "dual_rail": dict(noise=NoiseSpec(1.5, 0.4, 0.01, detection="dual_rail")),
    "rin-laser": dict(noise=NoiseSpec(1.5, 0.4, 0.01, rin_correlation="laser")),
    "abfp-dual-laser": dict(scaling="abfp", analog_gain=4.0,
                            noise=NoiseSpec(1.5, 0.4, 0.01, detection="dual_rail", rin_correlation="laser")),
}


@pytest.mark.parametrize("simd_isa", SIMD_ISAS)
@pytest.mark.parametrize("mode", list(MODE_SPECS))
def test_simd_modes_equal_portable_path(mode, simd_isa):
    """abfp / dual rail / laser RIN: the SIMD body equals the portable one, bits and clip counts
    (the portable one equals the NumPy oracle: tests/test_kernel_abfp.py, test_kernel_noise_modes.py)."""
    gen = np.random.default_rng(len(mode))
    shapes = [(1, 1, 1), (1, 300, 33), (9, 129, 31), (70, 515, 257), (130, 40, 65), (8, 4, 8)]
    for i, (m, k, n) in enumerate(shapes):
        for bits in [(8, 8, 8), (2, 2, 2), (4, 6, 3), (8, 8, 14)]:
            rows = int(gen.choice([128, 64, 37, 4, 1, 256]))
            spec = PhotonicGemmSpec(rows=rows, input_bits=bits[0], weight_bits=bits[1], adc_bits=bits[2],
                                    **MODE_SPECS[mode])
            core, x = _case(gen, m, k, n, spec)
            kwargs = dict(seed=int(gen.integers(0, 2**63)), call_key=i)
            portable = _call(core, x, isa="portable", **kwargs)
            _assert_same(portable, _call(core, x, isa=simd_isa, threads=2, **kwargs))
