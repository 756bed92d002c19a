"""The report's tables: each asset's day-0 move beside its abnormal return, per-event
(bundle) sign-aligned CAARs, per-asset CAARs, grouped CAARs, the spec's test battery,
data quality and provenance. Pure functions of a fitted (bundled) result.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..data import datasets, quality
from ..errors import ImpactError
from ..events.assets import asset_label, registry
from ..study.models import NEEDS_BENCHMARK
from ..study.result import EventStudyResult
from ..study.statistics import significance_stars
from .spec import BUILTIN_TESTS, ReportSpec


def window_label(w) -> str:
    return f"[{w[0]},{w[1]}]"


#: What each model's abnormal return is measured against, for tables and sentences.
_AGAINST = {"constant_mean": "its own mean (constant-mean model)", "raw": "zero (raw returns)",
            "ff3": "the Fama-French three factors", "factors": "the study's factors"}


def _against(model: str, bench: str | None) -> str:
    if model == "market":
        return f"the market model on {asset_label(bench)} ({bench})"
    if model == "market_adjusted":
        return f"{asset_label(bench)} ({bench}), market-adjusted"
    if model == "garch":
        return f"the GARCH(1,1) market model on {bench}"
    return _AGAINST.get(model, model)


def to_simple(values: np.ndarray, kind: str) -> np.ndarray:
    """Simple returns from the study's returns (log returns converted: e^r - 1)."""
    values = np.asarray(values, dtype=float)
    return np.expm1(values) if kind == "log" else values


def event_day_table(result: EventStudyResult) -> pd.DataFrame:
    """One row per (event or bundle, asset) on its day-0 session: the asset's own return
    ``ret_pct`` (simple), the normal return, the abnormal return (``ar`` in the model's
    units, ``ar_pct`` in simple terms: e^AR - 1 for log returns), what it is abnormal
    against (``model``, ``benchmark``, ``benchmark_ret_pct``), the CAR t-test, and the
    hypothesis (``escalation_sign``, ``hypothesis``, ``as_hypothesised``)."""
    study = result.study
    k0 = int(np.flatnonzero(result.rel_days == 0)[0])
    kind = study.returns_kind
    ret, ar = result.raw[:, k0], result.abnormal[:, k0]
    models = result.fit.models
    assets = result.pairs["asset"].to_numpy()
    per_asset = {a: study._benchmark_of(a) if study.model_of(a) in NEEDS_BENCHMARK else None for a in set(assets)}
    bench = [per_asset[a] for a in assets]
    bench_ret = np.where(pd.notna(bench), to_simple(result.benchmark[:, k0, 0], kind), np.nan)
    against = {key: _against(*key) for key in dict.fromkeys(zip(models, bench))}
    test = result.car((0, 0))
    signs = result.hypotheses
    out = pd.DataFrame({
        "event_id": result.pairs["event_id"].astype(str).to_numpy(), "asset": result.pairs["asset"].to_numpy(),
        "day0": pd.to_datetime(result.day0), "ret_pct": to_simple(ret, kind), "normal_pct": to_simple(ret - ar, kind),
        "ar": ar, "ar_pct": to_simple(ar, kind), "model": models, "benchmark": [b or "" for b in bench],
        "benchmark_ret_pct": bench_ret, "against": [against[m, b] for m, b in zip(models, bench)],
        "se": test["se"].to_numpy(), "t": test["t"].to_numpy(), "p_value": test["p_value"].to_numpy(),
        "escalation_sign": signs["escalation_sign"].to_numpy(), "hypothesis": signs["hypothesis"].to_numpy(),
    })
    out["as_hypothesised"] = np.where(out["hypothesis"] != 0, np.sign(out["ar"]) == out["hypothesis"], pd.NA)
    cols = [c for c in ("date", "title", "actor", "kind", "direction", "members") if c in result.events_frame.columns]
    ev = result.events_frame[["event_id", *cols]].drop_duplicates("event_id").rename(columns={"date": "event_date"})
    out = out.merge(ev, on="event_id", how="left")
    out.insert(2, "label", out["asset"].map(asset_label))
    out.insert(3, "asset_class", out["asset"].map(registry()["asset_class"]).fillna("unknown"))
    out["stars"] = out["p_value"].map(significance_stars)
    return out.reset_index(drop=True)


def with_stars(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(stars=frame["p_value"].map(significance_stars))


def per_event_table(result: EventStudyResult, window) -> pd.DataFrame:
    """Per event (or bundle): the sign-aligned mean CAR across its assets
    (:meth:`EventStudyResult.caar_aligned`), the share that moved the hypothesised way,
    and the session most assets first priced it in. Mixed bundles have no hypothesis
    (``n = 0``, ``n_left_out``): their move is in the event-day table, not pooled."""
    table = result.caar_aligned(window, by="event_id")
    cols = [c for c in ("date", "title", "actor", "kind", "direction", "members") if c in result.events_frame.columns]
    ev = result.events_frame[["event_id", *cols]].drop_duplicates("event_id")
    # The session most assets first priced the news in (announcement date and day 0 can differ).
    day0 = pd.Series(pd.to_datetime(result.day0)).groupby(result.pairs["event_id"].astype(str).to_numpy()).agg(
        lambda d: d.mode().iloc[0])
    out = ev.merge(table, on="event_id", how="inner")
    out.insert(2, "day0", out["event_id"].map(day0))
    return with_stars(out)


def per_asset_table(result: EventStudyResult, window) -> pd.DataFrame:
    """Mean CAR across events for each asset (unsigned: one asset, one hypothesis),
    cross-sectional t."""
    table = result.caar(window, by="asset")
    names = registry()["name"]
    table.insert(1, "name", table["asset"].map(names).fillna(table["asset"]))
    table.insert(2, "asset_class", table["asset"].map(registry()["asset_class"]).fillna("unknown"))
    order = {a: i for i, a in enumerate(result.study.assets or [])}
    table = table.sort_values("asset", key=lambda s: s.map(order).fillna(len(order)))
    return with_stars(table.reset_index(drop=True))


#: Grouping keys whose groups hold one kind of asset: their CAARs stay unsigned.
UNSIGNED_KEYS = ("asset_class", "asset")


def grouped_caar(result: EventStudyResult, window, key: str) -> pd.DataFrame:
    """CAAR by ``key``: unsigned within an asset class or asset, sign-aligned otherwise
    (groups that pool assets with opposite hypotheses)."""
    if key in UNSIGNED_KEYS:
        return with_stars(result.caar(window, by=key))
    return with_stars(result.caar_aligned(window, by=key))


def spec_battery_table(result: EventStudyResult, spec: ReportSpec) -> tuple[pd.DataFrame, list[str]]:
    """Tests named in the spec beyond the built-in ones, via ``result.test(name, window)``;
    a test undefined for this sample is listed with its reason, not fatal."""
    rows: list[pd.DataFrame] = []
    notes: list[str] = []
    extra = [t for t in spec.tests if t not in BUILTIN_TESTS]
    if not extra:
        return pd.DataFrame(), notes
    for name in extra:
        for window in spec.car_windows:
            try:
                table = result.test(name, window)
            except ImpactError as exc:  # e.g. a test undefined for one pair must not sink the report
                notes.append(f"{name} {window_label(window)}: not available ({type(exc).__name__}: "
                             f"{str(exc).splitlines()[0] if str(exc) else 'no message'})")
                break
            table = pd.DataFrame(table).copy()
            table.insert(0, "test", name)
            if "window" not in table.columns:
                table.insert(1, "window", window_label(window))
            rows.append(table)
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    if "p_value" in out.columns:
        out = with_stars(out)
    return out, notes


def quality_tables(result: EventStudyResult, prices: pd.DataFrame) -> tuple[dict[str, pd.DataFrame], str]:
    """Data-quality findings from :func:`impact.quality.check_prices`: all findings, a count
    per symbol and issue, and the findings that fall inside an event window (those can move
    a CAR). Returns ``({}, note)`` when the checks cannot run on these prices."""

    try:
        findings = pd.DataFrame(quality.check_prices(prices))
    except ValueError as exc:  # bad input for the checks must not sink the report; say what happened
        return {}, f"impact.quality.check_prices failed: {exc}"
    out = {"data_quality": findings, "data_quality_summary": quality.quality_summary(findings)}
    if {"symbol", "date"} <= set(findings.columns):
        windows = result.ar[["asset", "date", "event_id", "rel_day"]].rename(columns={"asset": "symbol"})
        found = findings.assign(date=pd.to_datetime(findings["date"]))
        out["data_quality_in_windows"] = found.merge(windows, on=["symbol", "date"]).sort_values(
            ["event_id", "symbol", "rel_day"], ignore_index=True)
    note = (f"{len(findings)} findings from impact.quality.check_prices on every series used "
            f"(issues: {', '.join(quality.ISSUES)}).")
    return out, note




def provenance_table(symbols: list[str], data: str = "bundled") -> pd.DataFrame:
    """Name, class, unit and the source row of ``SOURCES.md`` for every series used
    (for non-bundled data: where the prices were read from)."""
    text = datasets.provenance() if data == "bundled" else ""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 9 and cells[0].startswith("prices/") and cells[0].endswith(".csv"):
            rows[cells[0][len("prices/"):-len(".csv")]] = cells
    reg = registry()
    out = []
    for s in symbols:
        cells = rows.get(s, [""] * 9)
        meta = reg.loc[s] if s in reg.index else None
        out.append({
            "symbol": s,
            "name": meta["name"] if meta is not None else s,
            "asset_class": meta["asset_class"] if meta is not None else "unknown",
            "unit": meta["unit"] if meta is not None else "",
            "source": cells[2] if data == "bundled" else ("Yahoo Finance via yfinance (local price cache)"
                                                          if data == "yahoo" else f"file {data}"),
            "date_range": cells[4], "rows": pd.to_numeric(cells[5], errors="coerce"), "adjusted": cells[6],
            "license": cells[7], "caveats": cells[8] if len(cells) > 8 else "",
        })
    return pd.DataFrame(out)


def overlap_summary(overlaps: pd.DataFrame, mode) -> dict | None:
    """Counts for the data-quality section: overlapping event windows of the same asset."""
    if mode is None:
        return None
    if not len(overlaps):
        return {"mode": mode, "n": 0}
    same = int((overlaps["gap"] == 0).sum()) if "gap" in overlaps.columns else 0
    return {"mode": mode, "n": len(overlaps), "assets": overlaps["asset"].nunique(), "same_session": same,
            "decisions": overlaps["decision"].value_counts().to_dict() if "decision" in overlaps.columns else {}}
