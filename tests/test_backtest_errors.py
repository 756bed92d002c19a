"""Bad backtest specs give one-line errors naming the file and the field."""
from __future__ import annotations

import pytest
import yaml

from impact.backtest import BacktestRule, load_rule, rule_from_dict, run_backtest
from impact.cli.main import main
from impact.errors import ImpactError, SpecError

BASE = {"name": "bad", "assets": ["ZS_F"], "signs": {"escalation": "short"}, "holding": 5}


@pytest.mark.parametrize("change, field, words", [
    ({"assets": ["ZS_F", "NOPE"]}, "assets", "unknown asset 'NOPE'"),
    ({"assets": ["ZS_F", "ZS_F"]}, "assets", "listed twice"),
    ({"holding": -3}, "holding", "at least 1 session, got -3"),
    ({"holding": 2.5}, "holding", "whole number"),
    ({"entry": "open"}, "entry", "close, next_open"),
    # contradictory rules
    ({"events": {"direction": "de-escalation"}}, "signs", "could never trade"),
    ({"events": {"start": "2025-01-01", "end": "2019-01-01"}}, "events", "after end"),
    ({"learning": {"min_events": 3}}, "learning", "signs are fixed"),
    ({"signs": {"escalation": "short", "ZS_F": {"escalation": "long"}}}, "signs", "mixes directions"),
    ({"signs": {"escalation": "sideways"}}, "signs", "long, short or flat"),
    ({"signs": {"HG_F": {"escalation": "long"}}}, "signs", "not in assets"),
    ({"signs": "guess"}, "signs", "'learned'"),
    ({"exit": {"stop_loss_bps": -50}}, "exit", "positive"),
    ({"costs_bps": {"crypto": 3}}, "costs_bps", "unknown asset class 'crypto'"),
    ({"slippage_bps": -1}, "slippage_bps", "non-negative"),
    ({"sizing": {"volatility": {"target": 0}}}, "sizing", "positive"),
    ({"holdings": 5}, "holdings", "unknown field"),
])
def test_bad_spec_names_the_field(change, field, words):
    with pytest.raises(SpecError) as info:
        rule_from_dict(BASE | change, "spec.yaml")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"spec.yaml: field '{field}'")
    assert words in message


def test_python_rule_is_validated_like_yaml():
    with pytest.raises(SpecError, match=r"field 'holding': must be at least 1"):
        BacktestRule(name="x", assets=["ZS_F"], signs={"escalation": "short"}, holding=0)
    rule = BacktestRule(name="x", assets=["ZS_F"], signs={"escalation": "short"}, holding=3)
    assert rule.side("ZS_F", "escalation") == -1 and rule.side("ZS_F", "neutral") is None


def test_next_open_on_an_asset_without_opens_names_entry_and_asset(prices):
    rule = rule_from_dict(BASE | {"assets": ["SOXX"], "entry": "next_open"}, "spec.yaml")
    with pytest.raises(SpecError, match=r"field 'entry': next_open needs open prices, but SOXX has none"):
        run_backtest(rule, prices)


def test_cli_prints_one_line_error(tmp_path, capsys):
    path = tmp_path / "neg.yaml"
    path.write_text(yaml.safe_dump(BASE | {"holding": -1}), encoding="utf-8")
    assert main(["backtest", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"impact: error: {path}: field 'holding': must be at least 1 session, got -1"]
    assert main(["backtest", "no_such_backtest"]) == 2
    assert "no backtest spec named 'no_such_backtest'" in capsys.readouterr().err


def test_shipped_specs_validate():
    from impact.backtest.rules import available_rules

    assert {"soybeans_retaliation", "escalation_pairs", "learned_signs"} <= set(available_rules())
    for name in available_rules():
        rule = load_rule(name)
        assert rule.name == name
        assert rule_from_dict(rule.to_dict(), "copy").to_dict() == rule.to_dict()  # spec.yaml round-trips


def test_prices_without_an_asset_name_the_field(prices):
    rule = rule_from_dict(BASE | {"assets": ["ZS_F", "HG_F"]}, "spec.yaml")
    with pytest.raises(ImpactError, match=r"^spec.yaml: field 'assets': no prices for HG_F$"):
        run_backtest(rule, prices[prices["symbol"] == "ZS_F"])
