"""Iso-accuracy search: bisection on a stub metric, unreachable cases, bad input, a tiny real run."""

import math

import pytest

from adept_core.errors import ConfigError
from adept_core.isoaccuracy import (DEFAULT_DESIGNS, Design, iso_accuracy, load_designs, parse_designs, run_search,
                                    search_laser)
from adept_core.isoaccuracy.criteria import check_target


def stub(threshold_mw, ceiling=1.0, spread=0.0):
    # fidelity rises with log laser, saturating at `ceiling`; seed s is `spread * s` worse
    def score(laser_mw, seed):
        return min(ceiling, 0.99 + 0.01 * math.log10(laser_mw / threshold_mw)) - spread * seed
    return score


def test_bisection_brackets_the_threshold_within_the_tolerance():
    r = search_laser(stub(1234.0), 0.99, seeds=(0,), steps=10)
    assert r.reached and r.laser_mw >= 1234.0
    assert r.laser_mw / 1234.0 <= r.tolerance_factor
    assert r.tolerance_factor == pytest.approx(1e8 ** (1 / 1024))


def test_answer_is_monotone_in_the_threshold():
    lasers = [search_laser(stub(t), 0.99, seeds=(0,), steps=8).laser_mw for t in (10.0, 300.0, 9000.0, 2e5)]
    assert lasers == sorted(lasers) and len(set(lasers)) == 4


def test_worst_seed_decides_and_spread_is_reported():
    one = search_laser(stub(1000.0, spread=0.0), 0.99, seeds=(0,), steps=8)
    worst = search_laser(stub(1000.0, spread=0.002), 0.99, seeds=(0, 1, 2), steps=8)
    assert worst.laser_mw > one.laser_mw
    assert worst.fidelity_worst >= 0.99 and worst.fidelity_best - worst.fidelity_worst == pytest.approx(0.004)


def test_rin_ceiling_and_quantization_floor_are_unreachable_with_the_reason():
    r = search_laser(stub(10.0, ceiling=0.98), 0.99, seeds=(0,), noiseless=lambda: 0.995)
    assert not r.reached and r.laser_mw is None and r.reason.startswith("RIN ceiling")
    q = search_laser(stub(10.0, ceiling=0.98), 0.99, seeds=(0,), noiseless=lambda: 0.97)
    assert q.reason.startswith("quantization floor")


def test_waveguide_limit_makes_it_unreachable_and_keeps_the_needed_laser():
    r = search_laser(stub(5000.0), 0.99, seeds=(0,), waveguide=lambda mw: (mw / 100.0, 30.0))
    assert r.status == "unreachable" and r.laser_mw is None and r.needed_laser_mw >= 5000.0
    assert "waveguide power limit" in r.reason
    ok = search_laser(stub(500.0), 0.99, seeds=(0,), waveguide=lambda mw: (mw / 100.0, 30.0))
    assert ok.reached and ok.waveguide_power_mw <= 30.0


def test_floor_passing_is_flagged():
    r = search_laser(stub(1e-3), 0.99, seeds=(0, 1))
    assert r.reached and r.at_floor and r.laser_mw == 1.0


@pytest.mark.parametrize("target", [0, -0.5, 1.01, float("nan"), "0.9", True])
def test_target_outside_0_1_is_refused(target):
    with pytest.raises(ConfigError, match="target"):
        check_target(target)


def test_bad_bracket_and_steps_are_refused():
    with pytest.raises(ConfigError, match="bracket"):
        search_laser(stub(1.0), lo_mw=10.0, hi_mw=1.0)
    with pytest.raises(ConfigError, match="steps"):
        search_laser(stub(1.0), steps=100)


def test_unknown_model_is_refused_before_anything_runs():
    with pytest.raises(ConfigError, match="unknown model 'resnet'"):
        run_search(["resnet"], DEFAULT_DESIGNS[:1])


@pytest.mark.parametrize("data, match", [
    ({}, "at least one"),
    ({"design": [{"name": "a"}], "x": 1}, "unknown top-level"),
    ({"design": [{"name": "a", "gain": 2}]}, r"unknown key\(s\) \['gain'\]"),
    ({"design": [{"adc": "calibrated"}]}, "needs a name"),
    ({"design": [{"name": "a"}, {"name": "a"}]}, "appears twice"),
    ({"design": [{"name": "a b"}]}, "design name"),
    ({"design": [{"name": "a", "adc": "auto"}]}, "adc must be"),
    ({"design": [{"name": "a", "set": {"laser": 1}}]}, "section.key"),
    ({"design": [{"name": "a", "set": {"optics.x": [1]}}]}, "number, boolean or string"),
    ({"design": [{"name": "a", "set": 3}]}, "table"),
])
def test_malformed_design_data_is_refused_by_name(data, match):
    with pytest.raises(ConfigError, match=match):
        parse_designs(data)


def test_design_file_round_trip_and_bad_toml(tmp_path):
    good = tmp_path / "d.toml"
    good.write_text('[[design]]\nname = "x"\nadc = "worst_case"\n[design.set]\n"photonic.scaling" = "abfp"\n')
    assert load_designs(good) == (Design("x", {"photonic.scaling": "abfp"}, "worst_case"),)
    bad = tmp_path / "b.toml"
    bad.write_text("[[design]\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_designs(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        load_designs(tmp_path / "missing.toml")


def test_unknown_config_key_in_a_design_fails_by_name():
    with pytest.raises(ConfigError, match="no_such_key"):
        iso_accuracy("minilm", Design("x", {"photonic.no_such_key": 1}), model_params={"pairs": 1}, steps=0,
                     seeds=(0,))


def test_tiny_real_run_reaches_the_target_without_the_waveguide_limit_and_costs_it():
    d = Design("xbar-g1", {"photonic.weight_array": "crossbar", "optics.detection": "dual_rail",
                           "photonic.scaling": "abfp", "photonic.analog_gain": 1.0,
                           "optics.max_waveguide_power_mw": 1e9})
    r = iso_accuracy("efficientnet-lite0", d, 0.9, seeds=(0,), steps=3, lo_mw=100.0, hi_mw=1e6,
                     model_params={"photos": ["chelsea"]}, workloads=("resnet50",), batches=(1,),
                     baselines=("systolic",))
    assert r.search.reached and 100.0 < r.search.laser_mw < 1e6
    assert r.search.fidelity_worst >= 0.9
    c = r.costs[0]
    assert c["ips_per_w_ratio"] == pytest.approx(c["adept_inferences_per_s_per_w"] / c["baseline_inferences_per_s_per_w"])
    # the probes bracket the answer: a probe below it failed
    assert any(not p.passed and p.laser_mw < r.search.laser_mw for p in r.search.probes)


def _cli(argv):
    from adept_core.cli import main

    return main(argv)


@pytest.mark.parametrize("argv, match", [
    (["--target", "1.5"], "target"), (["--target", "0"], "target"), (["--models", "resnet50"], "unknown model"),
])
def test_cli_refuses_bad_target_and_model(argv, match, capsys):
    with pytest.raises(SystemExit):
        _cli(["isoaccuracy", *argv])
    assert match in capsys.readouterr().err


def test_cli_refuses_a_malformed_design_file(tmp_path, capsys):
    f = tmp_path / "d.toml"
    f.write_text('[[design]]\nname = "x"\nlaser = 3\n')
    assert _cli(["isoaccuracy", "--designs", str(f)]) != 0
    assert "unknown key(s) ['laser']" in capsys.readouterr().err


def test_cli_quick_writes_parquet_and_resumes_without_searching_again(tmp_path, monkeypatch, capsys):
    import pyarrow.parquet as pq

    import adept_core.isoaccuracy.api as api

    out, png = tmp_path / "iso.parquet", tmp_path / "iso.png"
    assert _cli(["isoaccuracy", "--quick", "--out", str(out), "--plot", str(png), "--format", "csv"]) == 0
    table = pq.read_table(out)
    assert {"laser_power_mw", "adept_inferences_per_s_per_w", "ips_per_w_ratio", "reason"} <= set(table.column_names)
    statuses = set(table.column("status").to_pylist())
    assert statuses <= {"reached", "unreachable"}
    for row in table.to_pylist():  # never a best-effort number on an unreachable row
        assert (row["ips_per_w_ratio"] is None) == (row["status"] != "reached")
        assert row["status"] == "reached" or row["reason"]
    assert png.stat().st_size > 0
    first = capsys.readouterr().out

    def boom(*a, **k):
        raise AssertionError("a finished search ran again")

    monkeypatch.setattr(api, "iso_accuracy", boom)
    assert _cli(["isoaccuracy", "--quick", "--out", str(out), "--format", "csv"]) == 0
    assert capsys.readouterr().out == first and pq.read_table(out).num_rows == table.num_rows


@pytest.mark.parametrize("argv, match", [
    (["--iso-accuracy", "resnet50"], "unknown model 'resnet50'"),
    (["--iso-accuracy", "minilm", "--target", "2"], "target must be a number in (0, 1]"),
])
def test_compare_iso_accuracy_refuses_bad_input(argv, match, capsys):
    assert _cli(["compare", *argv]) == 2
    assert match in capsys.readouterr().err


def test_compare_iso_accuracy_unreachable_prints_the_reason_and_no_table(capsys):
    # 2-bit converters: a quantization floor no laser lifts
    argv = ["compare", "--iso-accuracy", "efficientnet-lite0", "--seeds", "1", "--set", "photonic.adc_bits=2"]
    assert _cli(argv) == 1
    captured = capsys.readouterr()
    assert "unreachable: quantization floor" in captured.err and "ratio ADEPT/SA" not in captured.out


def test_dask_client_gives_the_same_rows_as_serial():
    distributed = pytest.importorskip("distributed")
    kw = dict(seeds=(0,), steps=2, lo_mw=100.0, hi_mw=1e6, model_params={"efficientnet-lite0": {"photos": ["coffee"]}},
              workloads=("resnet50",), batches=(1,), baselines=("systolic",))
    designs = [DEFAULT_DESIGNS[3], DEFAULT_DESIGNS[5]]
    serial = run_search(["efficientnet-lite0"], designs, 0.9, **kw)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as c, \
            distributed.Client(c) as client:
        parallel = run_search(["efficientnet-lite0"], designs, 0.9, client=client, **kw)
    key = lambda r: (r["design"], r["workload"])  # noqa: E731
    assert sorted(serial, key=key) == sorted(parallel, key=key)


def test_cli_refuses_a_foreign_results_file_and_workers_with_scheduler(tmp_path, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq

    foreign = tmp_path / "other.parquet"
    pq.write_table(pa.table({"x": [1]}), foreign)
    assert _cli(["isoaccuracy", "--quick", "--out", str(foreign)]) == 2
    assert "not an `adept isoaccuracy` results file" in capsys.readouterr().err
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"\x00\xffnot parquet")
    assert _cli(["isoaccuracy", "--quick", "--out", str(junk)]) == 2
    assert "not readable Parquet" in capsys.readouterr().err
    assert _cli(["isoaccuracy", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "--workers" in capsys.readouterr().err
