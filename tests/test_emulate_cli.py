"""``adept run``: an ONNX file end to end (fidelity, timings, cost, JSON), inputs from a file, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from adept_core.cli import main

onnx_models = pytest.importorskip("onnx_models")


@pytest.fixture
def cnn_path(tmp_path):
    return onnx_models.save(onnx_models.MODELS["small_cnn"](), tmp_path / "small_cnn.onnx")


def test_run_onnx_file_with_json(cnn_path, tmp_path, capsys):
    out = tmp_path / "run.json"
    assert main(["run", cnn_path, "--seed", "3", "--json", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "relative error" in text and "cosine" in text and "GMAC per run" in text
    data = json.loads(out.read_text())
    n = data["samples"]
    from adept_core.graph.onnx_import import from_onnx

    assert n == next(iter(from_onnx(cnn_path).inputs.values()))[0]  # one synthetic graph batch
    assert f"verdict: fidelity {data['verdict'].upper()} over {n} sample" in text and "in partial-sum units" in text
    assert "argmax agreement with float32" in text  # a classifier: the second rule is stated
    assert data["seed"] == 3 and data["adc"] == "calibrated"
    fid = data["fidelity"]["logits"]
    assert 0 <= fid["rel_error"] < 1 and 0.5 < fid["cosine"] <= 1 and fid["top1_agreement"] is not None
    assert set(data["seconds"]) >= {"gemm", "asic", "glue", "total"}
    assert data["cost"]["macs"] > 0
    # Same seed, same bits: the JSON fidelity repeats exactly.
    again = tmp_path / "again.json"
    assert main(["run", cnn_path, "--seed", "3", "--json", str(again), "--no-cost"]) == 0
    assert json.loads(again.read_text())["fidelity"] == data["fidelity"]


def test_run_with_input_file_streams_samples(cnn_path, tmp_path, capsys):
    model = onnx_models.MODELS["small_cnn"]()
    x = onnx_models.sample_inputs(model, seed=2)["image"]
    npy = tmp_path / "x.npy"
    np.save(npy, np.concatenate([x, x, x[:1]]))  # 5 samples through a batch-2 graph
    assert main(["run", cnn_path, "--input", str(npy), "--no-cost", "--adc", "worst_case"]) == 0
    assert "logits" in capsys.readouterr().out


def test_run_errors_are_one_line(tmp_path, capsys):
    assert main(["run", "no-such-model"]) == 2
    assert "unknown model" in capsys.readouterr().err
    bad = tmp_path / "x.npz"
    np.savez(bad, wrong=np.zeros(3, np.float32))
    path = onnx_models.save(onnx_models.MODELS["small_cnn"](), tmp_path / "m.onnx")
    assert main(["run", path, "--input", str(bad), "--no-cost"]) == 2
    assert "missing" in capsys.readouterr().err


def test_calibration_file_is_written_then_reused(cnn_path, tmp_path):
    cal = tmp_path / "cal.json"
    first, second = tmp_path / "1.json", tmp_path / "2.json"
    assert main(["run", cnn_path, "--calibration", str(cal), "--json", str(first), "--no-cost"]) == 0
    stored = json.loads(cal.read_text())
    assert set(stored) == {"Conv_1/conv", "Conv_5/conv", "Gemm_9/fc"}
    assert main(["run", cnn_path, "--calibration", str(cal), "--json", str(second), "--no-cost"]) == 0
    a, b = json.loads(first.read_text()), json.loads(second.read_text())
    assert a["calibration"] == b["calibration"] == stored
    assert a["fidelity"] == b["fidelity"]


def test_symbolic_batch_taken_from_the_input_file(tmp_path, capsys):
    import onnx

    model = onnx_models.MODELS["small_cnn"]()
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "N"
    path = tmp_path / "dyn.onnx"
    onnx.save(model, path)
    x = onnx_models.sample_inputs(onnx_models.MODELS["small_cnn"](), seed=1)["image"]
    npy = tmp_path / "x.npy"
    np.save(npy, np.concatenate([x, x[:1]]))  # 3 samples, streamed in batches of 1
    assert main(["run", str(path), "--input", str(npy), "--no-cost"]) == 0
    assert "logits" in capsys.readouterr().out


def test_batch_axes_flag_reaches_the_import_and_bad_values_are_one_line(cnn_path, tmp_path, capsys):
    out = tmp_path / "run.json"
    assert main(["run", cnn_path, "--batch-axes", "image=0", "--json", str(out), "--no-progress"]) == 0
    from adept_core.graph.onnx_import import from_onnx

    batch = from_onnx(cnn_path).inputs["image"][0]
    assert json.loads(out.read_text())["cost"]["batch"] == batch  # charged per sample of the named axis
    assert main(["run", cnn_path, "--batch-axes", "image=x", "--no-cost"]) == 2
    assert "--batch-axes expects NAME=AXIS" in capsys.readouterr().err
    assert main(["run", cnn_path, "--batch-axes", "nope=0", "--no-cost"]) == 2
    assert "not a graph input or output" in capsys.readouterr().err


def test_input_data_calibrates_the_adc_and_says_from_what(cnn_path, tmp_path, capsys):
    model = onnx_models.MODELS["small_cnn"]()
    x = 3.0 * onnx_models.sample_inputs(model, seed=2)["image"]  # not N(0, 1): synthetic ranges would be wrong
    npy, held = tmp_path / "x.npy", tmp_path / "held.npy"
    np.save(npy, x)
    np.save(held, 3.0 * onnx_models.sample_inputs(model, seed=5)["image"])
    runs = {}
    for name, extra in (("synthetic", []), ("input", ["--input", str(npy)]),
                        ("held", ["--input", str(npy), "--calibration-input", str(held)])):
        cal = tmp_path / f"{name}.json"
        args = ["run", cnn_path, "--no-cost", "--no-progress", "--calibration", str(cal)]
        assert main(args + extra) == 0
        runs[name] = (capsys.readouterr().out, json.loads(cal.read_text()))
    assert "ADC ranges calibrated on a separate synthetic (seeded random) batch" in runs["synthetic"][0]
    assert "ADC ranges calibrated on the --input samples themselves" in runs["input"][0]
    assert "not held out" in runs["input"][0]
    assert f"ADC ranges calibrated on held-out {held}" in runs["held"][0]
    # The ranges really come from the named data: the 3x input widens the first layer's input range.
    first = "Conv_1/conv"
    assert runs["input"][1][first]["x_absmax"] > runs["synthetic"][1][first]["x_absmax"]
    assert runs["held"][1] != runs["input"][1]
