"""The fitted result's notebook card: the HTML Jupyter shows for an ``EventStudyResult``
(settings, counts, CAAR tests over a few windows, the largest CARs; all text
autoescaped), and the number filters the report's templates share.
"""
from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

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


FILTERS = {"pct": _pct, "upct": _upct, "num": _num, "day": _day, "stars": significance_stars}


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
    moves = cars.reindex(cars["car"].abs().sort_values(ascending=False).index).head(top)
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
