"""Figures draw exactly the published estimates, and write the same files on every run."""

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest

from research_kit.disclosure import DisclosurePolicy, protect_estimates
from research_kit.report.figures import estimate_chart
from research_kit.report.fragments import figure_html


@pytest.fixture
def table():
    est = pd.DataFrame({"indicator": ["a", "b", "c", "d"], "estimate": [0.5, 0.3, 0.4, 0.5],
                        "ci_low": [0.4, 0.2, 0.25, 0.3], "ci_high": [0.6, 0.45, 0.55, 0.7],
                        "n": [200, 300, 40, 10], "n_event": [100, 90, 16, 5], "se": [0.03, 0.02, 0.07, 0.1]})
    pt = protect_estimates(est, DisclosurePolicy(), by=["indicator"])
    assert pt.data["status"].tolist() == ["published", "published", "caution", "primary"]
    return pt


def test_estimate_chart_draws_one_bar_and_one_interval_per_shown_estimate(table):
    fig = estimate_chart(table, label_column="indicator", language="en", title="T")
    ax = fig.axes[0]
    # Rows are drawn from the top: a at y=3, b at 2, c at 1, d (suppressed) at 0.
    bars = {round(p.get_y() + p.get_height() / 2): p for p in ax.patches}
    assert sorted(bars) == [1, 2, 3]
    assert {y: round(p.get_width(), 9) for y, p in bars.items()} == {3: 0.5, 2: 0.3, 1: 0.4}
    assert mcolors.to_hex(bars[1].get_facecolor()) == "#b39ddb"  # caution: light bar
    assert mcolors.to_hex(bars[3].get_facecolor()) == "#6a3d9a"
    segments = [s for coll in ax.collections for s in coll.get_segments()]
    intervals = {round(float(s[0][1])): (round(float(s[0][0]), 9), round(float(s[1][0]), 9)) for s in segments}
    assert intervals == {3: (0.4, 0.6), 2: (0.2, 0.45), 1: (0.25, 0.55)}
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["not shown (too few respondents)"]
    assert all(t.get_position()[1] == 0 for t in ax.texts)


def test_estimate_chart_with_everything_suppressed_draws_no_bar():
    est = pd.DataFrame({"indicator": ["a", "b"], "estimate": [0.5, 0.4], "n": [10, 12], "n_event": [5, 5]})
    pt = protect_estimates(est, DisclosurePolicy(), by=["indicator"])
    fig = estimate_chart(pt, label_column="indicator", language="es")
    assert not fig.axes[0].patches and len(fig.axes[0].texts) == 2


def test_saved_figures_are_the_same_file_on_every_run(table, tmp_path):
    for run in ("one", "two"):
        fig = estimate_chart(table, label_column="indicator", language="es", title="T")
        figure_html(fig, "alt", tmp_path / run, "chart")
    for suffix in (".png", ".svg"):
        first, second = ((tmp_path / run / f"chart{suffix}").read_bytes() for run in ("one", "two"))
        assert first == second, suffix
    svg = (tmp_path / "one" / "chart.svg").read_text(encoding="utf-8")
    assert "<dc:date>" not in svg  # no date: nothing changes from one run to the next
    assert "<text " in svg  # text stays text (editable, searchable)


def test_forest_plot_draws_each_shown_country_once(tmp_path):
    from research_kit.regional.forest import forest_plot

    est = pd.DataFrame({"indicator": ["x"] * 4, "country": ["PRY", "URY", "BOL", "HND"],
                        "estimate": [0.6, 0.3, 0.5, 0.4], "ci_low": [0.5, 0.2, 0.3, 0.3],
                        "ci_high": [0.7, 0.4, 0.7, 0.5], "n": [300, 250, 40, 8], "n_event": [180, 75, 20, 3],
                        "se": [0.03, 0.03, 0.08, 0.1]})
    pt = protect_estimates(est, DisclosurePolicy(), by=["indicator", "country"])
    status = dict(zip(pt.data["country"], pt.data["status"]))
    assert status == {"PRY": "published", "URY": "published", "BOL": "caution", "HND": "primary"}
    fig = forest_plot(pt, None, "x", language="en")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    y_of = {lab: len(labels) - 1 - k for k, lab in enumerate(labels)}
    points = {}
    for line in ax.lines:
        if line.get_marker() in (None, "None", ""):
            continue  # the lines between sub-regional nodes
        for x, y in zip(line.get_xdata(), line.get_ydata()):
            points[int(y)] = (float(x), line.get_marker())
    assert points == {y_of["Paraguay"]: (0.6, "s"), y_of["Uruguay"]: (0.3, "s"), y_of["Bolivia"]: (0.5, "o")}
    segments = {int(s[0][1]): (float(s[0][0]), float(s[1][0])) for c in ax.collections for s in c.get_segments()}
    assert segments == {y_of["Paraguay"]: (0.5, 0.7), y_of["Uruguay"]: (0.2, 0.4), y_of["Bolivia"]: (0.3, 0.7)}
    notes = {int(t.get_position()[1]): t.get_text() for t in ax.texts}
    pooled = {y for lab, y in y_of.items() if lab.endswith(", pooled")}
    assert notes == {y_of["Honduras"]: "not shown (too few respondents)",
                     **{y: "pooled estimate not possible" for y in pooled}}
    assert not np.isnan([p[0] for p in points.values()]).any()


def _texts_outside(fig) -> list[str]:
    """Every piece of text drawn partly outside the figure, after the layout ran."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()  # runs the layout, as saving does
    renderer = canvas.get_renderer()
    box = fig.bbox
    out = []
    for t in fig.findobj(lambda a: hasattr(a, "get_text") and hasattr(a, "get_window_extent")):
        if not t.get_visible() or not t.get_text():
            continue
        e = t.get_window_extent(renderer)
        if e.x0 < box.x0 - 1 or e.x1 > box.x1 + 1 or e.y0 < box.y0 - 1 or e.y1 > box.y1 + 1:
            out.append(t.get_text()[:40])
    return out


LONG = ("Recibió al menos dos servicios de prevención en los últimos tres meses, según lo que declaró en la "
        "encuesta comunitaria")


def test_no_text_runs_off_a_bar_chart(table):
    pt = table
    pt.meta["labels"] = {"indicator": {c: LONG for c in pt.data["indicator"]}}
    for language in ("es", "en", "pt"):
        fig = estimate_chart(pt, label_column="indicator", language=language, title=LONG)
        assert _texts_outside(fig) == [], language


def test_no_text_runs_off_a_forest_plot():
    from research_kit.regional.forest import forest_plot

    est = pd.DataFrame({"indicator": ["x"] * 3, "country": ["PRY", "URY", "HND"], "estimate": [0.6, 0.3, 0.4],
                        "ci_low": [0.5, 0.2, 0.3], "ci_high": [0.7, 0.4, 0.5], "n": [300, 250, 200],
                        "n_event": [180, 75, 80], "se": [0.03, 0.03, 0.03]})
    pt = protect_estimates(est, DisclosurePolicy(), by=["indicator", "country"])
    for language in ("es", "en", "pt"):
        fig = forest_plot(pt, None, "x", language=language, title=LONG)
        assert _texts_outside(fig) == [], language
