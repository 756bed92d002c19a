"""A durable local price cache: one parquet file per symbol and interval.

Layout: ``<cache dir>/<symbol>.parquet`` for daily prices, ``<symbol>@<interval>.parquet``
for intraday bars (:mod:`impact.data.bars`, ``PriceCache(interval="5m")``); the file's
parquet key-value metadata (``impact``) holds ``symbol, interval, source, adjustment,
fetched_at, start, end`` where
``start..end`` is the date range the cache *covers* (asked for and answered), which
may be wider than the first/last row (holidays, listing date). Data and metadata
live in one file, so they are replaced together.

Why parquet files rather than one DuckDB file: one file per symbol means a crash or
corruption loses at most one symbol, writes need no database server or WAL, and
``os.replace`` of a finished temporary file is atomic on POSIX and Windows.

Durability rules:

* writes go to a temporary file in the same folder, are flushed and fsynced, then
  ``os.replace``-d over the old file: a process killed mid-write leaves the old file;
* a file that cannot be read or whose metadata is missing is *corrupt*: it is
  reported and re-fetched, never read;
* a per-symbol :class:`filelock.FileLock` serialises processes fetching the same
  symbol; the second one finds the data already cached. Reading needs no lock (files
  are replaced atomically): in a folder where the lock cannot be created (read-only)
  cached data are still served, and only a download is refused;
* a reply marks a range as covered only if it brought rows for it, or the symbol's
  trading calendar has no session in it (:func:`covered_range`): an empty reply is
  never cached as "up to date".
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from filelock import FileLock, Timeout

from ..errors import DataError
from ..events.assets import get_asset
from ..events.calendars import sessions
from ..progress import progress
from .bars import BAR_COLUMNS, interval_minutes
from .prices import TIDY_COLUMNS, as_day
from .yahoo import YahooSource

ENV_VAR = "IMPACT_CACHE_DIR"
DEFAULT_START = pd.Timestamp("2017-01-01")
_META_KEY = b"impact"
_FORMAT = 1


class CacheCorruptError(DataError):
    """A cache file that cannot be trusted (unreadable, truncated, no metadata)."""


def default_cache_dir() -> Path:
    """``$IMPACT_CACHE_DIR`` if set, else the user cache folder (platformdirs) + ``prices``."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("impact", appauthor=False)) / "prices"


def _safe_name(symbol: str) -> str:
    # Yahoo tickers carry ^ = . which are fine on disk except path separators; keep it readable.
    name = re.sub(r"[^A-Za-z0-9._=^-]", "_", symbol)
    if not name or name.startswith("."):
        name = "_" + name
    return name


@dataclass
class CacheEntry:
    symbol: str
    prices: pd.DataFrame
    meta: dict

    @property
    def start(self) -> pd.Timestamp:
        return pd.Timestamp(self.meta["start"])

    @property
    def end(self) -> pd.Timestamp:
        return pd.Timestamp(self.meta["end"])


@dataclass
class FetchReport:
    """What :meth:`PriceCache.fetch` did, symbol by symbol."""

    prices: pd.DataFrame
    from_cache: list[str] = field(default_factory=list)
    fetched: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # symbol -> ranges
    corrupt: dict[str, str] = field(default_factory=dict)                     # symbol -> problem
    failed: dict[str, str] = field(default_factory=dict)                      # symbol -> reason
    incomplete: dict[str, str] = field(default_factory=dict)                  # symbol -> what is not covered

    def raise_for_failures(self) -> None:
        if self.failed:
            ok = sorted(set(self.prices["symbol"])) if len(self.prices) else []
            what = "; ".join(f"{s} ({r})" for s, r in self.failed.items())
            kept = f"; cached and returned: {', '.join(ok)}" if ok else ""
            raise DataError(f"could not get {len(self.failed)} symbol(s): {what}{kept}")


class PriceCache:
    """Parquet price cache under ``root`` (default :func:`default_cache_dir`); ``interval``
    ``"1d"`` holds daily prices, ``"1m"`` .. ``"60m"`` intraday bars (coverage is kept in
    exchange-local dates either way)."""

    def __init__(self, root: str | Path | None = None, lock_timeout: float = 300.0, interval: str = "1d"):
        self.root = Path(root).expanduser() if root is not None else default_cache_dir()
        self.lock_timeout = lock_timeout
        if interval != "1d":
            interval_minutes(interval)  # refuses an unknown interval
        self.interval = interval
        self.columns = TIDY_COLUMNS if interval == "1d" else BAR_COLUMNS
        self.key = "date" if interval == "1d" else "time"  # one row per key and symbol
        self._suffix = "" if interval == "1d" else f"@{interval}"
        if self.root.exists() and not self.root.is_dir():
            raise DataError(f"price cache folder {self.root} is a file, not a folder; set {ENV_VAR} "
                            "(or --cache-dir) to a folder")

    # -- files ----------------------------------------------------------------------------
    def path(self, symbol: str) -> Path:
        return self.root / f"{_safe_name(symbol)}{self._suffix}.parquet"

    def lock(self, symbol: str) -> FileLock:
        self.root.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.root / f".{_safe_name(symbol)}{self._suffix}.lock"), timeout=self.lock_timeout)

    def read(self, symbol: str) -> CacheEntry | None:
        """The cached entry, None if absent; :class:`CacheCorruptError` if unreadable."""
        import pyarrow.parquet as pq

        path = self.path(symbol)
        if not path.exists():
            return None
        try:
            table = pq.read_table(path)
            raw = (table.schema.metadata or {}).get(_META_KEY)
            if raw is None:
                raise ValueError("no impact metadata")
            meta = json.loads(raw)
            prices = table.to_pandas()
            missing = set(self.columns) - set(prices.columns)
            if missing:
                raise ValueError(f"missing columns {', '.join(sorted(missing))}")
            if meta.get("rows") != len(prices) or meta.get("symbol") != symbol \
                    or meta.get("interval", "1d") != self.interval:
                raise ValueError("metadata does not match the data")
        except Exception as exc:  # any failure to read means the file cannot be trusted
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise CacheCorruptError(f"{path}: corrupted cache file ({detail})") from None
        return CacheEntry(symbol, prices, meta)

    def write(self, symbol: str, prices: pd.DataFrame, meta: dict) -> Path:
        """Atomically replace ``symbol``'s file (temporary file + fsync + os.replace)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.root.mkdir(parents=True, exist_ok=True)
        frame = prices[list(self.columns)].sort_values(self.key, ignore_index=True)
        meta = {**meta, "symbol": symbol, "interval": self.interval, "rows": int(len(frame)), "format": _FORMAT}
        table = pa.Table.from_pandas(frame, preserve_index=False)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), _META_KEY: json.dumps(meta).encode()})
        final = self.path(symbol)
        fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=self.root)
        try:
            with os.fdopen(fd, "wb") as handle:
                pq.write_table(table, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, final)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(self.root)
        return final

    def symbols(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return [p.stem.removesuffix(self._suffix) for p in self._files()]

    def _files(self) -> list[Path]:
        """This interval's files (daily names carry no ``@``)."""
        files = sorted(self.root.glob(f"*{self._suffix}.parquet")) if self.root.is_dir() else []
        return [p for p in files if ("@" in p.stem) == bool(self._suffix)]

    def entries(self) -> pd.DataFrame:
        """One row per cached symbol: metadata, rows, size and ``status`` (ok / corrupt: ...)."""
        rows = []
        for path in self._files():
            symbol = path.stem.removesuffix(self._suffix)
            row = {"symbol": symbol, "source": "", "adjustment": "", "start": "", "end": "", "rows": 0,
                   "fetched_at": "", "bytes": path.stat().st_size, "status": "ok"}
            try:
                entry = self.read(symbol)
                if entry is None:  # removed meanwhile
                    continue
                symbol = entry.meta.get("symbol", symbol)
                row.update({k: entry.meta.get(k, "") for k in ("source", "adjustment", "start", "end", "fetched_at")})
                row.update(symbol=symbol, rows=len(entry.prices))
            except CacheCorruptError as exc:
                row["status"] = f"corrupt: {exc}"
            rows.append(row)
        return pd.DataFrame(rows, columns=["symbol", "source", "adjustment", "start", "end", "rows",
                                           "fetched_at", "bytes", "status"])

    def clear(self, symbols: Iterable[str] | None = None) -> list[str]:
        """Delete cached symbols (all if None), and leftover temporary files; returns those removed."""
        removed: list[str] = []
        if not self.root.is_dir():
            return removed
        targets = self.symbols() if symbols is None else list(symbols)
        for symbol in targets:
            with self.lock(symbol):
                path = self.path(symbol)
                if path.exists():
                    path.unlink()
                    removed.append(symbol)
        if symbols is None:
            for junk in self.root.glob(".*.tmp"):
                junk.unlink(missing_ok=True)
        return removed

    def _lock_all(self, stack: ExitStack, symbols: list[str]) -> str | None:
        """Lock every symbol (in a fixed order: no deadlock between processes).

        Returns why the locks cannot be created (a read-only folder), None once locked:
        reads go on lock-free, since files are only ever replaced atomically.
        """
        for symbol in sorted(symbols):
            try:
                stack.enter_context(self.lock(symbol))
            except Timeout:
                raise DataError(f"{symbol}: another process has held the cache lock in {self.root} for "
                                f"{self.lock_timeout:g} s; try again when it has finished") from None
            except OSError as exc:
                return exc.strerror or type(exc).__name__
        return None

    # -- fetch ----------------------------------------------------------------------------
    def fetch(self, symbols: Iterable[str], start=None, end=None, source=None, *, offline: bool = False,
              refresh: bool = False) -> FetchReport:
        """Prices of ``symbols`` over ``[start, end]`` (inclusive), from the cache where it
        covers the range and from ``source`` (default :class:`impact.yahoo.YahooSource`)
        for the missing part only.

        ``offline=True`` never calls the source: a symbol the cache lacks or only partly
        covers is an error. ``refresh=True`` re-downloads the whole range. Symbols that
        fail are listed in ``failed``; those that arrived are cached and returned anyway.
        Today's bar is never cached (it may be a partial session).
        """
        symbols = list(dict.fromkeys([symbols] if isinstance(symbols, str) else symbols))
        if not symbols:
            raise DataError("no symbols given")
        yesterday = pd.Timestamp(datetime.now(UTC).date()) - pd.Timedelta(days=1)
        start = as_day(start, "start") if start is not None else DEFAULT_START
        end = min(as_day(end, "end"), yesterday) if end is not None else yesterday
        if start > end:
            raise DataError(f"start {start:%Y-%m-%d} is after end {end:%Y-%m-%d}")
        if source is None and not offline:
            source = YahooSource(interval=self.interval)
        if source is not None and getattr(source, "interval", "1d") != self.interval:
            raise DataError(f"a {getattr(source, 'interval', '1d')} source cannot fill the {self.interval} cache; "
                            f"use PriceCache(interval={getattr(source, 'interval', '1d')!r})")
        report = FetchReport(prices=pd.DataFrame(columns=list(self.columns)))
        frames = []
        with ExitStack() as stack:
            unlocked = None if offline else self._lock_all(stack, symbols)
            entries, plans = {}, {}
            for symbol in symbols:
                try:
                    entries[symbol] = self.read(symbol)
                except CacheCorruptError as exc:
                    report.corrupt[symbol] = str(exc)
                    entries[symbol] = None
                entry = entries[symbol]
                if entry is not None and source is not None and not offline and (
                        entry.meta.get("source") != source.name
                        or entry.meta.get("adjustment") != getattr(source, "adjustment", "")):
                    entry = entries[symbol] = None  # another source or adjustment: start afresh
                plans[symbol] = _missing_ranges(entry, start, end, refresh)
            needed = [s for s, ranges in plans.items() if ranges]
            if unlocked is not None and needed:
                raise DataError(f"price cache folder {self.root} is not writable ({unlocked}): cannot store "
                                f"{', '.join(needed)} for {start:%Y-%m-%d}..{end:%Y-%m-%d}; make it writable, "
                                f"set {ENV_VAR} (or --cache-dir) to a writable folder, or pass --offline")
            if offline:
                for symbol, ranges in plans.items():
                    if symbol in report.corrupt:
                        report.failed[symbol] = f"{report.corrupt[symbol]}; re-fetch without --offline"
                    elif ranges:
                        have = entries[symbol]
                        held = f"cache covers {have.start:%Y-%m-%d}..{have.end:%Y-%m-%d}" if have else "not cached"
                        report.failed[symbol] = (f"offline and {held}; need {start:%Y-%m-%d}..{end:%Y-%m-%d} "
                                                 f"(run `impact data fetch {symbol}`)")
            else:
                groups: dict[tuple, list[str]] = {}
                for symbol, ranges in plans.items():
                    for lo, hi in ranges:
                        groups.setdefault((lo, hi), []).append(symbol)
                new: dict[str, list[tuple[pd.DataFrame, tuple]]] = {}
                for (lo, hi), group in progress(list(groups.items()), desc="download", unit="batch"):
                    got = source.fetch(group, lo, hi)
                    for symbol in group:
                        if symbol in got.failed:
                            report.failed[symbol] = got.failed[symbol]
                            continue
                        rows = got.prices[got.prices["symbol"] == symbol]
                        rows = rows[(rows["date"] >= lo) & (rows["date"] <= hi)]
                        entry = entries[symbol]
                        calendar = sessions(get_asset(symbol))
                        tail = entry is None or hi > entry.end  # beyond what is known: data may lag
                        cover = covered_range(rows["date"], lo, hi, calendar, tail)
                        if cover is None:
                            report.incomplete[symbol] = _no_rows(source.name, symbol, lo, hi, calendar)
                            continue
                        if cover[1] < hi:
                            report.incomplete[symbol] = (f"{source.name} has no rows after {cover[1]:%Y-%m-%d} "
                                                         f"(cached up to there; asked again next time)")
                        new.setdefault(symbol, []).append((rows, cover))
                        report.fetched.setdefault(symbol, []).append((f"{cover[0]:%Y-%m-%d}", f"{cover[1]:%Y-%m-%d}"))
                for symbol, parts in new.items():
                    if symbol in report.failed:
                        continue  # keep the old file: a partial update would leave a hole in the range
                    entry = entries[symbol]
                    spans = [cover for _, cover in parts]
                    if entry is not None and _union(spans + [(entry.start, entry.end)]) is None:
                        entry = None  # a refresh disjoint from the cached range: start afresh
                    joined = _union(spans + ([(entry.start, entry.end)] if entry is not None else []))
                    # Missing ranges always touch the cached one, so this holds; if a future change
                    # broke that, keep the old file rather than write a range with a hole.
                    if joined is None:
                        report.incomplete[symbol] = (f"{source.name} left a hole in the cached range "
                                                     "(nothing new cached; asked again next time)")
                        continue
                    lo, hi = joined
                    pieces = [p for p in ([entry.prices] if entry is not None else []) + [r for r, _ in parts] if len(p)]
                    merged = pd.concat(pieces, ignore_index=True) if pieces else parts[0][0]
                    merged = merged.drop_duplicates(self.key, keep="last")  # fresh rows win
                    self.write(symbol, merged[list(self.columns)], {
                        "source": source.name, "adjustment": getattr(source, "adjustment", ""),
                        "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
                        "start": f"{lo:%Y-%m-%d}", "end": f"{hi:%Y-%m-%d}",
                    })
                    entries[symbol] = self.read(symbol)
                for symbol, note in report.incomplete.items():
                    if entries.get(symbol) is None and symbol not in report.failed:
                        report.failed[symbol] = f"{note}; nothing cached"
            for symbol in symbols:
                if symbol in report.failed or entries.get(symbol) is None:
                    if symbol not in report.failed and symbol not in report.fetched:
                        report.failed[symbol] = "no data returned"
                    continue
                if symbol not in report.fetched:
                    report.from_cache.append(symbol)
                p = entries[symbol].prices  # type: ignore[union-attr]  # None was skipped just above
                frames.append(p[(p["date"] >= start) & (p["date"] <= end)])
        if frames:
            report.prices = pd.concat(frames, ignore_index=True)
        return report


def covered_range(dates: pd.Series, lo: pd.Timestamp, hi: pd.Timestamp, calendar: pd.DatetimeIndex,
                  tail: bool = True) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The part of ``[lo, hi]`` that a reply with rows on ``dates`` may mark as covered.

    Rule: a reply covers a range only if it brought rows for it, or ``calendar`` (the
    symbol's sessions) has no session in it. None when it covers nothing (an empty
    reply although sessions exist). Rows may start after ``lo`` (the series starts
    later: listing date): the head is covered. When ``tail`` (the range reaches past
    what is cached), sessions after the last row are not covered: the data may not be
    published yet, so they are asked again next time.
    """
    in_range = calendar[(calendar >= lo) & (calendar <= hi)]
    dates = pd.DatetimeIndex(dates)
    if len(dates) == 0:
        return (lo, hi) if len(in_range) == 0 else None
    last = dates.max()
    if tail and (in_range > last).any():
        return (lo, last)
    return (lo, hi)


def _no_rows(source: str, symbol: str, lo, hi, calendar: pd.DatetimeIndex) -> str:
    asset = get_asset(symbol)
    n = int(((calendar >= lo) & (calendar <= hi)).sum())
    assumed = "" if asset.known else " (unknown symbol: XNYS assumed)"
    return (f"{source} returned no rows for {lo:%Y-%m-%d}..{hi:%Y-%m-%d} although {asset.calendar}{assumed} has "
            f"{n} session(s) in it; check the symbol or try again later")


def _union(spans: list[tuple]) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The one range covered by ``spans``, None if they leave a hole between them."""
    spans = sorted(spans)
    lo, hi = spans[0]
    for a, b in spans[1:]:
        if a > hi + pd.Timedelta(days=1):
            return None
        hi = max(hi, b)
    return lo, hi


def _missing_ranges(entry: CacheEntry | None, start, end, refresh: bool) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Date ranges of ``[start, end]`` the cache does not cover yet."""
    if entry is None or refresh:
        return [(start, end)]
    ranges = []
    if start < entry.start:
        ranges.append((start, entry.start - pd.Timedelta(days=1)))
    if end > entry.end:
        # Re-ask for the last covered day too: it may have been fetched while still trading.
        ranges.append((entry.end, end))
    return ranges


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); harmless no-op where unsupported."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
