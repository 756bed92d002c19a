"""Report specs: the bundled ones validate; bad specs fail on the named field."""
from __future__ import annotations

import pytest

from impact.errors import SpecError
from impact.report.spec import BUILTIN_TESTS, available_specs, available_tests, load_spec, spec_from_dict

BASE = {"name": "t", "title": "T", "assets": ["SOXX"]}


def test_bundled_specs_validate():
    assert {"default", "rare_earths_2025", "trade_war_2018_2019"} <= set(available_specs())
    rare = load_spec("rare_earths_2025")
    assert rare.filters == {"start": "2025-10-09", "end": "2025-10-30"}
    events = rare.load_catalog().events
    assert events["date"].min().strftime("%Y-%m-%d") == "2025-10-09"
    assert events["date"].max().strftime("%Y-%m-%d") == "2025-10-30"
    assert {"SOXX", "KWEB", "FXI"} <= set(rare.assets)
    war = load_spec("trade_war_2018_2019")
    dates = war.load_catalog().events["date"]
    assert dates.min().year == 2018 and dates.max().year == 2019
    assert war.grouping == ["direction", "kind", "actor", "asset_class"]
    default = load_spec("default")
    assert len(default.load_catalog().events) == 80
    for spec in (rare, war, default):
        assert set(spec.tests) <= set(available_tests())


def test_yahoo_tickers_map_to_bundled_symbols():
    spec = spec_from_dict({**BASE, "assets": ["ZS=F", "^HSI", "SOXX"], "benchmark": "^GSPC"})
    assert spec.assets == ["ZS_F", "HSI", "SOXX"]
    assert spec.benchmark == "GSPC"
    spec = spec_from_dict({**BASE, "benchmark": {"default": "^GSPC", "china_equity": "FXI"}})
    assert spec.benchmark == {"default": "GSPC", "china_equity": "FXI"}


def test_defaults_round_trip():
    spec = spec_from_dict(BASE)
    assert spec.tests == list(BUILTIN_TESTS)
    assert spec.heatmap_window == (0, 0)
    again = spec_from_dict({k: v for k, v in spec.to_dict().items() if v is not None})
    assert again.to_dict() == spec.to_dict()


@pytest.mark.parametrize("change, field, words", [
    ({"name": "../x"}, "name", "plain name"),
    ({"name": ".hidden"}, "name", "plain name"),
    ({"title": ""}, "title", "non-empty"),
    ({"assets": []}, "assets", "non-empty list"),
    ({"model": "capm"}, "model", "unknown model"),
    ({"returns": "pct"}, "returns", "'log' or 'simple'"),
    ({"filters": {"colour": "red"}}, "filters", "unknown filter 'colour'"),
    ({"benchmark": 3}, "benchmark", "symbol or a mapping"),
    ({"benchmark": {"equity": ""}}, "benchmark", "entry 'equity'"),
    ({"estimation_window": [-10, -200]}, "estimation_window", "after end"),
    ({"estimation_window": [-260, 0]}, "estimation_window", "must end before"),
    ({"event_window": "(-5, 5)"}, "event_window", "integers"),
    ({"car_windows": [[0, 9]]}, "car_windows", "outside event_window"),
    ({"tests": ["patel"]}, "tests", "unknown test 'patel'"),
    ({"tests": []}, "tests", "non-empty list"),
    ({"grouping": ["colour"]}, "grouping", "unknown key 'colour'"),
    ({"heatmap_window": [0, 8]}, "heatmap_window", "outside event_window"),
    ({"placebo": {"draws": 0}}, "placebo", "positive integer"),
    ({"placebo": {"n": 5}}, "placebo", "'draws'"),
    ({"data": "prices.xlsx"}, "data", "neither 'bundled'"),
    ({"contamination": "drop"}, "contamination", "expected one of"),
    ({"min_estimation_obs": -1}, "min_estimation_obs", "positive integer"),
    ({"colour": "red"}, "colour", "unknown field"),
])
def test_bad_spec_names_the_field(change, field, words):
    with pytest.raises(SpecError) as info:
        spec_from_dict({**BASE, **change}, "my.yaml")
    message = str(info.value)
    assert message.startswith(f"my.yaml: field '{field}'"), message
    assert words in message
    assert "\n" not in message


def test_missing_required_field_and_bad_yaml(tmp_path):
    with pytest.raises(SpecError, match="field 'assets': missing"):
        spec_from_dict({"name": "x", "title": "T"}, "s.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(SpecError, match="not valid YAML"):
        load_spec(str(bad))
    with pytest.raises(SpecError, match="no report spec named 'nope'"):
        load_spec("nope")


def test_relative_catalog_and_data_paths_resolve_beside_the_spec(tmp_path):
    prices = tmp_path / "my_prices.csv"
    prices.write_text("date,symbol,close\n2025-01-02,SOXX,1\n", encoding="utf-8")
    spec_path = tmp_path / "s.yaml"
    spec_path.write_text("name: s\ntitle: S\nassets: [SOXX]\ndata: my_prices.csv\n", encoding="utf-8")
    assert load_spec(str(spec_path)).data == str(prices)
