"""Bad study parameters: one-line errors, never a silently changed number (issue 11)."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from impact import EventStudy, datasets, load_catalog
from impact.backtest import load_rule
from impact.cli.main import main
from impact.errors import ImpactError, SpecError
from impact.report.spec import load_spec
from impact.study.pairs import repeated_pairs

OCTOBER = dict(start="2025-10-09", end="2025-10-30")

CASES = [
    ("float estimation window", dict(estimation_window=(-260.9, -11.9)), "whole numbers of sessions"),
    ("float event window", dict(event_window=(-5.5, 5)), "whole numbers of sessions"),
    ("boolean window", dict(event_window=(True, 5)), "whole numbers of sessions"),
    ("three-number window", dict(event_window=(-5, 0, 5)), "whole numbers of sessions"),
    ("min_estimation_obs true", dict(min_estimation_obs=True), "positive whole number"),
    ("min_estimation_obs float", dict(min_estimation_obs=100.5), "positive whole number"),
    ("min_estimation_obs zero", dict(min_estimation_obs=0), "positive whole number"),
]


@pytest.mark.parametrize("kwargs,message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_parameter_is_one_line(kwargs, message):
    prices = datasets.load_prices(["GSPC", "SPY"])
    with pytest.raises(ImpactError, match=message) as err:
        EventStudy(prices, load_catalog().filter(**OCTOBER), assets=["SPY"], **kwargs)
    assert "\n" not in str(err.value)


def test_whole_float_window_is_accepted():
    prices = datasets.load_prices(["GSPC", "SPY"])
    study = EventStudy(prices, load_catalog().filter(**OCTOBER), assets=["SPY"], estimation_window=(-260.0, -11.0))
    assert study.estimation_window == (-260, -11)


def test_fit_with_no_events_is_an_error_not_a_nan_caar():
    prices = datasets.load_prices(["GSPC", "SPY"])
    empty = pd.DataFrame({"event_id": pd.Series(dtype=str), "date": pd.Series(dtype="datetime64[ns]")})
    with pytest.raises(ImpactError, match="no events to study"):
        EventStudy(prices, empty, assets=["SPY"]).fit()
    with pytest.raises(ImpactError, match="no events to study"):
        EventStudy(prices, load_catalog().filter(start="2030-01-01"), assets=["SPY"]).fit()


@pytest.mark.parametrize("events", [
    {"event_id": ["E1", "E1"], "date": [300, 320]},  # one id on two dates, for every asset
    {"event_id": ["E1", "E1"], "asset": ["A", "A"], "date": [300, 300]},  # one (event, asset) twice
    {"event_id": ["E0", "E1", "E2", "E1"], "asset": ["B", "B", "A", "B"], "date": [290, 300, 305, 310]},
])
def test_an_event_given_twice_for_an_asset_is_one_line(events):
    """SYNTHETIC returns: a repeated (event, asset) is refused, whichever way the events give it; the
    same id for different assets is not a repeat."""
    rng = np.random.default_rng(0)
    dates = pd.bdate_range("2020-01-01", periods=400)
    frame = pd.DataFrame(rng.normal(0, 0.01, (400, 3)), index=dates, columns=["A", "B", "MKT"])
    given = pd.DataFrame(events).assign(date=lambda d: dates[d["date"]])
    with pytest.raises(ImpactError, match="^event E1 is given twice for asset [AB]$"):
        EventStudy.from_returns(frame, given, market="MKT").fit()
    fine = pd.DataFrame({"event_id": ["E1", "E1"], "asset": ["A", "B"], "date": dates[[300, 300]]})
    assert len(EventStudy.from_returns(frame, fine, market="MKT").fit().pairs) == 2


def test_repeated_pairs_by_counting_and_by_hashing_agree_with_pandas():
    """The duplicate check on integer codes: a small key range is counted, a large one hashed; both
    mark the later repeats as pandas' duplicated does."""
    rng = np.random.default_rng(5)
    for n_assets in (7, 10**6):  # keys up to 4 ids x 7 assets, then up to 4 x 10**6: hashed
        assets, ids = rng.integers(0, min(n_assets, 9), 60), rng.integers(0, 4, 60)
        names = np.array([f"A{i}" for i in range(n_assets)], dtype=object)
        want = pd.DataFrame({"a": assets, "i": ids}).duplicated().to_numpy()
        np.testing.assert_array_equal(repeated_pairs((assets, names, ids)), want)
        assert want.any()
    unique = np.arange(50)
    assert not repeated_pairs((unique, unique.astype(str).astype(object), np.zeros(50, dtype=np.int64))).any()


def _prices_without(symbol: str, start: str, end: str) -> pd.DataFrame:
    """Real bundled closes with rows deleted (a labelled, deliberately damaged input)."""
    prices = datasets.load_prices(["GSPC", symbol])
    cut = (prices["symbol"] == symbol) & prices["date"].between(pd.Timestamp(start), pd.Timestamp(end))
    return prices[~cut].reset_index(drop=True)


def test_months_long_gap_leaves_estimation_not_a_13_percent_return():
    """QQQ missing Jun-Dec 2024: the 2025-01-02 'return' spans 148 sessions; it is left out of
    estimation (flagged), so the estimation window's returns are one-session returns only."""
    prices = _prices_without("QQQ", "2024-06-01", "2024-12-31")
    events = pd.DataFrame({"event_id": ["E1"], "date": [pd.Timestamp("2025-04-03")]})
    result = EventStudy(prices, events, assets=["QQQ"], model="constant_mean", market=None).fit()
    params = result.params.iloc[0]
    assert params["n_masked"] >= 1
    honest = EventStudy(datasets.load_prices(["GSPC", "QQQ"]), events, assets=["QQQ"], model="constant_mean",
                        market=None).fit().params.iloc[0]
    assert abs(params["sigma"] - honest["sigma"]) < 0.2 * honest["sigma"]  # the 13% jump would inflate sigma
    with_jump = EventStudy(prices, events, assets=["QQQ"], model="constant_mean", market=None,
                           gap_days=False).fit().params.iloc[0]
    assert with_jump["sigma"] > params["sigma"]


def test_missing_close_inside_the_event_window_is_a_recorded_exclusion():
    """A NaN close on day +1 would make day +2 a two-day return: the pair is excluded with the reason."""
    prices = datasets.load_prices(["GSPC", "SPY"])
    hole = (prices["symbol"] == "SPY") & (prices["date"] == pd.Timestamp("2025-10-13"))
    prices.loc[hole, ["close", "adj_close"]] = np.nan
    events = pd.DataFrame({"event_id": ["USCN-2025-22"], "date": [pd.Timestamp("2025-10-10")]})
    result = EventStudy(prices, events, assets=["SPY"], model="constant_mean", market=None).fit()
    assert len(result.pairs) == 0
    reason = result.excluded.iloc[0]["reason"]
    assert reason.startswith("event window incomplete") and "spans a gap" in reason and "2025-10-14" in reason


@pytest.mark.parametrize("loader", ["report", "backtest"])
def test_latin1_spec_is_one_line(loader, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_bytes("name: s\ntitle: Caf\u00e9 study\n".encode("latin-1"))
    with pytest.raises(SpecError, match=r"line 2: not UTF-8 text \(byte 0xe9\); save the file as UTF-8"):
        (load_spec if loader == "report" else load_rule)(str(path))


def test_cli_window_accepts_negative_values_and_fails_before_output(capsys):
    assert main(["study", "rare_earths_2025", "--window", "-1,1", "--format", "csv"]) == 0
    out = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert set(out["window"]) == {"[-1,1]"} and len(out) > 50
    for bad, message in (("5,1", "start 5 is after end 1"), ("a,b", "expected two integers A,B")):
        with pytest.raises(SystemExit) as stop:
            main(["study", "rare_earths_2025", "--window", bad])
        assert stop.value.code == 2
        captured = capsys.readouterr()
        assert captured.out == "" and message in captured.err
    assert main(["study", "rare_earths_2025", "--window", "-9,9"]) == 2   # outside the event window
    captured = capsys.readouterr()
    assert captured.out == "" and "outside the event window" in captured.err
