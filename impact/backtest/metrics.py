"""Performance statistics of a list of trades and its daily P&L.

* Hit rate: share of trades with a positive net return.
* Mean net return per trade with its t statistic, mean / (sd / sqrt(n)), sd with
  n - 1 degrees of freedom, two-sided p-value from Student's t (n - 1 df) — the
  one-sample test used for event-driven trade lists (e.g. Brown & Warner 1985).
* Sharpe ratio: mean / sd of daily P&L over every weekday from the first selected
  announcement to the last exit (days without a position count as 0), times
  sqrt(252) (Sharpe 1994; no risk-free rate: positions are unfunded overlays).
* Maximum drawdown: the largest fall of cumulative P&L from a running peak (the
  peak starts at 0, before the first trade).
* Exposure: share of those weekdays on which at least one position was held
  (a close entry is exposed from the next session; an open entry from its own).
* Confidence interval, probabilistic and deflated Sharpe ratio, turnover, exposure-adjusted
  return and the comparison with holding the asset: :mod:`impact.backtest.stats`. The PSR
  uses the same daily P&L series as the Sharpe ratio, per day (not annualised).
* Roll-adjusted futures: ``total_pnl_raw`` and ``mean_return_raw`` are the same trades on
  the raw quotes; ``roll_pnl`` = raw minus adjusted total P&L (what the roll gaps did).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..study.statistics import t_pvalue
from .stats import (
    TRADING_DAYS,
    bootstrap_mean_ci,
    exposure_adjusted_return,
    hold_returns,
    probabilistic_sharpe,
    sharpe_moments,
    turnover,
)


def trade_stats(returns: np.ndarray) -> dict[str, float]:
    """Count, hit rate, mean, sd, t and p of per-trade net returns."""
    x = np.asarray(returns, dtype=float)
    n = len(x)
    mean = float(x.mean()) if n else np.nan
    sd = float(x.std(ddof=1)) if n > 1 else np.nan
    t = mean / (sd / np.sqrt(n)) if n > 1 and sd > 0 else np.nan
    return {"n_trades": n, "hit_rate": float((x > 0).mean()) if n else np.nan, "mean_return": mean,
            "sd_return": sd, "t_stat": float(t), "p_value": float(t_pvalue(t, n - 1)) if np.isfinite(t) else np.nan}


def daily_span(daily: pd.DataFrame, start: pd.Timestamp | None) -> pd.DataFrame:
    """Daily P&L on every weekday from ``start`` (default: first P&L date) to the last P&L date."""
    if daily.empty:
        return daily
    first = min(pd.Timestamp(start), daily["date"].min()) if start is not None else daily["date"].min()
    days = pd.bdate_range(first, daily["date"].max())
    frame = daily.set_index("date")[["pnl", "open_positions"]]
    return frame.reindex(days.union(frame.index), fill_value=0).rename_axis("date").reset_index()


def performance(trades: pd.DataFrame, daily: pd.DataFrame, start: pd.Timestamp | None = None,
                seed: int = 0) -> dict[str, float]:
    """All headline statistics of a backtest (see the module docstring for definitions)."""
    out = trade_stats(trades["return_net"].to_numpy())
    out["total_pnl"] = float(trades["pnl"].sum()) if len(trades) else 0.0
    out["mean_cost"] = float(trades["cost"].mean()) if len(trades) else np.nan
    dates = (pd.to_datetime(trades["announced_utc"]).dt.strftime("%Y-%m-%d").to_numpy() if len(trades)
             else np.array([], dtype=object))
    out["ci_low"], out["ci_high"] = bootstrap_mean_ci(trades["return_net"].to_numpy(), dates, seed=seed)
    out["n_dates"] = len(set(dates))
    raw = trade_stats(trades["return_net_raw"].to_numpy()) if len(trades) else {"mean_return": np.nan}
    out["mean_return_raw"] = raw["mean_return"]
    out["total_pnl_raw"] = float(trades["pnl_raw"].sum()) if len(trades) else 0.0
    out["roll_pnl"] = out["total_pnl_raw"] - out["total_pnl"]
    out["n_rolled"] = int((trades["roll_days"] != "").sum()) if len(trades) else 0
    hold = hold_returns(trades) if len(trades) else pd.Series(dtype=float)
    out["hold_mean_return"] = float(hold.mean()) if len(hold) else np.nan
    out["hold_total_pnl"] = float((hold * trades["weight"]).sum()) if len(hold) else 0.0
    span = daily_span(daily, start)
    if span.empty:
        out.update(sharpe=np.nan, max_drawdown=0.0, exposure=0.0, n_days=0, sr_daily=np.nan, skew=np.nan,
                   kurtosis=np.nan, psr=np.nan, turnover=np.nan, exposure_return=np.nan)
        return out
    pnl = span["pnl"].to_numpy(dtype=float)
    sd = pnl.std(ddof=1) if len(pnl) > 1 else np.nan
    out["sharpe"] = float(pnl.mean() / sd * np.sqrt(TRADING_DAYS)) if sd and sd > 0 else np.nan
    out["max_drawdown"] = max_drawdown(np.cumsum(pnl))
    out["exposure"] = float((span["open_positions"].to_numpy() > 0).mean())
    out["n_days"] = len(span)
    moments = sharpe_moments(pnl)
    out.update(sr_daily=moments["sr"], skew=moments["skew"], kurtosis=moments["kurtosis"])
    out["psr"] = probabilistic_sharpe(moments["sr"], len(pnl), moments["skew"], moments["kurtosis"])
    out["turnover"] = turnover(trades, len(span))
    out["exposure_return"] = exposure_adjusted_return(out["total_pnl"], len(span), out["exposure"])
    return out


def max_drawdown(cum_pnl: np.ndarray) -> float:
    """Largest peak-to-trough fall of a cumulative P&L path (peak starts at 0), as a positive number."""
    cum = np.asarray(cum_pnl, dtype=float)
    if not len(cum):
        return 0.0
    peak = np.maximum.accumulate(np.maximum(cum, 0.0))
    return float((peak - cum).max())
