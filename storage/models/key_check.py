"""The data key's check value: proof that a process holds the key this database was encrypted with.

One row at most. The value is a keyed digest of a fixed label (see FieldCipher.key_check_value),
never the key, and tells nothing about any personal data.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime
from storage.models.personal import holds_no_personal_data

KEY_CHECK_ROW_ID = 1


class DataKeyCheckRow(Base):
    """Keyed on the constant KEY_CHECK_ROW_ID, so a second row cannot be inserted."""

    __tablename__ = "data_key_check"
    __table_args__ = holds_no_personal_data("a keyed digest of a fixed label, proving which data key is in use")

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    check_value: Mapped[bytes] = mapped_column(LargeBinary(32))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
