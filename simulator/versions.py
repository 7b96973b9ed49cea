"""Versioned records served "as of" a clock, with fast window queries.

Every record has versions at times t_1 < t_2 < ...; as of clock C a record exists once
t_1 <= C and is served as its latest version t_i <= C (its update time is t_i). All versions
of an entity sit in one array sorted by (time, key), each knowing when the next version of its
record starts, so a window [lo, hi) as of C is a bisect plus a vectorized filter:
    lo <= t_i < hi, t_i <= C < next_i
and comes out already in the contract's order (update time, key).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

NEVER = np.iinfo(np.int64).max


class VersionIndex:
    def __init__(
        self,
        times: np.ndarray,
        records: np.ndarray,
        key_rank: np.ndarray,
        render: Callable[[int, int], dict],
        keys: Callable[[int], tuple],
    ):
        """times/records: one entry per version; key_rank: rank of each record's key."""
        times = np.asarray(times, dtype=np.int64)
        records = np.asarray(records, dtype=np.int64)
        by_record = np.lexsort((times, records))
        t, r = times[by_record], records[by_record]
        keep = np.ones(t.size, dtype=bool)
        keep[1:] = (r[1:] != r[:-1]) | (t[1:] != t[:-1])  # same record, same second: one version
        t, r = t[keep], r[keep]
        nxt = np.full(t.size, NEVER, dtype=np.int64)
        same = r[1:] == r[:-1]
        nxt[:-1][same] = t[1:][same]
        self.key_rank = np.asarray(key_rank, dtype=np.int64)
        order = np.lexsort((self.key_rank[r], t))
        self.t, self.rec, self.nxt = t[order], r[order], nxt[order]
        self.n_records = int(self.key_rank.size)
        self.render = render
        self.keys = keys
        self._last_window: tuple[tuple, np.ndarray] | None = None

    def __len__(self) -> int:
        return int(self.t.size)

    def window(self, as_of: int, lo: int | None = None, hi: int | None = None) -> np.ndarray:
        """Positions of the versions served as of `as_of` whose time is in [lo, hi), in order.

        Read-only. The last window is kept: a client pages through one window request after
        request, and recomputing it per page made paging a large entity quadratic.
        """
        key = (as_of, lo, hi)
        last = self._last_window
        if last is not None and last[0] == key:
            return last[1]
        top = as_of + 1 if hi is None else min(hi, as_of + 1)
        a = 0 if lo is None else int(np.searchsorted(self.t, lo, "left"))
        b = int(np.searchsorted(self.t, top, "left"))
        out = np.zeros(0, dtype=np.int64) if b <= a else a + np.flatnonzero(self.nxt[a:b] > as_of)
        out.flags.writeable = False
        self._last_window = (key, out)
        return out

    def current(self, as_of: int) -> np.ndarray:
        """Positions of every record's served version as of `as_of`, in key order."""
        pos = self.window(as_of)
        return pos[np.argsort(self.key_rank[self.rec[pos]], kind="stable")]

    def payload(self, pos: int) -> dict:
        return self.render(int(self.rec[pos]), int(self.t[pos]))

    def payloads(self, positions) -> list[dict]:
        render, rec, t = self.render, self.rec, self.t
        return [render(int(rec[p]), int(t[p])) for p in positions]

    def key_of(self, pos: int) -> tuple:
        return self.keys(int(self.rec[pos]))

    def first_seen(self) -> np.ndarray:
        """Per record: time of its first version (NEVER for a record without versions)."""
        out = np.full(self.n_records, NEVER, dtype=np.int64)
        np.minimum.at(out, self.rec, self.t)
        return out


def rank(keys: list[tuple]) -> np.ndarray:
    """Rank of each key in sorted order (keys are tuples of comparable values)."""
    order = sorted(range(len(keys)), key=keys.__getitem__)
    out = np.empty(len(keys), dtype=np.int64)
    out[order] = np.arange(len(keys))
    return out


class ExplicitRecords:
    """A small entity given as [(key, [(time, payload), ...]), ...]; renders payload + update field."""

    def __init__(
        self,
        records: list[tuple[tuple, list[tuple[int, dict]]]],
        stamp_field: str,
        stamp: Callable[[int], str],
        convert: Callable[[dict], dict],
    ):
        self._keys = [k for k, _ in records]
        self._payloads: dict[tuple[int, int], dict] = {}
        times, recs = [], []
        for i, (_, versions) in enumerate(records):
            for t, body in versions:
                body = convert(body)
                body[stamp_field] = stamp(t)
                self._payloads[(i, t)] = body
                times.append(t)
                recs.append(i)
        self.index = VersionIndex(
            np.array(times, dtype=np.int64),
            np.array(recs, dtype=np.int64),
            rank(self._keys),
            self._render,
            self._keys.__getitem__,
        )

    def _render(self, rec: int, t: int) -> dict:
        return dict(self._payloads[(rec, t)])
