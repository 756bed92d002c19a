"""Data-quality findings: a labelled synthetic frame with one defect of each kind, and
facts about the real bundled series documented in sample_data/SOURCES.md."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from impact import datasets
from impact.cli.main import main
from impact.data.quality import check_prices, quality_summary
from impact.errors import DataError


def _synthetic() -> pd.DataFrame:
    """Synthetic prices (not real data) for an unregistered symbol on XNYS sessions of March 2025."""
    dates = pd.bdate_range("2025-03-03", "2025-03-31")  # no NYSE holiday in March 2025
    close = 100 * np.exp(np.cumsum(np.r_[0, np.tile([0.004, -0.003], 30)[: len(dates) - 1]]))
    frame = pd.DataFrame({"date": dates, "symbol": "SYNTH", "close": close})
    frame = frame[frame["date"] != "2025-03-12"]                                     # missing session
    frame.loc[frame["date"] == "2025-03-25", "close"] = -1.0                          # non-positive
    frame.loc[frame["date"] == "2025-03-27", "close"] = float(frame.loc[frame["date"] == "2025-03-26", "close"].iloc[0])  # stale
    extra = pd.DataFrame({"date": pd.to_datetime(["2025-03-15", "2025-03-20"]), "symbol": "SYNTH",
                          "close": [101.0, 99.0]})                                    # Saturday, duplicate
    return pd.concat([frame, extra], ignore_index=True)


def test_each_defect_is_one_finding():
    found = check_prices(_synthetic())
    got = {(f"{d:%Y-%m-%d}", issue) for d, issue in zip(found["date"], found["issue"])}
    assert got == {("2025-03-12", "missing_session"), ("2025-03-15", "non_session"), ("2025-03-20", "duplicate_date"),
                   ("2025-03-25", "non_positive"), ("2025-03-27", "stale")}
    assert list(found.columns) == ["symbol", "date", "issue", "value", "detail"]
    assert "XNYS assumed" in found.loc[found["issue"] == "missing_session", "detail"].iloc[0]
    summary = quality_summary(found).set_index("symbol")
    assert summary.loc["SYNTH"].to_dict() == {"duplicate_date": 1, "non_positive": 1, "missing_session": 1,
                                               "non_session": 1, "stale": 1}


def test_documented_facts_of_the_bundled_series():
    found = check_prices(datasets.load_prices(["TNX", "HG_F", "ZW_F", "SPY"]))
    keys = {(s, f"{d:%Y-%m-%d}", i) for s, d, i in zip(found["symbol"], found["date"], found["issue"])}
    assert ("TNX", "2025-10-13", "stale") in keys            # Columbus Day repeats 2025-10-10
    assert ("HG_F", "2023-11-23", "non_session") in keys     # CME Globex holiday sessions
    assert ("HG_F", "2025-07-04", "non_session") in keys
    assert ("HG_F", "2025-07-31", "extreme_return") in keys  # refined copper exempted: real, not a roll
    assert ("ZW_F", "2025-05-15", "roll") in keys            # the May 2025 roll
    assert ("ZW_F", "2025-05-15", "extreme_return") not in keys  # a roll is not double-counted
    assert not found[found["symbol"] == "SPY"]["issue"].isin(["missing_session", "non_session", "roll"]).any()


def test_unknown_symbol_is_an_error():
    with pytest.raises(DataError, match="unknown symbol.*NOPE"):
        check_prices(datasets.load_prices(["SPY"]), symbols=["NOPE"])


def test_cli_check_csv_one_row_per_finding(capsys):
    assert main(["data", "check", "ZW_F", "WEAT", "--format", "csv"]) == 0
    out = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(out.columns[:3]) == ["symbol", "date", "issue"]
    rolls = out[out["issue"] == "roll"]
    assert {"2025-05-14", "2025-05-15"} <= set(rolls.loc[rolls["symbol"] == "ZW_F", "date"])
    assert (out.loc[out["symbol"] == "WEAT", "issue"] != "roll").all()
    assert main(["data", "check", "ZW_F"]) == 0
    assert "roll" in capsys.readouterr().out
