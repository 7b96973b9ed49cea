"""Did a pass read every record the source says it has? Distinct records read against its total.

The sources take no snapshot while we page (extractors/paging.py): a pass can read a record
twice (rows repeated across pages, pages read again after rows left the window) and a row that
leaves the window while we page is in what we read but no longer in the source's total. What
must hold at the end of a pass is therefore: the records read, each counted once, are at least
the source's final total. Fewer means rows the pass never saw; the run fails and keeps its
watermark, so the next run reads the same window again instead of moving past the gap.

Each record is counted by its identity (the business key, or for a record without one, its
text): a 64-bit hash kept in a flat array, 8 bytes a record, so a first load of millions of
rows stays small; the distinct count is taken once, at the end. Two different keys sharing a
64-bit hash would make the pass look one short (odds about n²/2⁶⁵: 1 in 400,000 at 9 M rows)
and fail a run that the rerun passes.
"""

from __future__ import annotations

from array import array

import numpy as np

from extractors.entities import Entity
from extractors.paging import IncompletePaging


class PassTally:
    """Identities of the records one pass read."""

    def __init__(self) -> None:
        self._hashes = array("q")

    def add(self, identity: str) -> None:
        self._hashes.append(hash(identity))

    def distinct(self) -> int:
        if not self._hashes:
            return 0
        return int(np.unique(np.frombuffer(self._hashes, dtype=np.int64)).size)

    def check(self, entity: Entity, source_total: int | None, *, pages: int, fetched: int, rewinds: int) -> int:
        """The distinct count; IncompletePaging when it is below the source's final total."""
        distinct = self.distinct()
        if source_total is not None and distinct < source_total:
            raise IncompletePaging(
                f"{entity.source}/{entity.name}: the pass read {distinct} distinct records "
                f"({fetched} rows on {pages} pages, {rewinds} step-backs for rows leaving the window) "
                f"but the source's final total is {source_total}: {source_total - distinct} records "
                "were never served; the run fails and the next one reads the same window again"
            )
        return distinct
