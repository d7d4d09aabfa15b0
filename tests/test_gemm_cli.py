"""``adept gemm`` runs in-process on a small shape and reports what the issue asks for."""

from __future__ import annotations

import re

import pytest

from adept_core.cli import main
from adept_core.kernels import BACKEND_NAMES


def test_gemm_command_on_a_small_shape(capsys):
    assert main(["gemm", "--m", "5", "--k", "300", "--n", "40", "--repeat", "2", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "M=5 K=300 N=40 on a 128x128 core, 8/8/8-bit" in out
    assert "noise (link budget of adept" in out
    assert f"bit-equal across {', '.join(BACKEND_NAMES)}: yes" in out
    for name in BACKEND_NAMES:
        assert re.search(rf"^  {name}\s+\d+\.\d+\s+\d+\.\d+x\s+\d+$", out, re.M), name
    rel = float(re.search(r"relative error vs float32 matmul \(Frobenius\): (\S+)", out).group(1))
    assert 0.0 < rel < 1.0
    assert re.search(r"clipped ADC conversions: \d+ of 600 ", out)  # 5 * 40 * ceil(300/128)


def test_gemm_command_noiseless_worst_case_never_clips(capsys):
    assert main(["gemm", "--m", "3", "--k", "20", "--n", "7", "--bits", "12", "--no-noise",
                 "--adc-range", "worst_case", "--repeat", "1", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "12/12/12-bit" in out and "noise: off" in out
    assert "clipped ADC conversions: 0 of 21 (0)" in out
    assert "bit-equal across" in out and ": yes" in out


@pytest.mark.parametrize("argv, message", [
    (["--m", "0"], "argument --m: expected a positive integer, got 0"),
    (["--bits", "17"], "argument --bits: bits must be in [2, 16], got 17"),
    (["--seed", "-1"], "argument --seed: expected a non-negative integer, got -1"),
    (["--k", "ten"], "argument --k: expected a positive integer, got 'ten'"),
])
def test_gemm_command_refuses_bad_arguments(capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        main(["gemm", *argv])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
