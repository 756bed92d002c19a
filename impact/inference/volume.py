"""Abnormal trading volume (``result.abnormal_volume()``): the same events, windows and
exclusions as the price study, on log volume instead of returns.

``v_it = log(1 + V_it)``; abnormal log volume ``AV_it = v_it - E[v_it]`` with
``model="mean"`` the mean of the estimation window (the mean-adjusted model of Campbell
& Wasley 1996, well specified in their simulations once volume is logged) or
``model="market"`` the market model of log volume on the benchmark's log volume (Ajinkya &
Jain 1989). CAV over a window is the sum of AVs; its standard error, t and the whole test
battery (``test``, ``tests``) are those of the price study applied to ``AV`` — a fitted
:class:`~impact.study.result.EventStudyResult`, so every verb of a price result works.
Other events' windows, futures roll days (volume jumps when the front month changes) and
gaps stay out of estimation as in the price study; assets without usable volume (the
ETFs and FX in the bundled sample carry none) are excluded with the reason.
"""
from __future__ import annotations

import pandas as pd

from ..data.returns import ReturnPanel
from ..data.volume import log_volume
from ..errors import ImpactError
from ..study.eventstudy import EventStudy
from ..study.extensions import extend
from ..study.result import EventStudyResult

VOLUME_MODELS = {"mean": "constant_mean", "market": "market"}


def abnormal_volume(result: EventStudyResult, model: str = "mean") -> EventStudyResult:
    """The volume study of ``result``'s study (see the module docstring)."""
    if model not in VOLUME_MODELS:
        raise ImpactError(f"unknown volume model {model!r}; choose one of {', '.join(VOLUME_MODELS)}")
    study = result.study
    if study.session_part != "close":
        raise ImpactError("abnormal volume is a daily quantity: use a close-to-close study (session_part='close')")
    wide, reasons = log_volume(study.prices)
    assets = [a for a in dict.fromkeys(result.pairs["asset"]) if a not in reasons and a in wide.columns]
    market = study.market if model == "market" else None
    if model == "market":
        if not isinstance(market, str):
            raise ImpactError("model='market' for volume needs one benchmark symbol (study market=...)")
        if market in reasons or market not in wide.columns:
            raise ImpactError(f"model='market' for volume: the benchmark {market} has no usable volume "
                              f"({reasons.get(market, 'not in the prices')}); use model='mean'")
    dropped = [a for a in dict.fromkeys(result.pairs["asset"]) if a not in assets]
    if not assets:
        raise ImpactError("no asset of the study has usable volume: "
                          + "; ".join(f"{a} ({reasons.get(a, 'not in the prices')})" for a in dropped))
    columns = assets + ([market] if market and market not in assets else [])
    exclusions = study.estimation_exclusions
    design = EventStudy.from_returns(
        wide[columns], study.events, market=market, model=VOLUME_MODELS[model],
        estimation_window=study.estimation_window, event_window=study.event_window, assets=assets,
        min_estimation_obs=study.min_estimation_obs, alignment_policy=study.alignment_policy,
        estimation_exclusions=None if exclusions is None else exclusions[exclusions["asset"].isin(assets)],
        contamination=study.contamination, hypotheses=None, gap_days=False,
    )
    # each asset on its own days with volume (a wide frame would mark other markets'
    # holidays as missing sessions inside event windows)
    design.panel = ReturnPanel({s: wide[s].dropna() for s in columns})
    volume = design.fit()
    if dropped:
        pairs = result.pairs[result.pairs["asset"].isin(dropped)]
        extra = pd.DataFrame({"event_id": pairs["event_id"].to_numpy(), "asset": pairs["asset"].to_numpy(),
                              "reason": [reasons.get(a, "not in the prices") for a in pairs["asset"]]})
        volume.excluded = pd.concat([volume.excluded, extra.reindex(columns=volume.excluded.columns)],
                                    ignore_index=True)
    return volume


extend("abnormal_volume", abnormal_volume)  # result.abnormal_volume()
