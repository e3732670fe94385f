"""ISO weeks ("2026-W47") in Vietnam time, as UTC bounds for queries."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WEEK_PATTERN = re.compile(r"^(\d{4})-W(\d{2})$")


class WeekError(ValueError):
    """Raised for a week that is not written as YYYY-Www or does not exist."""


@dataclass(frozen=True, order=True)
class Week:
    """One ISO week, Monday 00:00 to the next Monday 00:00 in Asia/Ho_Chi_Minh."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> "Week":
        """The week written as YYYY-Www, e.g. 2026-W47."""
        match = WEEK_PATTERN.match(text.strip())
        if not match:
            raise WeekError(f"week {text!r} must be written as YYYY-Www, e.g. 2026-W47")
        year, number = int(match.group(1)), int(match.group(2))
        try:
            date.fromisocalendar(year, number, 1)
        except ValueError as exc:
            raise WeekError(f"week {text!r} does not exist: ISO year {year} has no week {number}") from exc
        return cls(year, number)

    @classmethod
    def containing(cls, moment: datetime) -> "Week":
        """The week a moment falls in, by the calendar in Vietnam."""
        year, number, _ = moment.astimezone(VN_TZ).isocalendar()
        return cls(year, number)

    def __str__(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def first_day(self) -> date:
        """The Monday."""
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def last_day(self) -> date:
        """The Sunday."""
        return self.first_day + timedelta(days=6)

    @property
    def start(self) -> datetime:
        """Monday 00:00 in Vietnam, as UTC."""
        return day_start(self.first_day)

    @property
    def end(self) -> datetime:
        """The next Monday 00:00 in Vietnam, as UTC (exclusive)."""
        return day_start(self.first_day + timedelta(days=7))

    def previous(self) -> "Week":
        """The week before."""
        return Week.containing(self.start - timedelta(days=1))


def day_start(day: date) -> datetime:
    """Midnight of a Vietnamese calendar day, as UTC."""
    return datetime.combine(day, time(0), tzinfo=VN_TZ).astimezone(timezone.utc)


def weeks_between(first: datetime, last: datetime) -> list[Week]:
    """Every week from the one holding `first` to the one holding `last`, newest first."""
    weeks, week = [], Week.containing(last)
    stop = Week.containing(first)
    while week >= stop:
        weeks.append(week)
        week = week.previous()
    return weeks
