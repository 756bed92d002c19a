"""From events to (event, asset) pairs: a catalog is aligned to every asset's sessions;
user frames give instants, dates per asset, or one date for every asset."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ImpactError
from ..events.align import align_events
from ..events.catalog import Catalog, catalog_from_frame, instants_from_frame
from ..events.contamination import contamination
from ..textruns import repeated_text


def pairs_from_events(events, assets: list[str], policy: str, panel, session_part: str = "close") -> pd.DataFrame:
    """The (event, asset) pairs of a study: ``event_id, asset, day0`` (the session from
    :func:`impact.events.align.align_events`, or the given date), ``rule, flags``.
    ``events`` is a Catalog or any of the frames :class:`EventStudy` accepts."""
    pairs = _pairs(events, assets, policy, panel, session_part)
    # A part study on a series without opens: excluded with the reason, not a NaN window.
    lacking = pairs["asset"].isin(list(getattr(panel, "no_open", ()))) & pairs["day0"].notna()
    if session_part != "close" and lacking.any():
        if "reason" not in pairs.columns:
            pairs["reason"] = ""
        pairs.loc[lacking, "reason"] = [f"no daily opens in the price data for {a} (close only); session_part="
                                        f"{session_part!r} needs them" for a in pairs.loc[lacking, "asset"]]
        pairs.loc[lacking, "day0"] = pd.NaT
    return pairs


def _pairs(events, assets: list[str], policy: str, panel, session_part: str) -> pd.DataFrame:
    if isinstance(events, Catalog):
        return align_events(events.events, assets, policy, session_part)
    if not isinstance(events, pd.DataFrame):
        raise ImpactError(f"events must be a Catalog or a DataFrame, got {type(events).__name__}")
    if "event_id" not in events.columns:
        raise ImpactError("events frame needs an 'event_id' column")
    if "instant" in events.columns:
        instants = instants_from_frame(events)  # a naive instant is refused, never read as UTC
        frame = pd.DataFrame({
            "event_id": events["event_id"].astype(str),
            "date": instants.dt.tz_localize(None).dt.normalize(),
            "time_local": instants.dt.strftime("%H:%M"),
            "timezone": "UTC",
            "us_timing": "unknown",
        })
        return align_events(frame, assets, policy, session_part)
    if "timezone" in events.columns and "asset" not in events.columns:
        frame = events.copy()
        for column, default in (("actor", "US"), ("kind", "other"), ("direction", "neutral"),
                                ("title", "(untitled)"), ("source", "user"), ("confidence", "medium")):
            if column not in frame.columns:
                frame[column] = default
        return align_events(catalog_from_frame(frame, "<events frame>").events, assets, policy, session_part)
    if "date" not in events.columns:
        raise ImpactError("events frame needs either instant columns (date, timezone) or a 'date' column")
    dates = pd.to_datetime(events["date"], errors="coerce")
    if dates.isna().any():
        bad = events["date"][dates.isna()].iloc[0]
        raise ImpactError(f"events: unparseable date {bad!r} (event {events['event_id'][dates.isna()].iloc[0]})")
    if "asset" in events.columns:
        pairs = pd.DataFrame({"event_id": events["event_id"].astype(str), "asset": events["asset"].astype(str),
                              "day0": dates.dt.normalize()})
        panel.require(pairs["asset"], "event asset")
    else:
        pairs = pd.DataFrame({"event_id": events["event_id"].astype(str), "day0": dates.dt.normalize()})
        pairs = pairs.merge(pd.DataFrame({"asset": assets}), how="cross")
    pairs["rule"] = repeated_text("given_date", len(pairs))
    pairs["flags"] = repeated_text("", len(pairs))
    return pairs


def apply_contamination(pairs: pd.DataFrame, sessions: dict, event_window, mode: str,
                        codes: tuple[np.ndarray, np.ndarray] | None = None):
    """The contamination policy (:mod:`impact.events.contamination`) applied to ``pairs``:
    (pairs to estimate, with ``overlap:`` flags; pairs merged into an earlier event, with
    ``excluded_reason``; the overlaps found; other events' windows to leave out of estimation;
    the pairs to estimate's asset codes, the assets' names and their event ids' codes).
    ``codes``: the pairs' asset codes and the assets' names, when already made."""
    found = contamination(pairs, sessions, event_window, mode, codes)
    # Flags and merges come from overlaps: without any, no per-pair text is read (or made).
    if found.flag_texts is not None:
        extra = found.flag_texts
        has = extra != ""
        flags = pairs["flags"].astype(str).to_numpy(dtype=object).copy()
        flags[has] = [f"{f};{g}" if f else g for f, g in zip(flags[has], extra[has])]
        pairs = pairs.assign(flags=flags)
    merged = found.reason_texts != "" if found.reason_texts is not None else np.zeros(len(pairs), dtype=bool)
    asset_codes, names, id_codes = found.codes
    if not merged.any():  # nothing merged: no copy of every pair
        return (pairs, pairs.iloc[:0].assign(excluded_reason=pd.Series(dtype=object)), found.overlaps, found.windows,
                (asset_codes, names, id_codes))
    return (pairs[~merged].reset_index(drop=True),
            pairs[merged].assign(excluded_reason=found.reason[merged]).reset_index(drop=True),
            found.overlaps, found.windows, (asset_codes[~merged], names, id_codes[~merged]))


def repeated_pairs(codes: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """Pairs whose (event id, asset) came before, from the codes of :func:`apply_contamination`:
    the two codes as one integer, counted when they fit a modest table, else hashed."""
    asset_codes, names, id_codes = codes
    key = id_codes.astype(np.int64) * max(len(names), 1) + asset_codes
    if len(key) and key.min() >= 0 and key.max() < 4 * len(key) + 1024 and not (np.bincount(key) > 1).any():
        return np.zeros(len(key), dtype=bool)
    return pd.Series(key).duplicated().to_numpy()


def with_merged(merged: pd.DataFrame, result):
    """Record pairs merged into an earlier overlapping event as excluded, with the reason."""
    if len(merged):
        result.excluded = pd.concat([result.excluded, merged[["event_id", "asset", "excluded_reason"]]
                                     .rename(columns={"excluded_reason": "reason"})], ignore_index=True)
        result.alignment = pd.concat([result.alignment, merged], ignore_index=True)
    return result

