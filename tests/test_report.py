"""The report a spec produces: its files, its numbers and its safety.

One real report (rare_earths_2025, bundled prices) is rendered once per session and
shared with test_browser.py; a one-asset report with a hostile catalog title checks
escaping. Numbers are checked against the bundled closes computed here by hand.
"""
from __future__ import annotations

import atexit
import contextlib
import functools
import re
import shutil
import socket
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from impact import __version__, datasets
from impact.data import quality
from impact.inference import placebo
from impact.report.build import _Writer, escalation_weights, run_spec, safe_name, write_report
from impact.report.spec import load_spec
from impact.resources import default_catalog_path
from impact.study.statistics import significance_stars

HOSTILE = "<script>alert('x')</script> & <b>bold</b>"


def _scratch() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="impact-report-test-"))
    atexit.register(shutil.rmtree, folder, True)
    return folder


@contextlib.contextmanager
def offline():
    """Any attempt to open a network connection fails loudly while rendering."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access while rendering a report: {args!r}")

    saved = socket.socket.connect, socket.create_connection
    socket.socket.connect, socket.create_connection = refuse, refuse
    try:
        yield
    finally:
        socket.socket.connect, socket.create_connection = saved


@functools.lru_cache(maxsize=1)
def rare_earths_report() -> Path:
    """The bundled rare_earths_2025 report, rendered once per test session, offline."""
    with offline():
        return write_report(load_spec("rare_earths_2025"), _scratch()).folder


@functools.lru_cache(maxsize=1)
def rare_earths_result():
    """The fitted rare_earths_2025 study (tests only read it)."""
    return run_spec(load_spec("rare_earths_2025"))


@functools.lru_cache(maxsize=1)
def hostile_result():
    return run_spec(load_spec(str(hostile_report().parent.parent / "hostile.yaml")))


@functools.lru_cache(maxsize=1)
def hostile_report() -> Path:
    """A one-asset report whose catalog carries HTML in a title and a note."""
    root = _scratch()
    rows = pd.read_csv(default_catalog_path(), dtype=str, keep_default_na=False)
    rows = rows[rows["event_id"].isin(["USCN-2025-22", "USCN-2025-24"])].copy()
    rows.loc[rows["event_id"] == "USCN-2025-22", "title"] = HOSTILE
    rows.loc[rows["event_id"] == "USCN-2025-24", "notes"] = "<img src=x onerror=alert(1)>"
    rows.to_csv(root / "hostile.csv", index=False)
    spec = {"name": "hostile", "title": "Escaping <check>", "catalog": "hostile.csv", "assets": ["SOXX", "ZS=F"],
            "benchmark": "^GSPC", "car_windows": [[0, 0]], "grouping": ["direction"]}
    (root / "hostile.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    return write_report(load_spec(str(root / "hostile.yaml")), root / "out").folder


@pytest.fixture(scope="module")
def folder() -> Path:
    return rare_earths_report()


def _table(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / "tables" / f"{name}.csv")


def test_folder_layout(folder):
    for name in ("index.html", "summary.md", "spec.yaml", "version.txt"):
        assert (folder / name).is_file(), name
    spec = yaml.safe_load((folder / "spec.yaml").read_text(encoding="utf-8"))
    assert spec["name"] == "rare_earths_2025" and spec["impact_version"] == __version__
    assert (folder / "version.txt").read_text().strip() == f"impact {__version__}"
    pngs = sorted(p.stem for p in (folder / "figures").glob("*.png"))
    svgs = sorted(p.stem for p in (folder / "figures").glob("*.svg"))
    assert pngs == svgs
    assert {"caar_path", "heatmap_day0", "ar_distribution", "placebo", "price_SOXX", "price_000001_SS"} <= set(pngs)
    for stem in pngs:
        assert (folder / "figures" / f"{stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert b"<svg" in (folder / "figures" / f"{stem}.svg").read_bytes()[:2000]
    csvs = sorted(p.stem for p in (folder / "tables").glob("*.csv"))
    assert csvs == sorted(p.stem for p in (folder / "tables").glob("*.parquet"))
    for stem in csvs:
        csv, parquet = _table(folder, stem), pd.read_parquet(folder / "tables" / f"{stem}.parquet")
        assert csv.shape == parquet.shape and list(csv.columns) == list(parquet.columns), stem
        for col in csv.select_dtypes("number").columns:
            if pd.api.types.is_numeric_dtype(parquet[col]):
                np.testing.assert_allclose(csv[col].to_numpy(float), parquet[col].to_numpy(float), rtol=1e-9,
                                           err_msg=f"{stem}.{col}")
            else:  # an all-empty text column (e.g. no stars) reads back from CSV as NaN
                assert csv[col].isna().all() and parquet[col].fillna("").eq("").all(), f"{stem}.{col}"
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no temp folder left


def test_html_is_self_contained(folder):
    html = (folder / "index.html").read_text(encoding="utf-8")
    sources = re.findall(r'<img[^>]+src="([^"]+)"', html)
    assert len(sources) == len(list((folder / "figures").glob("*.png")))
    for src in sources:
        assert not src.startswith(("/", "http:", "https:", "file:")) and ".." not in src
        assert (folder / src).is_file()
    assert "<script" not in html and "http://" not in html.split("<h2 id=\"provenance\">")[0]
    for section in ("findings", "caar", "tests", "heatmap", "distribution", "per-event", "per-asset", "prices",
                    "placebo", "quality", "methods", "provenance", "events", "excluded"):
        assert f'id="{section}"' in html, section


def _log_return(symbol: str, day: str) -> float:
    close = datasets.load_prices([symbol]).set_index("date")["close"]
    i = close.index.get_loc(pd.Timestamp(day))
    return float(np.log(close.iloc[i] / close.iloc[i - 1]))


def _simple_return(symbol: str, day: str) -> float:
    return float(np.expm1(_log_return(symbol, day)))


BUNDLE_13_OCT = "USCN-2025-23+USCN-2025-24"


def _headline(folder: Path, start: str) -> str:
    summary = (folder / "summary.md").read_text(encoding="utf-8")
    return next(line for line in summary.splitlines() if line.startswith(start))


def test_rare_earths_shows_the_10_october_drops_and_13_october_rebound(folder):
    """Issues 6 and 10: semiconductors and China equities fell on Fri 2025-10-10 (the 10:57 ET
    post threatening a 'massive' tariff rise) and rebounded on Mon 2025-10-13, the session
    that priced both the 100% threat (after Friday's close) and the Sunday walk-back."""
    day = _table(folder, "event_day")
    html = (folder / "index.html").read_text(encoding="utf-8")

    def row(event, asset):
        r = day[(day["event_id"] == event) & (day["asset"] == asset)]
        assert len(r) == 1, (event, asset)
        return r.iloc[0]

    for asset in ("SOXX", "KWEB", "FXI"):
        drop, rebound = row("USCN-2025-22", asset), row(BUNDLE_13_OCT, asset)
        assert drop["day0"] == "2025-10-10" and rebound["day0"] == "2025-10-13"
        # the table's own return is the bundled closes' simple return, whatever the model's returns
        assert drop["ret_pct"] == pytest.approx(_simple_return(asset, "2025-10-10"), abs=1e-12)
        assert rebound["ret_pct"] == pytest.approx(_simple_return(asset, "2025-10-13"), abs=1e-12)
        assert drop["ret_pct"] < -0.05 and rebound["ret_pct"] > 0.03
        for r in (drop, rebound):  # the same numbers are in the HTML day-0 table
            assert f"{100 * r['ret_pct']:+.2f}%</td>" in html and f"{100 * r['ar_pct']:+.2f}%</td>" in html
    assert row("USCN-2025-22", "SOXX")["ret_pct"] == pytest.approx(-0.0627, abs=5e-4)
    assert row("USCN-2025-22", "KWEB")["ret_pct"] == pytest.approx(-0.0706, abs=5e-4)
    assert row("USCN-2025-22", "GSPC")["ret_pct"] == pytest.approx(-0.0271, abs=5e-5)
    assert row(BUNDLE_13_OCT, "SOXX")["ret_pct"] == pytest.approx(0.0474, abs=5e-4)
    # the index is not regressed on itself: its abnormal return is its move less its own mean
    spx = row("USCN-2025-22", "GSPC")
    assert spx["model"] == "constant_mean" and spx["ar_pct"] < -0.025 and "own mean" in spx["against"]
    assert row("USCN-2025-22", "MP")["model"] == "market" and row("USCN-2025-22", "MP")["benchmark"] == "GSPC"


def test_headline_describes_10_october_as_a_broad_fall(folder):
    """Issue 10 acceptance: computed, not typed — the S&P 500's fall with its rank in its own
    history, and which assets fell and rose, taken from the event-day table."""
    day = _table(folder, "event_day")
    friday = _headline(folder, "- On 2025-10-10")
    assert "day 0 of USCN-2025-22, escalation" in friday and "markets fell broadly" in friday
    spx = day[(day["asset"] == "GSPC") & (day["day0"] == "2025-10-10")].iloc[0]
    assert f"S&P 500 {100 * spx['ret_pct']:+.2f}%, its largest one-day fall since 2025-04-10" in friday
    # the rank is the data's: no S&P 500 session between 2025-04-10 and 2025-10-10 fell as far
    close = datasets.load_prices(["GSPC"]).set_index("date")["adj_close"]
    ret = close.pct_change().loc["2025-04-10":"2025-10-10"]
    assert ret.iloc[0] < spx["ret_pct"] and (ret.iloc[1:-1] > spx["ret_pct"]).all()
    down, up = friday.split("; down: ")[1].split("; up: ")
    for label in ("semiconductors", "China internet", "China large caps", "copper", "soybeans", "wheat", "cotton"):
        assert f"{label} -" in down, label
    assert "VIX +" in up and "gold +" in up
    for asset, label in (("SOXX", "semiconductors"), ("ZS_F", "soybeans"), ("VIX", "VIX")):
        r = day[(day["asset"] == asset) & (day["day0"] == "2025-10-10")].iloc[0]
        assert f"{label} {100 * r['ret_pct']:+.2f}%" in friday
    per_event = _table(folder, "per_event").set_index("event_id")
    threat = per_event.loc["USCN-2025-22"]  # the sign-aligned pooled escalation effect that day
    assert threat["caar_aligned"] < -0.03 and threat["n_hypothesised"] >= 0.9 * threat["n"]
    assert (f"Sign-aligned mean abnormal log return {100 * threat['caar_aligned']:+.2f}%; "
            f"{int(threat['n_hypothesised'])} of {int(threat['n'])} assets moved in the hypothesised direction") in friday


def test_significance_count_is_adjusted_within_each_announcement(folder):
    """Issue 15.4: the report says which correction applies. The day-0 p-values of the assets
    priced by one announcement (or bundle) form a family; Holm and Benjamini-Hochberg counts
    recomputed with statsmodels from the event-day table."""
    from statsmodels.stats.multitest import multipletests

    day = _table(folder, "event_day")
    raw = int((day["p_value"] < 0.05).sum())
    counts = {m: sum(int((multipletests(g["p_value"].to_numpy(), method=m)[1] < 0.05).sum())
                     for _, g in day.groupby("event_id")) for m in ("holm", "fdr_bh")}
    assert counts["holm"] <= counts["fdr_bh"] <= raw and counts["holm"] < raw
    line = _headline(folder, f"- {raw} of {len(day)} day-0 abnormal returns")
    assert (f"adjusted within each announcement's assets, {counts['holm']} stay significant under Holm's "
            f"family-wise control and {counts['fdr_bh']} under Benjamini-Hochberg's false-discovery rate") in line


def test_headline_pooled_effect_names_the_date_clustered_bootstrap(folder):
    """The spec asks for the bootstrap: the headline's pooled effect per direction carries the
    date-clustered p from the bootstrap table (a handful of dates, however many assets)."""
    boot = _table(folder, "bootstrap")
    line = _headline(folder, "- Sign-aligned mean abnormal")
    for direction in ("escalation", "de-escalation"):
        row = boot[(boot["direction"] == direction) & (boot["cluster"] == "date")].iloc[0]
        assert row["clusters"] <= 4
        assert f"date-clustered wild bootstrap p = {row['p_value']:.3f} over {int(row['clusters'])} dates" in line


def test_13_october_rebound_is_the_bundles_not_the_tariff_threats(folder):
    """Issue 10 acceptance: the 13 October move belongs to the bundle of USCN-2025-23 (the 100%
    threat) and USCN-2025-24 (the walk-back); no table or sentence credits it to one of them."""
    monday = _headline(folder, "- On 2025-10-13")
    assert "day 0 of the bundle USCN-2025-23 + USCN-2025-24" in monday and "mixed" in monday
    assert "the move is the bundle's, not any one announcement's" in monday
    summary = (folder / "summary.md").read_text(encoding="utf-8")
    assert "USCN-2025-23 (" not in summary and "day 0 of USCN-2025-23" not in summary
    bundles = _table(folder, "bundles")
    spx = bundles[(bundles["asset"] == "GSPC") & (bundles["day0"] == "2025-10-13")].iloc[0]
    assert spx["bundle"] == BUNDLE_13_OCT and spx["direction"] == "mixed" and spx["n_events"] == 2
    # no table shows one session's move under two event ids
    for name in ("event_day", "car_0_0", "car_-1_1", "parameters"):
        table = _table(folder, name)
        assert not {"USCN-2025-23", "USCN-2025-24"} & set(table["event_id"]), name
    day = _table(folder, "event_day")
    assert not day.duplicated(["asset", "day0"]).any()
    ar = _table(folder, "abnormal_returns")
    assert not ar.duplicated(["asset", "date", "rel_day"]).any()
    per_event = _table(folder, "per_event").set_index("event_id")
    assert per_event.loc[BUNDLE_13_OCT, "n"] == 0 and per_event.loc[BUNDLE_13_OCT, "n_left_out"] > 0
    heat = pd.read_csv(folder / "tables" / "per_event.csv")["event_id"]
    assert heat.is_unique


def test_headlines_are_computed_from_the_tables(folder):
    caar = _table(folder, "caar")
    esc = caar[(caar["grouping"] == "by direction, sign-aligned") & (caar["direction"] == "escalation")].iloc[0]
    line = _headline(folder, "- Sign-aligned mean abnormal log return [0,0]")
    assert (f"escalations {100 * esc['caar_aligned']:+.2f}% across {int(esc['n'])} asset-sessions (cross-sectional "
            f"t = {esc['t']:.2f}, p = {esc['p_value']:.3f}") in line
    assert esc["caar_aligned"] < 0 and esc["share_hypothesised"] > 0.8  # risk assets fell on escalations
    assert f"{int(esc['n_hypothesised'])} of {int(esc['n'])} ({100 * esc['share_hypothesised']:.0f}%)" in line
    placebo = _table(folder, "placebo_test").iloc[0]
    assert f"placebo p = {placebo['p_value']:.3f} with shared pseudo-dates" in line
    # grouped by asset class: unsigned (one kind of asset per group)
    by_class = caar[caar["grouping"] == "by asset class"]
    assert "caar" in by_class.columns and by_class["caar"].notna().all()
    html = (folder / "index.html").read_text(encoding="utf-8")
    assert "Sign-aligned mean abnormal log return [0,0]" in html


def test_significance_marks_in_per_event_and_per_asset_tables(folder):
    for name in ("per_event", "per_asset", "event_day", "car_0_0"):
        table = _table(folder, name)
        expected = table["p_value"].map(significance_stars)
        stars = table["stars"].astype(object).where(table["stars"].notna(), "")  # an all-empty column reads as NaN
        assert stars.tolist() == expected.tolist(), name
    day = _table(folder, "event_day")
    assert (day["stars"] == "***").any()  # REMX on 2025-10-13: t = 5.6
    html = (folder / "index.html").read_text(encoding="utf-8")
    remx = day[(day["asset"] == "REMX") & (day["event_id"] == BUNDLE_13_OCT)].iloc[0]
    assert f"<td>{remx['p_value']:.3f} ***</td>" in html


def test_test_battery_section_matches_result_test(folder):
    spec = load_spec("rare_earths_2025")
    tests = _table(folder, "tests")
    assert set(tests["test"]) == set(spec.tests) - {"car_t", "cross_sectional_t"}
    assert set(tests["window"]) == {"[0,0]", "[-1,1]", "[0,2]"}
    result = rare_earths_result().by_bundle()
    patell = result.test("patell", (0, 0)).iloc[0]
    row = tests[(tests["test"] == "patell") & (tests["window"] == "[0,0]")].iloc[0]
    assert row["statistic"] == pytest.approx(patell["statistic"], rel=1e-10)
    assert row["p_value"] == pytest.approx(patell["p_value"], rel=1e-10)


def test_placebo_section_is_the_placebo_test(folder):
    """The report's placebo: the sign-aligned escalation CAAR, one pseudo-date per bundle shared
    by all its assets (impact.inference.placebo's default clusters)."""
    spec = load_spec("rare_earths_2025")
    table = _table(folder, "placebo_test").iloc[0]
    result = rare_earths_result().by_bundle()
    fresh = placebo.placebo_test(result, (0, 0), n_draws=spec.placebo["draws"], seed=spec.placebo["seed"],
                                 weights=escalation_weights(result)).iloc[0]
    assert table["p_value"] == pytest.approx(fresh["p_value"], rel=1e-12)
    assert table["statistic"] == pytest.approx(fresh["statistic"], rel=1e-12)
    draws = _table(folder, "placebo_draws")
    assert len(draws) == spec.placebo["draws"]
    caar = _table(folder, "caar")
    esc = caar[(caar["grouping"] == "by direction, sign-aligned") & (caar["direction"] == "escalation")].iloc[0]
    assert table["statistic"] == pytest.approx(esc["caar_aligned"], rel=1e-10)


def test_overlapping_windows_are_reported(folder):
    overlaps = rare_earths_result().contamination
    # the sample has same-session overlaps (USCN-2025-23/-24): an empty report is a regression, not a skip
    assert len(overlaps) > 0
    table = _table(folder, "contamination")
    assert len(table) == len(overlaps)
    same = int((overlaps["gap"] == 0).sum())
    html = (folder / "index.html").read_text(encoding="utf-8")
    assert f"{len(overlaps)} pairs of events whose windows overlap on the same asset" in html
    assert f"{same} share day 0" in html and same > 0  # e.g. USCN-2025-23 and -24 both priced on 13 Oct


def test_data_quality_and_provenance(folder):
    inside = _table(folder, "data_quality_in_windows")
    assert set(inside["issue"]) <= set(quality.ISSUES)
    soxx = inside[(inside["symbol"] == "SOXX") & (inside["date"] == "2025-10-10")]
    assert "extreme_return" in set(soxx["issue"])  # the real -6.5% day is flagged, not hidden
    prov = _table(folder, "provenance")
    spec = load_spec("rare_earths_2025")
    assert prov["symbol"].tolist() == list(dict.fromkeys([*spec.assets, "GSPC"]))
    assert prov.set_index("symbol").loc["SOXX", "source"].startswith("dsturdy/Factor_Attribution")
    assert prov["source"].notna().all()
    html = (folder / "index.html").read_text(encoding="utf-8")
    assert "dsturdy/Factor_Attribution" in html and "Campbell, Lo &amp; MacKinlay" in html


def test_hostile_titles_are_text_not_markup():
    folder = hostile_report()
    html = (folder / "index.html").read_text(encoding="utf-8")
    assert "<script" not in html and "<b>bold</b>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<title>Escaping &lt;check&gt;</title>" in html
    summary = (folder / "summary.md").read_text(encoding="utf-8")
    assert "<script" not in summary and "&lt;script&gt;" in summary
    # the Yahoo ticker ZS=F became the bundled symbol ZS_F, and its file name is plain
    assert (folder / "figures" / "price_ZS_F.png").is_file()


@pytest.mark.parametrize("text, stem", [("^GSPC", "GSPC"), ("ZS=F", "ZS_F"), ("../x", "x"), ("..", "unnamed"),
                                        ("a/b\\c", "a_b_c"), (".hidden", "hidden"), ("000001.SS", "000001_SS")])
def test_safe_name(text, stem):
    assert safe_name(text) == stem


def test_output_names_cannot_leave_the_report_folder(tmp_path):
    out = _Writer(tmp_path)
    from impact.report.figures import placebo_figure

    src = out.figure("price_../../evil", placebo_figure(np.arange(10.0), 1.0))
    assert src == "figures/price_evil.png"
    assert out.table("../../t", pd.DataFrame({"a": [1]})) == "t"
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [
        "price_evil.png", "price_evil.svg", "t.csv", "t.parquet"]


def test_failed_render_leaves_the_previous_report_and_no_temp(tmp_path, monkeypatch):
    import impact.report.figures

    spec = load_spec(str(hostile_report().parent.parent / "hostile.yaml"))
    result = hostile_result()
    previous = write_report(spec, tmp_path, result=result).folder
    marker = (previous / "index.html").read_text(encoding="utf-8")

    def boom(*args, **kwargs):
        raise RuntimeError("figure failed")

    monkeypatch.setattr(impact.report.build, "result_heatmap", boom)
    with pytest.raises(RuntimeError, match="figure failed"):
        write_report(spec, tmp_path, result=result)
    assert [p.name for p in tmp_path.iterdir()] == ["hostile"]  # no temp folder, no half report
    assert (previous / "index.html").read_text(encoding="utf-8") == marker


def test_spec_name_is_sanitised_when_built_in_code(tmp_path):
    spec = load_spec(str(hostile_report().parent.parent / "hostile.yaml"))
    result = hostile_result()
    spec.name = "../escape"  # bypassing validation: still lands inside out_root
    folder = write_report(spec, tmp_path / "out", result=result).folder
    assert folder == tmp_path / "out" / "escape" and (folder / "index.html").is_file()
    assert not (tmp_path / "escape").exists()


def test_trade_war_spec_renders_offline(tmp_path):
    spec = load_spec("trade_war_2018_2019")
    with offline():
        folder = write_report(spec, tmp_path).folder
    per_event = _table(folder, "per_event")
    expected = spec.load_catalog().events
    members = {e for bundle in per_event["event_id"] for e in bundle.split("+")}
    assert members <= set(expected["event_id"]) and len(members) >= len(expected) - 2
    assert pd.to_datetime(per_event["date"]).dt.year.between(2018, 2019).all()
    for stem in ("heatmap_-1_1", "caar_path", "caar_path_actor", "price_DEXCHUS", "placebo"):
        assert (folder / "figures" / f"{stem}.png").is_file(), stem
    groups = set(_table(folder, "caar")["grouping"])
    assert groups == {"by direction, sign-aligned", "by kind, sign-aligned", "by actor, sign-aligned", "by asset class"}
    html = (folder / "index.html").read_text(encoding="utf-8")
    assert "The 2018-2019 US-China trade war" in html
    assert "<code>CAT</code>→<code>GSPC</code>" in html  # the per-class benchmark mapping, resolved per asset
    # CBOT soybeans settled unchanged on 2019-08-05 (850.25 both days, a thin August contract):
    # "unchanged", never "up ... +0.00%"
    aug5 = _headline(folder, "- On 2019-08-05")
    day = _table(folder, "event_day")
    zs = day[(day["asset"] == "ZS_F") & (day["day0"] == "2019-08-05")].iloc[0]
    assert zs["ret_pct"] == 0.0
    assert "unchanged: soybeans" in aug5 and "+0.00%" not in aug5 and "-0.00%" not in aug5


def test_result_tests_and_html_card():
    result = rare_earths_result()
    table = result.tests
    assert {"t_cs", "patell", "bmp", "corrado_rank", "sign"} <= set(table["test"])
    assert "placebo" not in set(table["test"])
    assert set(table["window"]) == {"[0,0]", "[-1,1]", "[-5,5]"}
    bmp = result.test("bmp", (-1, 1)).iloc[0]
    row = table[(table["test"] == "bmp") & (table["window"] == "[-1,1]")].iloc[0]
    assert row["statistic"] == pytest.approx(bmp["statistic"], rel=1e-12)
    assert row["stars"] == significance_stars(bmp["p_value"])
    card = result._repr_html_()
    caar = result.caar((0, 0)).iloc[0]
    assert "<b>Event study</b>" in card and f"<td>{100 * caar['caar']:+.2f}%</td>" in card
    assert f"{len(result.pairs)} pairs" in card


def test_tables_are_shown_in_full_and_print(folder):
    """Issue 13: no scroll boxes cutting tables in print or full-page captures, long tables
    foldable but open, ids and dates never wrapped, a print stylesheet."""
    html = (folder / "index.html").read_text(encoding="utf-8")
    style = html.split("<style>")[1].split("</style>")[0]
    assert "max-height" not in style and "position: sticky" not in style
    assert "@media print" in style and "td.id, th.id { white-space: nowrap; }" in style
    day = _table(folder, "event_day")
    assert f'<details open><summary>{len(day)} rows (click to fold)</summary>' in html
    assert '<td class="l id">USCN-2025-22</td>' in html and '<td class="l id">2025-10-10</td>' in html


def test_report_shows_when_it_moved():
    """Issue 14: rare_earths_2025 has a "When did it move?" split — the S&P 500's 10 Oct fall
    in the session the 10:57 ET post landed in, Monday's rise mostly in the gap."""
    folder = rare_earths_report()
    split = pd.read_csv(folder / "tables" / "session_split.csv")
    spx = split[split["asset"] == "GSPC"].set_index("bundle")
    friday = spx.loc["USCN-2025-22"]
    assert friday["part"] == "trading" and friday["news"] == "Fri 10:57 EDT (trading)"
    assert friday["gap"] == pytest.approx(0.0008, abs=5e-5) and friday["session"] == pytest.approx(-0.0279, abs=5e-5)
    assert friday["close_to_close"] == pytest.approx(-0.0271, abs=5e-5)
    assert (1 + friday["gap"]) * (1 + friday["session"]) - 1 == pytest.approx(friday["close_to_close"], abs=1e-12)
    monday = spx.loc["USCN-2025-23+USCN-2025-24"]
    assert monday["part"] == "overnight" and monday["gap"] > 2 * monday["session"] > 0
    zs = split[(split["asset"] == "ZS_F") & (split["bundle"] == "USCN-2025-22")].iloc[0]
    assert zs["open_local"] == "Thu 19:00 CDT" and zs["news"] == "Fri 09:57 CDT (trading)"
    vix = split[(split["asset"] == "VIX") & (split["bundle"] == "USCN-2025-22")].iloc[0]
    assert np.isnan(vix["gap"]) and vix["note"] == "no usable open (clock of the Yahoo open unknown)"
    html = (folder / "index.html").read_text(encoding="utf-8")
    section = html[html.index('id="when"'):html.index('id="per-asset"')]
    assert "S&amp;P 500 -2.71% close to close: gap +0.08%, session -2.79%; news Fri 10:57 EDT (during the session)" \
        in section
    row = section[section.index("S&amp;P 500 (GSPC)</td><td class=\"l\">Fri 10:57"):]
    assert '<td class="neg news">-2.79%</td>' in row[:600]   # the session cell is the one marked


def test_rare_earth_report_has_the_research_sections():
    """Issue 15: the spec asks for the cross-section, volume and volatility; the report says
    that seven announcements of six kinds cannot be regressed on kind, and shows the volume
    and volatility of 10 October (Trump's 100% threat) as large and significant."""
    folder = rare_earths_report()
    html = (folder / "index.html").read_text(encoding="utf-8")
    section = html[html.index('id="cross-section"'):html.index('id="volume"')]
    assert "Not estimated" in section and "the 7 clusters are the observations, too few for 6 coefficients" in section
    volume = pd.read_csv(folder / "tables" / "abnormal_volume.csv")
    october10 = volume[volume["event_id"] == "USCN-2025-22"]
    assert set(october10["asset"]) >= {"GSPC", "QQQ"} and (october10["car"] > 0).all()
    assert october10["car"].mean() > 0.5  # log volume: ~1.6x the usual
    ratios = pd.read_csv(folder / "tables" / "variance_ratios.csv")
    assert ratios[ratios["event_id"] == "USCN-2025-22"]["u"].mean() > 3
    for name in ("abnormal_volume", "variance_ratios"):
        assert (folder / "figures" / f"{name}.png").stat().st_size > 10_000
    assert 'href="#volume"' in html and 'href="#volatility"' in html
