"""The fitted result's notebook card: the HTML Jupyter shows for an ``EventStudyResult``
(settings, counts, CAAR tests over a few windows, the largest CARs; all text
autoescaped), and the number filters the report's templates share.
"""
from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from ..events.assets import asset_title
from .statistics import significance_stars


#: Jinja filters for numbers in HTML: signed and unsigned percent, decimals, dates, stars.
def _pct(v, d: int = 2) -> str:
    return "" if v is None or pd.isna(v) else f"{100 * v:+.{d}f}%"


def _upct(v, d: int = 2) -> str:
    return "" if v is None or pd.isna(v) else f"{100 * v:.{d}f}%"


def _num(v, d: int = 2) -> str:
    return "" if v is None or pd.isna(v) else f"{v:.{d}f}"


def _day(v) -> str:
    return "" if v is None or pd.isna(v) else f"{pd.Timestamp(v):%Y-%m-%d}"


FILTERS = {"pct": _pct, "upct": _upct, "num": _num, "day": _day, "stars": significance_stars,
           "asset_title": asset_title}


def result_html(result, windows=None, top: int = 5) -> str:
    """The HTML a notebook shows for a result: settings, counts, CAAR tests over a few
    windows and the largest CARs (all text autoescaped)."""
    study = result.study
    ea, eb = study.event_window
    windows = windows or [w for w in ((0, 0), (-1, 1), (ea, eb)) if ea <= w[0] and w[1] <= eb]
    windows = list(dict.fromkeys(tuple(w) for w in windows))
    caar = pd.concat([result.caar(w) for w in windows], ignore_index=True) if len(result.pairs) else pd.DataFrame()
    main = windows[0] if windows else (ea, eb)
    cars = result.car(main) if len(result.pairs) else pd.DataFrame(columns=["car"])
    # ties (two events on one day 0 have the same CAR) broken by event and asset: the same order every run
    moves = cars.assign(size=cars["car"].abs()).sort_values(["size", "event_id", "asset"], ascending=[False, True, True],
                                                            kind="stable").drop(columns="size").head(top)
    market = study.market
    env = Environment(loader=PackageLoader("impact.study", "templates"), autoescape=select_autoescape(default=True))
    env.filters.update(FILTERS)
    return env.get_template("result.html.j2").render(
        model=study.model, returns=study.returns_kind,
        benchmark=dict(market) if isinstance(market, Mapping) else market,
        estimation_window=list(study.estimation_window), event_window=list(study.event_window),
        n_pairs=len(result.pairs), n_events=result.pairs["event_id"].nunique(),
        n_assets=result.pairs["asset"].nunique(), n_excluded=len(result.excluded),
        caar=caar.to_dict("records"), moves=moves.to_dict("records"), main=f"[{main[0]},{main[1]}]",
    )


def benchmark_text(market) -> str:
    """A benchmark setting in words: ``GSPC``, or ``GSPC (12 assets), HSI (3 assets)``."""
    if not isinstance(market, Mapping):
        return str(market)
    counts = pd.Series(list(market.values()), dtype=object).value_counts()
    if len(counts) == 1:
        return str(counts.index[0])
    return ", ".join(f"{b} ({n} assets)" for b, n in counts.items())


def summary_text(result, window=(-1, 1), top: int = 5) -> str:
    """The text of ``result.summary()``: settings, counts, the CAAR test, the sign-aligned
    CAAR by direction (when the events have directions) and the largest CARs, the most
    negative first, then the most positive."""
    s = result.study
    caar = result.caar(window).iloc[0]
    cars = result.car(window).sort_values(["car", "event_id", "asset"], kind="stable")  # ties: same order every run
    lines = [
        "Event study",
        "=" * 72,
        f"model: {s.model}    returns: {s.returns_kind}    benchmark: {benchmark_text(s.market)}",
        f"estimation window: {s.estimation_window}    event window: {s.event_window}",
        f"pairs estimated: {len(result.pairs)}    excluded: {len(result.excluded)}",
        f"CAAR{list(window)}: {caar['caar']:+.2%}  t = {caar['t']:.2f}  p = {caar['p_value']:.4f}  (n = {caar['n']}; "
        "signed returns of all assets pooled)",
    ]
    if "direction" in result.events_frame.columns:
        for r in result.caar_aligned(window, by="direction").itertuples():
            if r.n:
                # within 100 columns: the CLI prints this as it is
                lines.append(f"sign-aligned CAAR{list(window)} {r.direction}: {r.caar_aligned:+.2%}  t = {r.t:.2f}  "
                             f"p = {r.p_value:.4f}  ({int(r.n_hypothesised)}/{int(r.n)} as hypothesised)")
    lines += ["", f"Largest CARs {list(window)} ({top} most negative, then {top} most positive):"]
    show = pd.concat([cars.head(top), cars.tail(top)]).drop_duplicates(["event_id", "asset"])
    width = max([14, *(len(str(e)) for e in show["event_id"])])  # bundle ids are longer
    for r in show.itertuples():
        line = f"  {r.event_id:<{width}} {r.asset:<10} {r.car:+8.2%}  t = {r.t:6.2f} {significance_stars(r.p_value)}"
        lines.append(line.rstrip())
    return "\n".join(lines)
