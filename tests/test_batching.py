"""Batches that fit: a large batch runs as near-equal pieces whose activations stay in SRAM."""

from __future__ import annotations

import numpy as np
import pytest

from adept_core.energy.evaluate import evaluate, evaluate_many
from adept_core.errors import ConfigError
from adept_core.graph import zoo
from adept_core.hardware import load_config
from adept_core.schedule import schedule
from adept_core.schedule.batching import piece_sizes, schedule_batched, zoo_rebuilder
from adept_core.schedule.params import cost_params
from cost_graphs import gemm_graph, systolic_params

BATCHES = (1, 8, 64, 256)


@pytest.mark.parametrize("batch,pieces", [(1, 1), (7, 1), (7, 7), (64, 3), (256, 17), (10, 4)])
def test_pieces_are_near_equal_and_cover_the_batch(batch, pieces):
    sizes = piece_sizes(batch, pieces)
    assert len(sizes) == pieces and sum(sizes) == batch
    assert max(sizes) - min(sizes) <= 1 and list(sizes) == sorted(sizes, reverse=True)


@pytest.mark.parametrize("batch,pieces", [(0, 1), (4, 0), (4, 5), (True, 1), (4, 1.0)])
def test_impossible_splits_are_refused(batch, pieces):
    with pytest.raises(ConfigError, match="batch|pieces"):
        piece_sizes(batch, pieces)


@pytest.mark.parametrize("preset", ["systolic", "adept"])
@pytest.mark.parametrize("workload", ["resnet50", "bert-large"])
def test_throughput_never_falls_as_the_batch_grows(workload, preset):
    rates = [evaluate(zoo.build(workload, batch=b), preset, b).inferences_per_s for b in BATCHES]
    assert all(later >= earlier * (1 - 1e-12) for earlier, later in zip(rates, rates[1:])), rates


def _spill_bytes(s) -> np.ndarray:
    return s.total("dram_bytes") - s.total("dram_weight_bytes")


def test_resnet50_on_the_systolic_array_splits_into_pieces_that_fit():
    params = cost_params(load_config("systolic"))
    graph = zoo.build("resnet50", batch=256)
    assert _spill_bytes(schedule(graph, params))[0] > 0  # unsplit, the activations spill
    run = schedule_batched(graph, params, 256)
    sizes = run.pieces[0]
    assert len(sizes) > 1 and sum(sizes) == 256 and max(sizes) - min(sizes) <= 1
    assert _spill_bytes(run.schedule)[0] < _spill_bytes(schedule(graph, params))[0] / 10
    # The run is exactly the sum of its pieces, each scheduled on its own.
    parts = [schedule(zoo.build("resnet50", batch=b), params) for b in sizes]
    for key in ("latency_s", "engine_macs", "sram_read_bytes", "dram_bytes", "weight_programs"):
        assert run.schedule.total(key)[0] == pytest.approx(sum(p.total(key)[0] for p in parts), rel=1e-12)
    assert run.schedule.total("engine_macs")[0] == run.schedule.digest.photonic_macs


def test_report_records_the_pieces_and_a_batch_that_fits_is_not_split():
    report = evaluate(zoo.build("resnet50", batch=64), "systolic", 64)
    assert len(report.batch_pieces) > 1 and sum(report.batch_pieces) == 64
    assert report.to_dict()["batch_pieces"] == list(report.batch_pieces)
    small = evaluate(zoo.build("resnet50", batch=2), "systolic", 2)
    assert small.batch_pieces == (2,)


def test_a_graph_without_a_rebuilder_runs_unsplit_and_rebuild_is_checked():
    graph = gemm_graph(4096, 512, 512)
    graph.meta["batch"] = 8
    tiny = systolic_params(sram_capacity_bytes=4e6, dram_bandwidth_bytes_per_s=1e8)  # spilling is slow
    assert zoo_rebuilder(graph) is None
    assert schedule_batched(graph, tiny, 8).pieces == ((8,),)
    rebuilt = schedule_batched(graph, tiny, 8, rebuild=lambda b: gemm_graph(512 * b, 512, 512))
    assert len(rebuilt.pieces[0]) > 1
    assert rebuilt.schedule.latency_s[0] < schedule(graph, tiny).latency_s[0]
    with pytest.raises(ConfigError, match="different graph"):
        schedule_batched(graph, tiny, 8, rebuild=lambda b: gemm_graph(512 * b, 512, 512, relu=False))


def test_a_graph_that_only_shares_a_zoo_name_is_not_rebuilt():
    graph = gemm_graph(64, 64, 64)
    graph.name = "resnet50"
    graph.meta["batch"] = 4
    assert zoo_rebuilder(graph) is None


def test_stacked_designs_choose_their_own_split():
    configs = ["systolic", load_config("systolic", {"sram.capacity_mib": 256.0}), "systolic"]
    graph = zoo.build("resnet50", batch=64)
    sweep = evaluate_many(graph, configs)
    for i, cfg in enumerate(configs):
        one = evaluate(graph, cfg)
        assert sweep.batch_pieces[i] == one.batch_pieces
        assert sweep.inferences_per_s[i] == pytest.approx(one.inferences_per_s, rel=1e-12)
    assert sweep.batch_pieces[0] != sweep.batch_pieces[1]
