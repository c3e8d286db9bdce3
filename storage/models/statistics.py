"""Statistics: anonymous daily counts that outlive the personal data they were computed from."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime
from storage.models.personal import holds_no_personal_data


class DailyCountRow(Base):
    """Anonymous counts for one local day and region: how many codes of a colour, how many declared.

    Kept for statistics after personal data is gone (retention, /forget, purge --all).
    """

    __tablename__ = "daily_counts"
    __table_args__ = holds_no_personal_data("anonymous counts per day, region and colour")

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    colour: Mapped[str] = mapped_column(String(16), primary_key=True)
    codes: Mapped[int] = mapped_column(Integer)
    declared: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
