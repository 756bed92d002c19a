"""Study design for market-wide policy shocks (issue 10): a model per asset group, hypothesised
signs, event bundles and the clustered placebo, checked on the bundled real data and on a
labelled synthetic sample."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from impact import EventStudy, datasets, load_catalog
from impact.errors import ImpactError
from impact.inference.placebo import placebo_draws
from impact.study.hypotheses import escalation_sign, pair_hypotheses

OCTOBER = dict(start="2025-10-09", end="2025-10-30")
ASSETS = ["GSPC", "SPY", "SOXX", "ZS_F", "HG_F", "VIX", "MP"]
DESIGN = {"default": "constant_mean", "equity_etf": "market", "MP": "market"}


@pytest.fixture(scope="module")
def october():
    prices = datasets.load_prices([*ASSETS])
    return EventStudy(prices, load_catalog().filter(**OCTOBER), market="GSPC", model=DESIGN, assets=ASSETS).fit()


def test_mixed_models_equal_separate_studies(october):
    prices = datasets.load_prices([*ASSETS])
    catalog = load_catalog().filter(**OCTOBER)
    mixed = october.car((-1, 1)).set_index(["event_id", "asset"])
    for model, assets in (("market", ["SPY", "SOXX", "MP"]), ("constant_mean", ["GSPC", "ZS_F", "HG_F", "VIX"])):
        alone = EventStudy(prices, catalog, market="GSPC", model=model, assets=assets).fit().car((-1, 1))
        alone = alone.set_index(["event_id", "asset"])
        np.testing.assert_allclose(mixed.loc[alone.index, ["car", "se", "t"]].to_numpy(),
                                   alone[["car", "se", "t"]].to_numpy(), rtol=0, atol=1e-15)
    params = october.params.set_index("asset")
    assert set(params.loc["GSPC", "model"]) == {"constant_mean"} and params.loc["GSPC", "beta"].isna().all()
    assert set(params.loc["SOXX", "model"]) == {"market"} and (params.loc["SOXX", "beta"] > 1).all()


def test_constant_mean_index_keeps_the_selloff(october):
    """The S&P 500 is not regressed on itself: its day-0 abnormal return on 2025-10-10 is its
    -2.71% fall less its small estimation-window mean, not ~0."""
    car = october.car((0, 0)).set_index(["event_id", "asset"])
    params = october.params.set_index(["event_id", "asset"])
    spx = car.loc[("USCN-2025-22", "GSPC")]
    close = datasets.load_prices(["GSPC"]).set_index("date")["close"]
    move = np.log(close.loc["2025-10-10"] / close.loc["2025-10-09"])
    assert spx["car"] == pytest.approx(move - params.loc[("USCN-2025-22", "GSPC"), "alpha"], abs=1e-12)
    assert spx["car"] < -0.027


def test_model_mapping_errors():
    prices = datasets.load_prices(["GSPC", "SPY", "ZS_F"])
    catalog = load_catalog().filter(**OCTOBER)
    with pytest.raises(ImpactError, match="no entry for ZS_F"):
        EventStudy(prices, catalog, market="GSPC", model={"equity_etf": "market"}, assets=["SPY", "ZS_F"])
    with pytest.raises(ImpactError, match="unknown model 'capm'"):
        EventStudy(prices, catalog, market="GSPC", model={"default": "capm"}, assets=["SPY"])
    with pytest.raises(ImpactError, match="cannot be mixed"):
        EventStudy(prices, catalog, market="GSPC", model={"default": "garch", "ZS_F": "constant_mean"},
                   assets=["SPY", "ZS_F"])


def test_benchmark_mapping_by_asset_class():
    prices = datasets.load_prices(["GSPC", "HSI", "FXI", "SPY"])
    study = EventStudy(prices, load_catalog().filter(**OCTOBER), market={"default": "GSPC", "china_equity": "HSI"},
                       assets=["SPY", "FXI"])
    assert study._benchmark_of("FXI") == "HSI" and study._benchmark_of("SPY") == "GSPC"


def test_hypothesised_signs():
    assert escalation_sign("SOXX") == -1 and escalation_sign("VIX") == 1 and escalation_sign("GC_F") == 1
    assert escalation_sign("USDCNY_X") == 1 and escalation_sign("ZS_F") == -1
    over = {"REMX": {"export_control": "+", "default": "-"}, "equity_etf": "+"}
    assert escalation_sign("REMX", "export_control", over) == 1 and escalation_sign("REMX", "tariff", over) == -1
    assert escalation_sign("SOXX", None, over) == 1
    pairs = pd.DataFrame({"asset": ["SOXX", "SOXX", "VIX", "VIX"], "kind": "tariff",
                          "direction": ["escalation", "de-escalation", "escalation", "neutral"]})
    assert pair_hypotheses(pairs)["hypothesis"].tolist() == [-1, 1, 1, 0]
    with pytest.raises(ImpactError, match="expected a sign"):
        EventStudy(datasets.load_prices(["GSPC", "SPY"]), load_catalog().filter(**OCTOBER), hypotheses={"SPY": "maybe"},
                   assets=["SPY"])


def test_bundles_show_a_shared_session_once(october):
    bundles = october.bundles
    monday = bundles[(bundles["asset"] == "SOXX") & (bundles["day0"] == "2025-10-13")].iloc[0]
    assert monday["bundle"] == "USCN-2025-23+USCN-2025-24" and monday["direction"] == "mixed"
    car = october.car((0, 0)).set_index(["event_id", "asset"])
    # the two announcements carry the very same number: one finding, not two
    assert car.loc[("USCN-2025-23", "SOXX"), "car"] == car.loc[("USCN-2025-24", "SOXX"), "car"]
    bundled = october.by_bundle()
    assert len(bundled.pairs) == len(bundles) < len(october.pairs)
    day0 = pd.DataFrame({"asset": bundled.pairs["asset"], "day0": bundled.day0})
    assert not day0.duplicated().any()
    b = bundled.car((0, 0)).set_index(["event_id", "asset"])
    assert b.loc[("USCN-2025-23+USCN-2025-24", "SOXX"), "car"] == car.loc[("USCN-2025-23", "SOXX"), "car"]
    events = bundled.events_frame.set_index("event_id")
    assert events.loc["USCN-2025-23+USCN-2025-24", "direction"] == "mixed"
    hyp = bundled.hypotheses.set_index(["event_id", "asset"])
    assert hyp.loc[("USCN-2025-23+USCN-2025-24", "SOXX"), "hypothesis"] == 0   # mixed: no hypothesis


def test_sign_aligned_caar_by_hand(october):
    bundled = october.by_bundle()
    table = bundled.caar_aligned((0, 0), by="direction").set_index("direction")
    cars = bundled.car((0, 0)).merge(bundled.hypotheses, on=["event_id", "asset"])
    cars = cars.merge(bundled.events_frame[["event_id", "direction"]], on="event_id")
    esc = cars[(cars["direction"] == "escalation") & (cars["hypothesis"] != 0)]
    aligned = np.where(esc["asset"].isin(["VIX", "MP"]), -esc["car"], esc["car"])   # VIX and MP rise on escalations
    assert table.loc["escalation", "caar_aligned"] == pytest.approx(aligned.mean(), abs=1e-15)
    assert table.loc["escalation", "n"] == len(esc)
    assert table.loc["escalation", "n_hypothesised"] == int((np.sign(esc["car"]) == esc["hypothesis"]).sum())
    assert table.loc["escalation", "caar_aligned"] < 0
    assert table.loc["mixed", "n"] == 0 and table.loc["mixed", "n_left_out"] > 0


def _same_date_sample(n_assets=12, n_days=1500, seed=3):
    """SYNTHETIC (labelled test input, not data): returns with a strong common factor, and
    two events that hit every asset on one date each."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2015-01-01", periods=n_days)
    common = rng.normal(0, 0.01, n_days)
    wide = pd.DataFrame(common[:, None] + rng.normal(0, 0.004, (n_days, n_assets)), index=dates,
                        columns=[f"A{i}" for i in range(n_assets)])
    events = pd.DataFrame({"event_id": ["E1", "E2"], "date": [dates[900], dates[1200]]})
    return wide, events


def test_clustered_placebo_keeps_the_same_date_correlation():
    wide, events = _same_date_sample()
    result = EventStudy.from_returns(wide, events, model="constant_mean", market=None).fit()
    _, shared, positions = placebo_draws(result, (0, 0), n_draws=400, seed=1)
    _, independent, _ = placebo_draws(result, (0, 0), n_draws=400, seed=1, clusters="pair")
    # shared pseudo-dates: all assets of an event sit on one date in every draw
    dates = result.rows.D[positions]
    for event in ("E1", "E2"):
        cols = np.flatnonzero(result.pairs["event_id"].to_numpy() == event)
        assert (dates[:, cols] == dates[:, cols[:1]]).all()
    # the common factor survives in the shared draws: their spread is several times wider
    assert np.std(shared) > 2.5 * np.std(independent)
