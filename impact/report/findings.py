"""Headline sentences of a report, computed from its tables (nothing typed by hand).

The order follows how an economist reads a policy shock: first what the market did
on the sessions that priced the news (each asset's own return, in simple percent,
with the move's rank in the asset's history), then which announcements those
sessions belong to (a *bundle* when several were priced in one session), then the
abnormal part and the sign-aligned pooled effect with its tests named.
Moves are in simple percent whatever returns the model uses.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..events.assets import asset_label as label
from ..events.assets import registry
from ..inference.multiple import adjust_pvalues
from ..study.result import EventStudyResult
from .spec import ReportSpec
from .tables import to_simple, window_label


def pct(v: float, d: int = 2) -> str:
    """Signed percent (``+1.23%``); ``n/a`` when not finite."""
    return "n/a" if v is None or not np.isfinite(v) else f"{100 * v:+.{d}f}%"


def moved(v: float, d: int = 2) -> str:
    """A move in words whose verb and number agree: ``fell 2.71%``, ``rose 31.83%``."""
    if v is None or not np.isfinite(v):
        return "n/a"
    return f"{'fell' if v < 0 else 'rose'} {100 * abs(v):.{d}f}%"


def move_context(history: pd.Series, day, value: float) -> str:
    """The move's rank in the asset's own history of one-session returns (simple):
    ``its largest one-day fall since 2025-04-10`` — the last earlier session with a move
    at least as large the same way — or ``its largest one-day fall in the data (since
    2017-01-04)`` when there is none."""
    history = history.dropna()
    earlier = history[history.index < pd.Timestamp(day)]
    if not np.isfinite(value) or not len(earlier) or value == 0:
        return ""
    word = "fall" if value < 0 else "rise"
    bigger = earlier[earlier <= value] if value < 0 else earlier[earlier >= value]
    if len(bigger):
        return f"its largest one-day {word} since {bigger.index[-1]:%Y-%m-%d}"
    return f"its largest one-day {word} in the data (since {earlier.index[0]:%Y-%m-%d})"


def session_sentences(event_day: pd.DataFrame, histories: dict[str, pd.Series], lead: str | None,
                      top: int = 3, units: str = "") -> list[str]:
    """What markets did on the sessions that priced the news: the ``top`` sessions with
    the largest typical move, in date order.

    ``event_day``: one row per (bundle, asset) with ``day0, ret_pct, ar_pct,
    escalation_sign, hypothesis, event_id, members, direction, title``. Sessions are
    ranked by the size of the ``lead`` asset's move (the market index: "what did the
    market do"), or without it by the median risk-oriented move (assets expected to
    rise on an escalation flipped), so one asset's outlier cannot pick the session. The
    pooled sign-aligned mean is in the model's ``units`` (``"log "`` for log returns), as
    in the per-event table and its tests.
    """
    frame = event_day.assign(risk=-event_day["escalation_sign"] * event_day["ret_pct"])
    frame = frame[frame["escalation_sign"] != 0]

    def size_of(block):
        if len(block) < 3:
            return np.nan
        mine = block.loc[block["asset"] == lead, "ret_pct"]
        return abs(float(mine.iloc[0])) if len(mine) else abs(float(block["risk"].median()))

    size = frame.groupby("day0")[["asset", "ret_pct", "risk"]].apply(size_of).dropna()
    out = []
    for day in sorted(size.sort_values(ascending=False).index[:top]):
        block = frame[frame["day0"] == day]
        risk = block["risk"]
        first = block[block["asset"] == lead] if lead is not None else block.iloc[:0]
        # Breadth: an asset joins the move when its price went the lead's way (or the median
        # risk move's) or, for assets expected to rise on an escalation (the VIX), the other way.
        way = np.sign(first["risk"].iloc[0]) if len(first) else np.sign(risk.median())
        verb = "fell" if way < 0 else "rose"
        joins = (np.sign(block["ret_pct"]) == way) | (np.sign(risk) == way)
        if float(joins.mean()) >= 2 / 3:
            tone = f"markets {verb} broadly" if way < 0 else "markets rose broadly"
        elif len(first):
            tone = f"the {label(str(lead))} {verb} while other markets were mixed"
        else:
            tone = "markets were mixed"
        counts = block["event_id"].value_counts()
        bundles = block.drop_duplicates("event_id")
        bundles = bundles.assign(n=bundles["event_id"].map(counts))
        bundles = bundles.sort_values("n", ascending=False, kind="stable")
        what = _bundle_words(bundles.iloc[0], len(block))
        if len(bundles) > 1:
            what += "; for " + "; ".join(
                f"{', '.join(label(a) for a in block.loc[block['event_id'] == b.event_id, 'asset'])}: "
                f"{' + '.join(str(getattr(b, 'members', '') or b.event_id).split(', '))}"
                for b in bundles.iloc[1:].itertuples())
        parts = []
        if len(first):
            r = first.iloc[0]
            context = move_context(histories.get(r.asset, pd.Series(dtype=float)), day, r.ret_pct)
            parts.append(f"{label(r.asset)} {pct(r.ret_pct)}" + (f", {context}" if context else ""))
        rest = block[block["asset"] != lead].sort_values("ret_pct")
        # a move that rounds to 0.00% is no move (a stale settlement, a held peg): not "up"
        flat = rest["ret_pct"].abs() < 5e-5
        down = [f"{label(r.asset)} {pct(r.ret_pct)}" for r in rest[~flat].itertuples() if r.ret_pct < 0]
        up = [f"{label(r.asset)} {pct(r.ret_pct)}" for r in rest[~flat].itertuples() if r.ret_pct > 0][::-1]
        if down:
            parts.append("down: " + ", ".join(down))
        if up:
            parts.append("up: " + ", ".join(up))
        if flat.any():
            parts.append("unchanged: " + ", ".join(label(a) for a in rest.loc[flat, "asset"]))
        n_hyp = block[block["hypothesis"] != 0]
        mixed = str(bundles.iloc[0]["direction"]) == "mixed"  # the session's main bundle
        if not mixed:  # the sentence is about the main announcement: other events' pairs that date stay out
            n_hyp = n_hyp[n_hyp["event_id"] == bundles.iloc[0]["event_id"]]
        agree = ""
        if mixed:
            agree = (" The main bundle's announcements point in opposite directions, so the move is the "
                     "bundle's, not any one announcement's, and it is left out of the directional pooling.")
        if len(n_hyp):
            hit = int((np.sign(n_hyp["ar_pct"]) == n_hyp["hypothesis"]).sum())
            aligned = float((-n_hyp["escalation_sign"] * n_hyp["ar"]).mean())
            whose = (f" For the {len(n_hyp)} assets with a directional announcement that session "
                     f"({', '.join(dict.fromkeys(n_hyp['event_id']))}): s" if mixed else " S")
            agree += (f"{whose}ign-aligned mean abnormal {units}return {pct(aligned)}; {hit} of {len(n_hyp)} assets moved in "
                      f"the hypothesised direction.")
        out.append(f"On {pd.Timestamp(day):%Y-%m-%d} ({what}) {tone}: " + "; ".join(parts) + "." + agree)
    return out


def _bundle_words(row, n_assets: int) -> str:
    members = str(row.get("members", "") or row["event_id"]).split(", ")
    if len(members) > 1:
        return (f"day 0 of the bundle {' + '.join(members)} for {int(row['n'])} of {n_assets} assets, "
                f"{row['direction']}: announcements priced in the same session — \u201c{row['title']}\u201d")
    return f"day 0 of {row['event_id']}, {row['direction']}: \u201c{row['title']}\u201d"


def aligned_sentence(aligned: pd.DataFrame, window_label: str, placebo: str = "",
                     left_out: str = "", units: str = "", by_date: dict | None = None) -> str:
    """The sign-aligned pooled effect by direction, with the share of pairs that moved the
    hypothesised way and the tests named; ``by_date``: direction -> (p, dates) of the
    date-clustered wild bootstrap, when the spec asks for it."""
    parts = []
    for r in aligned.itertuples():
        if r.n == 0 or r.direction not in ("escalation", "de-escalation"):
            continue
        extra = placebo if r.direction == "escalation" and placebo else ""
        if by_date and r.direction in by_date and np.isfinite(by_date[r.direction][0]):
            p, dates = by_date[r.direction]
            extra += f"; date-clustered wild bootstrap p = {p:.3f} over {dates} dates"
        parts.append(
            f"{r.direction}s {pct(r.caar_aligned)} across {int(r.n)} asset-sessions (cross-sectional t = "
            f"{r.t:.2f}, p = {r.p_value:.3f}{extra}); {int(r.n_hypothesised)} of {int(r.n)} "
            f"({100 * r.share_hypothesised:.0f}%) moved in the hypothesised direction")
    if not parts:
        return ""
    return (f"Sign-aligned mean abnormal {units}return {window_label} (assets expected to rise on an escalation — "
            f"VIX, gold, USD/CNY, rare-earth producers — flipped, so a risk-off move is negative): "
            + "; ".join(parts) + "." + (f" {left_out}" if left_out else ""))


def largest_moves_sentence(event_day: pd.DataFrame, top: int = 3) -> str:
    """The largest day-0 abnormal returns, each with the asset's own return and what the
    abnormal return is measured against."""
    if not len(event_day):
        return ""
    moves = event_day.reindex(event_day["ar_pct"].abs().sort_values(ascending=False).index).head(top)
    parts = []
    for r in moves.itertuples():
        parts.append(f"{label(r.asset)} {moved(r.ret_pct)} on {pd.Timestamp(r.day0):%Y-%m-%d} ({r.event_id}); "
                     f"abnormal {pct(r.ar_pct)} against {r.against}, t = {r.t:.2f}")
    return "Largest day-0 abnormal returns: " + "; ".join(parts) + "."




def _histories(result: EventStudyResult) -> dict[str, pd.Series]:
    """Each asset's one-session simple returns over its whole series (for a move's rank)."""
    panel = result.study.panel
    return {a: pd.Series(to_simple(panel.returns[a].to_numpy(), result.study.returns_kind),
                         index=panel.returns[a].index) for a in result.pairs["asset"].unique()}


def lead_asset(result: EventStudyResult) -> str | None:
    """The asset a session sentence starts with: the first equity index (or broad ETF) studied."""
    assets = list(result.study.assets or result.pairs["asset"].unique())
    classes = registry()["asset_class"]
    for wanted in (("equity_index",), ("equity_etf",)):
        for a in assets:
            if classes.get(a) in wanted:
                return a
    return assets[0] if assets else None


def _adjusted_counts(event_day: pd.DataFrame) -> str:
    """How many day-0 CARs stay significant when the p-values of the assets priced in one
    session by one announcement (or bundle) are adjusted as a family: Holm (1979) controls
    the chance of any false rejection, Benjamini & Hochberg (1995) the false-discovery rate."""
    if not len(event_day) or not np.isfinite(event_day["p_value"].to_numpy(dtype=float)).any():
        return ""
    counts = {m: int((adjust_pvalues(event_day, "p_value", m, by="event_id")["p_adjusted"] < 0.05).sum())
              for m in ("holm", "bh")}
    return (f"; adjusted within each announcement's assets, {counts['holm']} stay significant under Holm's "
            f"family-wise control and {counts['bh']} under Benjamini-Hochberg's false-discovery rate")


def _by_date(bootstrap: pd.DataFrame | None) -> dict | None:
    """Direction -> (p, dates) of the date-clustered rows of the report's bootstrap table
    (the spec's ``bootstrap``): with assets sharing few dates, the cross-sectional t overstates."""
    if bootstrap is None or "direction" not in bootstrap.columns:
        return None
    rows = bootstrap[bootstrap["cluster"] == "date"]
    return {r.direction: (r.p_value, int(r.clusters)) for r in rows.itertuples()}


def headline_findings(result: EventStudyResult, spec: ReportSpec, window, event_day: pd.DataFrame,
                      placebo: dict | None = None, bootstrap: pd.DataFrame | None = None) -> list[str]:
    """Sentences computed from the tables (nothing here is typed by hand): what markets
    did on the sessions that priced the news, the sign-aligned pooled effect by direction
    with its tests, the largest abnormal moves, and the count of significant pairs.
    ``result`` is bundled (:meth:`EventStudyResult.by_bundle`): no move is counted twice."""
    units = "log " if result.study.returns_kind == "log" else ""
    lines = session_sentences(event_day, _histories(result), lead_asset(result), units=units)
    w = window_label(window)
    if "direction" in result.events_frame.columns:
        aligned = result.caar_aligned(window, by="direction")
        mixed = event_day[event_day["direction"] == "mixed"]
        left_out = ""
        if len(mixed):
            ids = ", ".join(dict.fromkeys(mixed["event_id"]))
            left_out = (f"Left out of the directional pooling: {len(mixed)} asset-sessions of mixed bundles ({ids}), "
                        "whose announcements point in opposite directions.")
        note = f"; placebo p = {placebo['p_value']:.3f} with shared pseudo-dates" if placebo else ""
        sentence = aligned_sentence(aligned, w, note, left_out, units, _by_date(bootstrap))
        if sentence:
            lines.append(sentence)
    moves = largest_moves_sentence(event_day)
    if moves:
        lines.append(moves)
    n_sig = int((event_day["p_value"] < 0.05).sum()) if len(event_day) else 0
    lines.append(f"{n_sig} of {len(event_day)} day-0 abnormal returns (asset-sessions) are significant at 5% by the "
                 f"CAR t-test (about {0.05 * len(event_day):.0f} would be by chance alone){_adjusted_counts(event_day)}; "
                 f"{len(result.excluded)} pairs were excluded (reasons listed below).")
    return lines
