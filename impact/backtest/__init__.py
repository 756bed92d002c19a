"""Backtesting reactions: "if we had traded on these announcements, what would have happened?"

Rules (:mod:`.rules`) pick events, assets, sides, entry, holding, sizing and costs;
the engine (:mod:`.engine`) enters at the first price struck after the
announcement instant on each asset's own sessions (:mod:`.timing`) and never uses
information a trader would not have had; :mod:`.metrics` and :mod:`.placebo`
score the result; :mod:`.output` writes the HTML page.

>>> from impact.backtest import load_rule, run_backtest
>>> result = run_backtest(load_rule("soybeans_retaliation"))
>>> print(result.summary())  # doctest: +SKIP
"""
from __future__ import annotations

from .result import BacktestResult, run_backtest
from .rules import BacktestRule, load_rule, rule_from_dict

__all__ = ["BacktestResult", "BacktestRule", "load_rule", "rule_from_dict", "run_backtest"]
