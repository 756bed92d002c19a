"""Bad input fails with one line naming the problem."""
from __future__ import annotations

import pandas as pd
import pytest

from impact import CatalogError, DataError, EventStudy, ImpactError, datasets, load_catalog
from impact.cli.main import main
from impact.resources import default_catalog_path


def _broken_catalog(tmp_path, old, new):
    text = default_catalog_path().read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "broken.csv"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ("USCN-2018-03,2018-03-22,", "USCN-2018-03,2018-02-30,", "line 4 (USCN-2018-03): field 'date': '2018-02-30' does not exist"),
        ("USCN-2018-04,2018-03-23,,Asia/Shanghai", "USCN-2018-04,2018-03-23,,Asia/Beijing",
         "line 5 (USCN-2018-04): field 'timezone': unknown IANA time zone 'Asia/Beijing'"),
        ("USCN-2018-05,2018-04-01,,Asia/Shanghai,China,retaliation", "USCN-2018-05,2018-04-01,,Asia/Shanghai,China,sanction",
         "line 6 (USCN-2018-05): field 'kind': unknown value 'sanction'"),
    ],
)
def test_malformed_catalog_row_names_file_row_and_field(tmp_path, old, new, expected):
    path = _broken_catalog(tmp_path, old, new)
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert expected in message


def test_catalog_reports_every_problem_at_once(tmp_path):
    path = _broken_catalog(tmp_path, "USCN-2018-03,2018-03-22,12:30,America/New_York,US,tariff,escalation",
                           "USCN-2018-02,2018-3-22,25:30,Mars/Base,USA,tariff,up")
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    fields = {p.split("field '")[1].split("'")[0] for p in info.value.problems}
    assert fields == {"event_id", "date", "time_local", "timezone", "actor", "direction"}


def test_cli_malformed_catalog_is_one_line(tmp_path, capsys):
    path = _broken_catalog(tmp_path, "USCN-2018-03,2018-03-22,", "USCN-2018-03,2018-02-30,")
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"name: s\ntitle: t\ncatalog: {path}\nassets: [SPY]\n", encoding="utf-8")
    assert main(["study", str(spec)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "field 'date': '2018-02-30' does not exist" in err


def test_unknown_symbol_in_bundled_data():
    with pytest.raises(DataError, match=r"^unknown symbol\(s\) NOPE: not in the bundled sample"):
        datasets.load_prices(["SPY", "NOPE"])


def test_unknown_symbol_in_study(prices):
    events = pd.DataFrame({"event_id": ["e"], "asset": ["NOPE"], "date": ["2025-10-10"]})
    with pytest.raises(DataError, match="unknown event asset symbol\\(s\\) NOPE"):
        EventStudy(prices, events, market="GSPC").fit()
    with pytest.raises(DataError, match="unknown benchmark symbol\\(s\\) XXX"):
        EventStudy(prices, events.assign(asset="SPY"), market="XXX").fit()


def test_cli_unknown_symbol_is_one_line(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: s\ntitle: t\nassets: [SPY, NOPE]\n", encoding="utf-8")
    assert main(["report", str(spec), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("impact: error: unknown symbol(s) NOPE") and "\n" not in err
    assert not (tmp_path / "out" / "s").exists()


def test_bad_windows_and_models(prices):
    events = pd.DataFrame({"event_id": ["e"], "asset": ["SPY"], "date": ["2025-10-10"]})
    with pytest.raises(ImpactError, match="must end before event_window"):
        EventStudy(prices, events, estimation_window=(-100, -3), event_window=(-5, 5))
    with pytest.raises(ImpactError, match="unknown model 'capm'"):
        EventStudy(prices, events, model="capm")


def test_too_few_observations_is_a_recorded_exclusion(prices):
    """MP listed in June 2020: an early-2021 event has too little history."""
    events = pd.DataFrame({"event_id": ["early", "late"], "asset": ["MP", "MP"], "date": ["2020-10-01", "2025-10-10"]})
    result = EventStudy(prices, events, market="GSPC").fit()
    assert list(result.pairs["event_id"]) == ["late"]
    reason = result.excluded.set_index("event_id").loc["early", "reason"]
    assert reason.startswith("too few estimation observations: ")
    n = int(reason.split(": ")[1].split(" <")[0])
    assert n < 125
