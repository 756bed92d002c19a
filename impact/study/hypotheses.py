"""Hypothesised signs: which way each asset is expected to move on an escalation.

Pooling signed returns of assets that react in opposite directions (the VIX and
rare-earth producers rise when equities fall) averages a shock away. Each asset
therefore carries an *escalation sign* with a short reason (registry columns
``escalation_sign`` and ``sign_reason`` in ``sample_data/assets.csv``):
equities, commodities and China assets ``-``; the VIX, gold, USD/CNY (a weaker
yuan) and non-Chinese rare-earth producers ``+``.

Overrides use the spec-style mapping of :func:`impact.assets.by_asset` (asset,
then asset class, then ``default``); a value is a sign or, to make it depend on
the event's kind, a mapping ``kind -> sign`` with an optional ``default``::

    {"MP": "+", "equity": "-", "REMX": {"export_control": "+", "default": "-"}}

A pair's *hypothesis* is the escalation sign for an escalation, its opposite for a
de-escalation, and 0 (none) for neutral or mixed announcements. Signs are ``+``,
``-``, ``up``, ``down``, ``rise``, ``fall``, ``1`` or ``-1``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ImpactError
from ..events.assets import by_asset, registry

_SIGNS = {"+": 1, "-": -1, "up": 1, "down": -1, "rise": 1, "fall": -1, "1": 1, "-1": -1, "+1": 1}
#: Event directions that carry a hypothesis, and the factor applied to the escalation sign.
DIRECTION_FACTOR = {"escalation": 1, "de-escalation": -1}


def parse_sign(value: Any, where: str) -> int:
    """+1 or -1 from a spec value; anything else is an error naming ``where``."""
    key = str(value).strip().lower() if not isinstance(value, bool) else ""
    if key not in _SIGNS:
        raise ImpactError(f"{where}: expected a sign ('+' or '-', 'up' or 'down'), got {value!r}")
    return _SIGNS[key]


def check_overrides(overrides: Any, where: str = "hypotheses") -> dict[str, Any]:
    """Validate an override mapping (see the module docstring); returns it with signs parsed."""
    if overrides is None:
        return {}
    if not isinstance(overrides, Mapping):
        raise ImpactError(f"{where}: expected a mapping asset/class -> sign (or kind -> sign)")
    out: dict[str, Any] = {}
    for key, value in overrides.items():
        if isinstance(value, Mapping):
            out[str(key)] = {str(k): parse_sign(v, f"{where}.{key}.{k}") for k, v in value.items()}
        else:
            out[str(key)] = parse_sign(value, f"{where}.{key}")
    return out


def escalation_sign(asset: str, kind: str | None = None, overrides: Mapping[str, Any] | None = None) -> int:
    """The sign ``asset`` is expected to move with on an escalation of ``kind`` (0: none known)."""
    entry = by_asset(overrides or {}, asset)
    if isinstance(entry, Mapping):
        entry = entry.get(kind, entry.get("default")) if kind is not None else entry.get("default")
    if entry is not None:
        return parse_sign(entry, f"hypotheses.{asset}")
    table = registry()
    if asset in table.index and "escalation_sign" in table.columns and table.at[asset, "escalation_sign"]:
        return _SIGNS[table.at[asset, "escalation_sign"]]
    return 0


def sign_reason(asset: str) -> str:
    """The registry's one-line reason for ``asset``'s escalation sign ('' if none)."""
    table = registry()
    if asset in table.index and "sign_reason" in table.columns:
        return str(table.at[asset, "sign_reason"])
    return ""


def pair_hypotheses(pairs: pd.DataFrame, overrides: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """For ``pairs`` with ``asset``, ``kind`` and ``direction`` columns: the asset's
    ``escalation_sign`` for that kind and the pair's ``hypothesis`` (+1, -1, or 0 when
    the direction carries none)."""
    kinds = pairs["kind"] if "kind" in pairs.columns else pd.Series(None, index=pairs.index)
    directions = pairs["direction"] if "direction" in pairs.columns else pd.Series("", index=pairs.index)
    kinds = kinds.where(kinds.map(lambda k: isinstance(k, str)), None)
    # One look-up per distinct (asset, kind), not per pair.
    keys = list(zip(pairs["asset"], kinds))
    signs = {key: escalation_sign(key[0], key[1], overrides) for key in dict.fromkeys(keys)}
    esc = np.fromiter((signs[key] for key in keys), dtype=int, count=len(keys))
    factor = directions.map(DIRECTION_FACTOR).fillna(0).to_numpy(dtype=int)
    return pd.DataFrame({"escalation_sign": esc, "hypothesis": esc * factor}, index=pairs.index)
