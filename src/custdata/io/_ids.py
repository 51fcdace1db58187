"""Ids for rows that have none: derived from the source and the row's content, so a re-import updates."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Literal

from custdata.exceptions import ValidationError

__all__ = ["MissingId", "RowIds"]

#: What a reader does with a customer row that has no id: ``"derive"`` one from the source and the
#: row's cells (the default: reading the same file again gives the same ids), give it a ``"random"``
#: one (the old behaviour: every read makes new customers), or report the row as a problem (``"error"``).
MissingId = Literal["derive", "random", "error"]


class RowIds:
    """Makes the ids of one read. Equal rows of one source get distinct ids by their occurrence (the
    second ``Zhang,13800138000`` is ``…#1`` before hashing), so nothing is merged by reading."""

    def __init__(self, source: str, missing_id: str) -> None:
        if missing_id not in ("derive", "random", "error"):
            raise ValidationError(
                f"missing_id must be 'derive', 'random' or 'error', got {missing_id!r}", field="missing_id"
            )
        self.source = source
        self.missing_id = missing_id
        self._seen: dict[bytes, int] = {}

    def id_for(self, cells: Sequence[str]) -> str | None:
        """The id for a row (None: let the record make a random one); ValueError with ``"error"``."""
        if self.missing_id == "random":
            return None
        if self.missing_id == "error":
            raise ValueError("the row has no id")
        h = hashlib.blake2b(digest_size=16, person=b"custdata-row-id")
        h.update(self.source.encode("utf-8", "surrogatepass"))
        for cell in cells:
            h.update(b"\x1f")
            h.update(cell.encode("utf-8", "surrogatepass"))
        key = h.digest()
        n = self._seen.get(key, 0)
        self._seen[key] = n + 1
        if n:
            h.update(b"\x1e%d" % n)
        return h.hexdigest()
