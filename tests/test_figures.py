"""Each figure type plots exactly the numbers it claims to (inspected from the artists).

Real data: the rare-earth episode of October 2025 on bundled prices. The placebo figure
is fed a labelled synthetic draw vector (it only draws what it is given).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import TwoSlopeNorm, to_hex
from scipy import stats

from impact import EventStudy, datasets, load_catalog
from impact.events.assets import asset_label
from impact.report.figures import ar_distribution_figure, placebo_figure, price_figure
from impact.report.tables import event_day_table
from impact.study.plots import DIRECTION_COLORS, caar_path_figure, heatmap_figure, heatmap_matrix

ASSETS = ["SOXX", "KWEB", "FXI", "MP", "HG_F"]


@pytest.fixture(scope="module")
def result():
    catalog = load_catalog().filter(start="2025-10-09", end="2025-10-30")
    prices = datasets.load_prices([*ASSETS, "GSPC"])
    return EventStudy(prices, catalog, market="GSPC", assets=ASSETS).fit()


def test_caar_path_lines_and_bands_are_the_result_numbers(result):
    path = result.caar_path(by="direction")
    fig = result.plot_caar(by="direction")
    ax = fig.axes[0]
    lines = {line.get_label().split(" (")[0]: line for line in ax.get_lines() if not line.get_label().startswith("_")}
    assert set(lines) == {"escalation", "de-escalation"}
    for group, line in lines.items():
        expected = path[path["group"] == group]
        np.testing.assert_allclose(line.get_xdata(), expected["rel_day"])
        np.testing.assert_allclose(line.get_ydata(), 100 * expected["caar"], rtol=1e-12)
        assert to_hex(line.get_color()) == DIRECTION_COLORS[group]
    bands = ax.collections
    assert len(bands) == 2
    # The band, computed independently of caar_path: per pair cumulative ARs, mean +/-
    # t_{n-1, 0.975} sd / sqrt(n) across the group's pairs.
    ar = result.ar
    direction = ar["event_id"].map(load_catalog().events.drop_duplicates("event_id").set_index("event_id")["direction"])
    cum = ar.assign(direction=direction).sort_values("rel_day")
    cum["cum"] = cum.groupby(["event_id", "asset"])["ar"].cumsum()
    for band, group in zip(bands, ["escalation", "de-escalation"]):
        expected = path[path["group"] == group]
        block = cum[cum["direction"] == group].pivot_table(index="rel_day", columns=["event_id", "asset"], values="cum")
        n = block.shape[1]
        mean = block.mean(axis=1).to_numpy()
        half = stats.t.ppf(0.975, n - 1) * block.std(axis=1, ddof=1).to_numpy() / np.sqrt(n)
        np.testing.assert_allclose(expected["lower"], mean - half, rtol=1e-10)
        np.testing.assert_allclose(expected["upper"], mean + half, rtol=1e-10)
        assert (expected["n"] == n).all()
        # the band polygon spans [lower, upper] in percent on every day
        verts = np.concatenate([p.vertices for p in band.get_paths()])
        for day, lo, hi in zip(block.index, mean - half, mean + half):
            ys = verts[np.isclose(verts[:, 0], day), 1]
            assert ys.min() == pytest.approx(100 * lo, rel=1e-10)
            assert ys.max() == pytest.approx(100 * hi, rel=1e-10)
    assert ax.get_ylabel() == "CAAR (%)" and "day 0" in ax.get_xlabel()


def test_caar_path_without_groups(result):
    fig = caar_path_figure(result.caar_path())
    (line,) = [ln for ln in fig.axes[0].get_lines() if ln.get_label().startswith("all pairs")]
    np.testing.assert_allclose(line.get_ydata(), 100 * result.aar()["caar"], rtol=1e-10)


def test_heatmap_is_day0_ar_with_colours_centred_at_zero(result):
    fig = result.plot_heatmap()
    ax = fig.axes[0]
    image = ax.images[0]
    ar = result.ar
    day0 = ar[ar["rel_day"] == 0].pivot(index="asset", columns="event_id", values="ar")
    matrix = heatmap_matrix(result)
    assert list(matrix.index) == ASSETS
    np.testing.assert_allclose(np.ma.filled(image.get_array(), np.nan),
                               100 * day0.reindex(index=ASSETS, columns=matrix.columns).to_numpy(), rtol=1e-12)
    norm = image.norm
    assert isinstance(norm, TwoSlopeNorm) and norm.vcenter == 0.0 and norm.vmin == -norm.vmax
    assert image.get_cmap().name == "RdBu"
    # names, not tickers, on the axis (issue 13)
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"{asset_label(a)} ({a})" for a in ASSETS]
    bound = np.nanpercentile(np.abs(100 * matrix.to_numpy(dtype=float)), 98)
    assert norm.vmax == pytest.approx(bound)
    assert fig.axes[1].get_ylabel() == f"Abnormal return (%); colours clipped at \u00b1{bound:.1f}%\ngrey hatched: no data"


def test_heatmap_window_uses_cars(result):
    fig = result.plot_heatmap((-1, 1))
    cars = result.car((-1, 1)).pivot(index="asset", columns="event_id", values="car")
    got = np.ma.filled(fig.axes[0].images[0].get_array(), np.nan)
    np.testing.assert_allclose(got, 100 * cars.reindex(index=ASSETS, columns=heatmap_matrix(result).columns), rtol=1e-12)


def test_heatmap_masks_missing_pairs():
    matrix = pd.DataFrame([[0.01, np.nan], [-0.03, 0.02]], index=["A", "B"], columns=["e1", "e2"])
    image = heatmap_figure(matrix).axes[0].images[0]
    assert image.get_array().mask.tolist() == [[False, True], [False, False]]
    assert image.norm.vmax == pytest.approx(np.percentile([1, 3, 2], 98))


def test_price_chart_markers_sit_on_day0_closes_coloured_by_direction(result):
    prices = datasets.load_prices(["SOXX"]).set_index("date")["close"]
    prices = prices["2025-09-01":"2025-11-30"]
    align = result.alignment[result.alignment["asset"] == "SOXX"].merge(
        load_catalog().events[["event_id", "direction"]], on="event_id")
    marks = align.rename(columns={"day0": "date"})[["date", "direction"]].reset_index(drop=True)
    fig = price_figure(prices, marks, "SOXX", "USD (adjusted)")
    ax = fig.axes[0]
    (line,) = ax.get_lines()
    np.testing.assert_allclose(line.get_ydata(), prices.to_numpy())
    for collection in ax.collections:
        direction = collection.get_gid().removeprefix("events-")
        want = marks[marks["direction"] == direction]
        got_y = np.sort(collection.get_offsets()[:, 1])
        np.testing.assert_allclose(got_y, np.sort(prices.reindex(pd.DatetimeIndex(want["date"])).to_numpy()))
        assert to_hex(collection.get_facecolor()[0]) == DIRECTION_COLORS[direction]
    assert {c.get_gid() for c in ax.collections} == {"events-escalation", "events-de-escalation"}
    assert ax.get_ylabel() == "Close (USD (adjusted))"
    # 2025-10-10 (day 0 of the 10:57 ET post) is marked at SOXX's close that day
    esc = next(c for c in ax.collections if c.get_gid() == "events-escalation")
    assert prices.loc["2025-10-10"] in esc.get_offsets()[:, 1]


def test_ar_distribution_dots_are_day0_ars_by_kind_and_direction(result):
    table = event_day_table(result)
    fig = ar_distribution_figure(table)
    ax_kind, ax_dir = fig.axes
    assert ax_kind.get_xlabel() == "Kind" and ax_dir.get_xlabel() == "Direction"
    for ax, key in ((ax_kind, "kind"), (ax_dir, "direction")):
        for collection in ax.collections:
            category = collection.get_gid().split("=", 1)[1]
            expected = 100 * table.loc[table[key] == category, "ar"].to_numpy()
            np.testing.assert_allclose(np.sort(collection.get_offsets()[:, 1]), np.sort(expected), rtol=1e-12)
        shown = {c.get_gid().split("=", 1)[1] for c in ax.collections}
        assert shown == set(table[key])
    assert "Abnormal return on day 0 (%)" == ax_kind.get_ylabel()


def test_placebo_histogram_and_observed_line():
    # SYNTHETIC draws (a labelled test input, not data): 1000 normal placebo CAARs.
    draws = np.random.default_rng(42).normal(0.0, 0.01, 1000)
    observed = 0.025
    fig = placebo_figure(draws, observed, "CAAR [0,0]")
    ax = fig.axes[0]
    counts = [patch.get_height() for patch in ax.patches]
    assert sum(counts) == 1000
    (vline,) = [ln for ln in ax.get_lines()]
    assert vline.get_xdata()[0] == observed
    p = (np.abs(draws) >= observed).mean()
    assert f"empirical p = {p:.3f}" in vline.get_label()
    assert ax.get_xlabel() == "CAAR [0,0]" and ax.get_ylabel() == "Number of placebo draws"


def test_figures_do_not_touch_pyplot(result):
    """Figures are built on plain Figure objects: pyplot's registry of open figures (which
    would leak memory in a long report run) must be the same before and after."""
    before = plt.get_fignums()
    figs = [result.plot_caar(), result.plot_heatmap(), placebo_figure(np.zeros(3), 0.0, "x")]
    assert plt.get_fignums() == before
    assert len(figs) == 3 and all(len(f.axes) for f in figs)


def test_heatmap_columns_are_labelled_with_event_dates(result):
    ax = result.plot_heatmap().axes[0]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert "USCN-2025-22 (2025-10-10)" in labels and "USCN-2025-24 (2025-10-12)" in labels
    assert len(labels) == result.pairs["event_id"].nunique()


# -- issue 13: figures an analyst can hand on -------------------------------------------------

def test_missing_pairs_are_hatched_not_zero():
    """MP before its 2020 listing has no abnormal returns: the cells are masked (drawn on the
    grey hatched background), never coloured as a zero."""
    catalog = load_catalog().filter(start="2019-12-01", end="2022-12-31")
    prices = datasets.load_prices(["MP", "SOXX", "GSPC"])
    result = EventStudy(prices, catalog, market="GSPC", model="constant_mean", assets=["SOXX", "MP"]).fit()
    fig = result.plot_heatmap()
    ax = fig.axes[0]
    cells = ax.images[0].get_array()
    matrix = heatmap_matrix(result)
    missing = ~np.isfinite(matrix.to_numpy(dtype=float))
    assert missing[list(matrix.index).index("MP")].any()        # events before MP's series
    assert (np.ma.getmaskarray(cells) == missing).all()
    hatched = [p for p in ax.patches if p.get_hatch() == "///"]
    assert len(hatched) == 1 and hatched[0].get_zorder() < ax.images[0].get_zorder()


def test_heatmap_names_the_years_of_many_events(result):
    catalog = load_catalog()
    prices = datasets.load_prices(["SOXX", "GSPC"])
    many = EventStudy(prices, catalog, market="GSPC", model="constant_mean", assets=["SOXX"]).fit()
    fig = many.plot_heatmap()
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"2018", "2019", "2025"} <= texts
    columns = heatmap_matrix(many).columns
    dates = pd.to_datetime(many.events_frame.set_index("event_id").loc[columns, "date"])
    assert dates.is_monotonic_increasing  # columns in time order


def test_caar_paths_as_small_multiples_with_small_groups_left_out(result):
    rng = np.random.default_rng(0)  # SYNTHETIC path table (a labelled test input, not data)
    rows = []
    for g, n in [("a", 30), ("b", 12), ("c", 9), ("d", 7), ("e", 3)]:
        for d in range(-2, 3):
            c = rng.normal()
            rows.append((g, d, c / 100, 0.01, c / 100 - 0.01, c / 100 + 0.01, n))
    path = pd.DataFrame(rows, columns=["group", "rel_day", "caar", "se", "lower", "upper", "n"])
    fig = caar_path_figure(path, "CAAR by kind")
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in panels] == ["a (n=30)", "b (n=12)", "c (n=9)", "d (n=7)"]
    assert any("Left out (fewer than 5 pairs): e (n=3)" in t.get_text() for t in fig.texts)
    few = caar_path_figure(path[path["group"].isin(["a", "b"])])
    assert len([ax for ax in few.axes if ax.get_visible()]) == 1   # up to 3 groups share one panel


def test_price_chart_marks_only_events_inside_the_series():
    prices = datasets.load_prices(["DEXCHUS"]).set_index("date")["close"]
    end = prices.index.max()
    markers = pd.DataFrame({"date": pd.to_datetime(["2025-04-03", end + pd.Timedelta(days=30), "2016-01-04"]),
                            "direction": ["escalation", "escalation", "de-escalation"]})
    fig = price_figure(prices, markers, "DEXCHUS", "CNY per USD", "USD/CNY")
    ax = fig.axes[0]
    dots = [c for c in ax.collections if c.get_gid() and c.get_gid().startswith("events-")]
    offsets = np.concatenate([c.get_offsets() for c in dots])
    assert len(offsets) == 1                                     # the two outside the data are not drawn
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["DEXCHUS", "escalation (1)"]
    assert ax.get_title().startswith("USD/CNY (DEXCHUS)")
