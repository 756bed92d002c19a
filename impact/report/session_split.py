"""The report's "When did it move?" section: each asset's day-0 return split into the
overnight gap (previous close -> open) and the trading session (open -> close), with every
announcement placed on the asset's own clock and the part of day 0 it fell in.

A post at 10:57 ET belongs to New York's trading session, so the S&P 500's fall should be
in open -> close, not in the gap; news on a Sunday should be in Monday's gap. The split is
made from the daily opens in the data (:func:`impact.data.returns.part_returns`, simple
returns, adjusted like the closes), each open struck at the registry's clock
(:func:`impact.events.calendars.session_opens`).
"""
from __future__ import annotations

import pandas as pd

from ..data.prices import price_series
from ..data.returns import part_returns
from ..events.assets import asset_label, get_asset
from ..events.calendars import asset_zone

NO_OPENS = "no asset with daily opens"
COLUMNS = ["bundle", "events", "day0", "asset", "label", "news", "part", "open_local", "close_local",
           "gap", "session", "close_to_close", "note"]


def _clock(ts, zone: str) -> str:
    return "" if pd.isna(ts) else ts.tz_convert(zone).strftime("%a %H:%M %Z")


def news_on_clock(lo: pd.Timestamp, hi: pd.Timestamp, zone: str) -> str:
    """An announcement instant on an asset's clock: ``Fri 10:57 EDT``, or for an unknown time
    of day the interval it lies in, ``Sat 00:00 – Sun 24:00 EDT``."""
    if lo == hi:
        return _clock(lo, zone)
    a, b = lo.tz_convert(zone), (hi + pd.Timedelta(nanoseconds=1)).tz_convert(zone)
    end = f"{(b - pd.Timedelta(days=1)):%a} 24:00" if b == b.normalize() else f"{b:%a %H:%M}"
    return f"{a:%a %H:%M} – {end} {b:%Z}"


def session_split_table(alignment: pd.DataFrame, bundles: pd.DataFrame, prices: pd.DataFrame,
                        order: list[str] | None = None) -> pd.DataFrame:
    """One row per (bundle, asset): day 0, each announcement on the asset's clock with the
    part of day 0 it fell in, and the day-0 gap, session and close-to-close simple returns
    (NaN with a ``note`` where the asset has no usable opens). Rows by day 0, then bundle,
    then ``order`` (e.g. the spec's assets)."""
    closes = price_series(prices)
    has_open = "open" in prices.columns
    opens = price_series(prices, "open") if has_open else {}
    raw = price_series(prices, "close") if has_open and "close" in prices.columns else {}
    moves = {}
    for symbol, close in closes.items():
        gap = part_returns(close, opens.get(symbol), raw.get(symbol), "simple", "overnight")
        session = part_returns(close, opens.get(symbol), raw.get(symbol), "simple", "trading")
        moves[symbol] = pd.DataFrame({"gap": gap, "session": session, "close_to_close": close.pct_change()})
    by_pair = alignment.set_index(["event_id", "asset"])
    rows = []
    for b in bundles.itertuples(index=False):
        if pd.isna(b.day0):
            continue
        zone = asset_zone(get_asset(b.asset))
        ids = [e.strip() for e in str(b.events).split(",")]
        members = by_pair.loc[[(e, b.asset) for e in ids if (e, b.asset) in by_pair.index]]
        parts = [p for p in members["part"] if p]
        news = "; ".join(
            (f"{e}: " if len(ids) > 1 else "") + news_on_clock(m.instant_lo, m.instant_hi, zone) +
            (f" ({m.part})" if m.part else "")
            for (e, _), m in members.iterrows())
        first = members.iloc[0]
        move = moves.get(b.asset)
        day = move.loc[b.day0] if move is not None and b.day0 in move.index else None
        asset = get_asset(b.asset)
        note = ""
        if not asset.has_open:
            note = f"no usable open ({asset.no_open_reason})"
        elif day is None:
            note = "no price on day 0"
        elif pd.isna(day["gap"]):
            note = "no opens in the data (close only)"
        rows.append({
            "bundle": b.bundle, "events": ", ".join(ids), "day0": b.day0, "asset": b.asset,
            "label": asset_label(b.asset), "news": news,
            "part": parts[0] if len(set(parts)) == 1 else " / ".join(dict.fromkeys(parts)),
            "open_local": _clock(first.open_utc, zone) if asset.has_open else "",
            "close_local": _clock(first.close_utc, zone),
            "gap": day["gap"] if day is not None and asset.has_open else float("nan"),
            "session": day["session"] if day is not None and asset.has_open else float("nan"),
            "close_to_close": day["close_to_close"] if day is not None else float("nan"),
            "note": note,
        })
    table = pd.DataFrame(rows, columns=COLUMNS)
    rank = {a: i for i, a in enumerate(order or [])}
    table["_rank"] = table["asset"].map(lambda a: rank.get(a, len(rank)))
    return table.sort_values(["day0", "bundle", "_rank"], kind="stable").drop(columns="_rank").reset_index(drop=True)


def split_groups(table: pd.DataFrame, lead: list[str]) -> list[dict]:
    """The table grouped by (bundle, day 0) for the report, each with a one-line summary from
    its lead asset (the first of ``lead`` with both parts): the move, its two parts, and when
    the news came on that asset's clock."""
    groups = []
    for (bundle, day0), rows in table.groupby(["bundle", "day0"], sort=False):
        usable = rows.dropna(subset=["gap", "session"])
        order = [a for a in lead if a in set(usable["asset"])]
        head = usable.set_index("asset").loc[order[0]] if order else None
        if head is None:
            summary = NO_OPENS
        else:
            summary = (f"{head['label']} {head['close_to_close']:+.2%} close to close: gap {head['gap']:+.2%}, "
                       f"session {head['session']:+.2%}; news {head['news']}")
            summary = summary.replace("(overnight)", "(before the open)").replace("(trading)", "(during the session)")
            summary = summary.replace("(uncertain)", "(time unknown: before or after the open)")
        groups.append({"bundle": bundle, "day0": day0, "summary": summary, "rows": rows.to_dict("records")})
    return groups
