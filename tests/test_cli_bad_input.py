"""Bad invocations of the `adept` CLI end in one sentence naming the argument, never a traceback (issue 8 #14).

Every case runs in a child Python process. Importing adept takes ~2 s, so the table runs in one child
(``_DRIVER``: each argv through ``adept_core.cli.main`` as ``python -m adept_core`` would, an
uncaught exception printed as the interpreter prints it), and a few cases also run as real
``python -m adept_core`` processes to cover the entry point itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

_DRIVER = r"""
import contextlib, io, json, sys, traceback
from adept_core.cli import main
results = []
for argv in json.loads(sys.argv[1]):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            rc = main(argv)
        except SystemExit as exc:  # argparse usage errors
            rc = exc.code
        except BaseException:
            traceback.print_exc()
            rc = 1
    results.append([rc, err.getvalue()])
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    (d / "spec.toml").write_text('workloads = ["resnet50"]\n[axes]\nbatch = [1]\n')
    (d / "huge.toml").write_text('workloads = ["resnet50"]\n[axes]\nbatch = { from = 1, to = 100000000, step = 1 }\n')
    (d / "typo.toml").write_text('workloads = [{ name = "bert-large", params = { seq_lne = 8 } }]\n')
    (d / "binary.toml").write_bytes(b"\x00\xff\xfe\x80 not text")
    (d / "notjson.json").write_text("not json {")
    (d / "wrong.json").write_text('{"layer": [1, 2]}')
    (d / "notnpz.npz").write_text("hello")
    (d / "adir").mkdir()
    return d


def _cases(d) -> list[tuple[list[str], str]]:
    """(argv, text the error must contain: the argument or the file it is about)."""
    missing = str(d / "no" / "such" / "dir" / "x")
    return [
        (["perf", "resnet50", "--json", missing + ".json"], "--json"),
        (["perf", "resnet50", "--json", str(d / "adir")], "--json"),
        (["compare", "--plot", missing + ".png"], "--plot"),
        (["plot", str(d / "r.parquet"), "--x", "batch", "--y", "latency_s", "--out", missing + ".png"], "--out"),
        (["sweep", str(d / "spec.toml"), "--workers", "0", "--out", str(d / "adir")], "--out"),
        (["sweep", str(d / "spec.toml"), "--scheduler", "notanaddress"], "notanaddress"),
        (["sweep", str(d / "spec.toml"), "--scheduler", "tcp://127.0.0.1:1"], "tcp://127.0.0.1:1"),
        (["sweep", str(d / "huge.toml"), "--workers", "0", "--out", str(d / "h.parquet")], "100,000,000 points"),
        (["sweep", str(d / "typo.toml"), "--workers", "0", "--out", str(d / "t.parquet")], "seq_lne"),
        (["sweep", str(d / "spec.toml"), "--max-points", "0"], "--max-points"),
        (["sweep", str(d / "binary.toml")], "binary.toml"),
        (["linkbudget", "--config", str(d / "binary.toml")], "binary.toml"),
        (["run", "resnet50", "--no-cost", "--calibration", str(d / "notjson.json")], "--calibration"),
        (["run", "resnet50", "--no-cost", "--calibration", str(d / "wrong.json")], "--calibration"),
        (["run", "resnet50", "--no-cost", "--calibration", missing + ".json"], "--calibration"),
        (["run", "resnet50", "--seed", "-1"], "--seed"),
        (["fidelity", "--seed", "-1"], "--seed"),
        (["run", "resnet50", "--no-cost", "--input", str(d / "notnpz.npz")], "notnpz.npz"),
        (["gemm", "--m", "100000000", "--k", "100000", "--n", "10"], "--m 100000000"),
        (["linkbudget", "--set", "optics.mzi_insertion_loss_db=1e6"], "optics.mzi_insertion_loss_db"),
        (["perf", "resnet50", "--set", "sram.capacity_mib=1e308"], "sram.capacity_mib"),
        (["linkbudget", "--config", "adept-svd-mesh", "--set", "optics.mzi_insertion_loss_db=99"], "MZI"),
        (["linkbudget", "--bits", "0"], "--bits"),
        (["linkbudget", "--bits", "-5"], "--bits"),
        (["perf", "resnet50", "--top", "-1"], "--top"),
        (["perf", "resnet50", "--batch", "0"], "--batch"),
    ]


def _env() -> dict[str, str]:
    # An unreachable scheduler is given up after 1 s instead of Dask's 30.
    return {**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "1s"}


def _check(argv, needle, rc, err):
    assert rc not in (0, None), f"{argv}: exit code {rc}"
    assert "Traceback" not in err, f"{argv}:\n{err}"
    last = err.strip().splitlines()[-1] if err.strip() else ""
    assert last.startswith("adept "), f"{argv}: last line {last!r}"
    assert needle in last, f"{argv}: {needle!r} not in {last!r}"


def test_every_bad_invocation_ends_in_one_sentence(files):
    cases = _cases(files)
    proc = subprocess.run([sys.executable, "-c", _DRIVER, json.dumps([argv for argv, _ in cases])],
                          capture_output=True, text=True, env=_env(), cwd=files, timeout=600)
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    failures = []
    for (argv, needle), (rc, err) in zip(cases, results, strict=True):
        try:
            _check(argv, needle, rc, err)
        except AssertionError as exc:  # report every failing case, not just the first
            failures.append(str(exc).splitlines()[0][:300])
    assert not failures, f"{len(failures)} of {len(cases)} cases:\n" + "\n".join(failures)
    usage = {tuple(argv): rc for (argv, _), (rc, _) in zip(cases, results)}
    assert usage[("linkbudget", "--bits", "0")] == 2 and usage[("perf", "resnet50", "--top", "-1")] == 2


@pytest.mark.parametrize("index", [0, 15])  # an AdeptError and an argparse usage error
def test_the_entry_point_itself(files, index):
    argv, needle = _cases(files)[index]
    proc = subprocess.run([sys.executable, "-m", "adept_core", *argv], capture_output=True, text=True,
                          env=_env(), cwd=files, timeout=300)
    _check(argv, needle, proc.returncode, proc.stderr)
    assert proc.returncode == 2
