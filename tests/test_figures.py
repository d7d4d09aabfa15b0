"""Figures: words and units on axes and legends, fixed colours, print resolution, labels that do not overlap."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.image  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
import pytest  # noqa: E402

from adept_core import figstyle, plot  # noqa: E402
from adept_core.cli import main  # noqa: E402
from adept_core.energy.compare import compare, plot_breakdowns  # noqa: E402

TABLE = pa.table({
    "workload": ["resnet50"] * 4 + ["rnnt"] * 4,
    "photonic.num_cores": [1, 2, 1, 2] * 2,
    "photonic.adc_bits": [6, 6, 8, 8] * 2,
    "optics.laser_power_mw": [1000.0, 3162.3, 10000.0, 31622.8] * 2,
    "inferences_per_s_per_w": [1.0, 2.0, 3.0, 4.0, 0.1, 0.2, 0.3, 0.4],
    "fidelity_top1_agree": [0.1, 0.5, 0.9, 1.0] * 2,
    "error": [""] * 8,
    "point_hash": [f"p{i}" for i in range(8)],  # read_results keeps one row per point
})


@pytest.fixture
def figures(monkeypatch):
    """Keep the figures that would be saved (and still save them), to inspect their axes."""
    kept = []
    real = figstyle.save

    def keep(fig, out):
        kept.append(fig)
        fig.canvas.draw()
        # Text boxes as drawn (closing the figure drops its renderer).
        fig.text_boxes = [[t.get_window_extent(fig.canvas.get_renderer()) for t in ax.texts] for ax in fig.axes]
        real(fig, out)

    monkeypatch.setattr(figstyle, "save", keep)
    monkeypatch.setattr(plot, "_save", keep)
    return kept


@pytest.mark.parametrize("column, words", [
    ("inferences_per_s_per_w", "throughput per watt (inferences/s/W)"),
    ("photonic.num_cores", "photonic cores"),
    ("optics.laser_power_mw", "laser power per core per wavelength (mW)"),
    ("energy_breakdown_laser_j", "laser energy per inference (J)"),
    ("sram.capacity_mib", "capacity (MiB)"),
])
def test_columns_become_words_with_units(column, words):
    assert figstyle.label(column) == words


def test_legend_entries_carry_units():
    assert figstyle.legend_entry("photonic.adc_bits", 8) == "ADC resolution = 8 bits"
    assert figstyle.legend_entry("core_size", 64) == "core 64 x 64"
    assert figstyle.legend_entry("optics.laser_power_mw", 31622.8) == "laser power per core per wavelength = 31,623 mW"


def test_metric_plot_is_300_dpi_and_labelled_in_words(tmp_path, figures):
    out = tmp_path / "m.png"
    plot.plot_metric(TABLE, "photonic.num_cores", "inferences_per_s_per_w", out, color="photonic.adc_bits",
                     where={"workload": "resnet50"})
    ax = figures[0].axes[0]
    assert ax.get_xlabel() == "photonic cores" and ax.get_ylabel() == "throughput per watt (inferences/s/W)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["ADC resolution = 6 bits", "ADC resolution = 8 bits"]
    assert matplotlib.image.imread(out).shape[:2] == (round(4.2 * 300), round(6.4 * 300))


@pytest.mark.parametrize("suffix, magic", [(".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_vector_output_by_suffix(tmp_path, suffix, magic):
    out = tmp_path / f"m{suffix}"
    plot.plot_metric(TABLE, "photonic.num_cores", "inferences_per_s_per_w", out, where={"workload": "rnnt"})
    assert out.read_bytes().startswith(magic)


def test_pareto_labels_are_explained_and_do_not_overlap(tmp_path, figures):
    plot.plot_pareto(TABLE, "fidelity_top1_agree", "inferences_per_s_per_w", tmp_path / "p.png",
                     annotate="optics.laser_power_mw")
    ax = figures[0].axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "labels: laser power per core per wavelength (mW)" in legend
    boxes = figures[0].text_boxes[0]
    assert boxes and not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_crowded_labels_are_left_out_rather_than_overlapped():
    fig, ax = plt.subplots()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    fig.canvas.draw()
    placed = figstyle.annotate_points(ax, [(0.5, 0.5)] * 10, ["a long label"] * 10)
    assert 1 <= placed < 10 and len(ax.texts) == placed
    plt.close(fig)


def test_small_components_fold_into_other():
    folded = figstyle.fold_small({"laser": [93.0, 0.0], "dac": [0.1, 0.5], "adc": [0.2, 0.3], "sram": [6.7, 99.2]})
    assert list(folded) == ["laser", "sram", "other"] and folded["other"] == pytest.approx([0.3, 0.8])


def test_compare_figure_colours_ratios_and_legend(tmp_path, figures):
    rows = compare(["resnet50"], "adept", "systolic")
    plot_breakdowns(rows, tmp_path / "c.png")
    breakdown, efficiency = figures[0].axes[:2]
    names = [t.get_text() for t in breakdown.get_legend().get_texts()]
    assert "other" in names and "dac" not in names  # dac is < 1 % in both bars
    for patch_group, name in zip(breakdown.containers, names):
        expected = matplotlib.colors.to_rgba(figstyle.component_color(name.replace(" ", "_")))
        assert patch_group.patches[0].get_facecolor() == pytest.approx(expected)
    ratio = rows[0].efficiency_ratio
    assert any(f"{ratio:.2g}x SA" in t.get_text() for t in efficiency.texts)
    colours = [p.get_facecolor() for p in efficiency.patches[:2]]
    assert colours[0] == pytest.approx(matplotlib.colors.to_rgba(figstyle.ACCELERATOR_COLORS["adept"]))
    assert set(figstyle.ACCELERATOR_COLORS.values()).isdisjoint(figstyle.COMPONENT_COLORS.values())


def test_plot_command_names_the_filter_and_warns_about_mixing(tmp_path, capsys):
    results = tmp_path / "r.parquet"
    pq.write_table(TABLE, results)
    assert main(["plot", str(results), "--x", "photonic.num_cores", "--y", "inferences_per_s_per_w"]) == 0
    captured = capsys.readouterr()
    assert "mix workload = resnet50, rnnt" in captured.err and "mix photonic.adc_bits = 6, 8" in captured.err
    assert main(["plot", str(results), "--x", "photonic.num_cores", "--y", "inferences_per_s_per_w",
                 "--where", "workload=rnnt", "--color", "photonic.adc_bits"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    named = tmp_path / "r_inferences_per_s_per_w_vs_photonic.num_cores_workload-rnnt.png"
    assert f"wrote {named}" in captured.out and named.exists()
    assert (tmp_path / "r_inferences_per_s_per_w_vs_photonic.num_cores.png").exists()  # the first, not overwritten
