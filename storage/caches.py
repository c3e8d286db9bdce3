"""What a process keeps in memory across units of work, and how it knows a copy is still good."""
from __future__ import annotations

from rules.model import RiskAreaList


class RiskAreaCache:
    """One process's copy of the risk-area list, with the change counter it was read at.

    Shared by the process's units of work (``Database``). A copy is used only when the counter read in
    the current transaction equals the copy's: every change bumps the counter in its own transaction,
    so a copy is never used once a change has committed, in this process or any other.
    """

    def __init__(self) -> None:
        self.version: int | None = None
        self.listing: RiskAreaList | None = None

    def get(self, version: int | None) -> RiskAreaList | None:
        return self.listing if version is not None and version == self.version else None

    def put(self, version: int | None, listing: RiskAreaList) -> None:
        if version is not None:
            self.version, self.listing = version, listing
