"""The working-day clock of the SOPs: which days are hari kerja, and how much working time lies between two moments.

Seed SOPs give some standard times in *hari kerja* (Kota Tangerang's monev SOP: "6 Hari Kerja").  A
working day of the Indonesian civil service is a Monday to Friday that is neither a national holiday
(hari libur nasional) nor a cuti bersama, the collective leave days the government adds around them
(SKB Menteri Agama, Menteri Ketenagakerjaan dan MenPAN-RB, published each year for the next).  Both
come from the maintained ``holidays`` library (``holidays.country_holidays("ID")``, categories
``public`` and ``government``; its version is pinned in ``requirements/lock.txt``).  The library knows
the cuti bersama of the years whose SKB it has seen (up to 2027 in 0.109) and marks Islamic holidays
of later years as estimates (``perkiraan``); a profile corrects it with ``hari_libur`` (see
:class:`HariLibur`): dates to add (a cuti bersama of a year the library lacks, a regional holiday)
and dates to remove (a date the government moved).

The clock (:class:`WorkCalendar`) runs only on working days, 24 hours each, in the region's time zone
(WIB, WITA, WIT): a day starts at 00:00 local time.  So:

* A step started Friday 16:00 WITA with ``1 hari kerja`` is due Monday 16:00 WITA (Friday's last 8
  hours and Monday's first 16), or Tuesday 16:00 if Monday is a holiday.
* A step started on a non-working day (a Saturday, a holiday) has its working time start at 00:00 of
  the next working day: ``1 hari kerja`` from Saturday 10:00 is due at the end of Monday (Tuesday
  00:00).  The SOPs count a letter received over a weekend from the next office day, and a whole
  working day belongs to the one who must act; the old weekday clock gave only Monday until 10:00.
* How long a step took or has waited, against a ``hari kerja`` standard, is its working time
  (:meth:`WorkCalendar.elapsed`): the weekend in between does not count.

Minutes, hours and calendar days (``hari``) are wall-clock time and do not use this module.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache

import holidays

__all__ = ["CATEGORIES", "WorkCalendar", "has_cuti_bersama", "library_holidays"]

#: The library's categories for Indonesia: public holidays and the government's cuti bersama.
CATEGORIES = ("public", "government")
_DAY = dt.timedelta(days=1)


@lru_cache(maxsize=64)
def library_holidays(year: int) -> Mapping[dt.date, str]:
    """National holidays and cuti bersama of ``year`` from the ``holidays`` library, named in Indonesian.

    One dict per year, built once (the library's own lazy expansion is not safe across threads)."""
    found = holidays.country_holidays("ID", years=year, categories=CATEGORIES, language="id")
    return dict(found.items())


def has_cuti_bersama(year: int) -> bool:
    """Whether the library knows the cuti bersama of ``year`` (the SKB is published a few months ahead;
    a year without any is one the profile's ``hari_libur.tambah`` must fill in)."""
    return any(name.lower().startswith("cuti bersama") for name in library_holidays(year).values())


class WorkCalendar:
    """Working days of one region: weekdays minus the library's holidays, plus ``tambah``, minus ``hapus``.

    ``tz`` is the region's clock; every datetime given may be in any zone (a naive one is UTC) and is
    read in ``tz`` to find its day.
    """

    def __init__(
        self,
        tz: dt.tzinfo,
        tambah: Mapping[dt.date, str] | None = None,
        hapus: frozenset[dt.date] | set[dt.date] = frozenset(),
    ) -> None:
        self.tz = tz
        self.tambah = dict(tambah or {})
        self.hapus = frozenset(hapus)
        self._off: dict[int, frozenset[dt.date]] = {}

    def holiday(self, day: dt.date) -> str | None:
        """The name of the holiday or cuti bersama on ``day`` (None: none, or removed by the profile)."""
        if day in self.tambah:
            return self.tambah[day]
        if day in self.hapus:
            return None
        return library_holidays(day.year).get(day)

    def holidays_of(self, year: int) -> dict[dt.date, str]:
        """Every holiday and cuti bersama of ``year`` for this region, in date order (weekends not listed)."""
        days = {d: n for d, n in library_holidays(year).items() if d not in self.hapus}
        days.update({d: n for d, n in self.tambah.items() if d.year == year})
        return dict(sorted(days.items()))

    def is_working_day(self, day: dt.date) -> bool:
        """Monday to Friday, and not a holiday or cuti bersama."""
        if day.weekday() >= 5:
            return False
        off = self._off.get(day.year)
        if off is None:  # one set per year (a dict write is atomic: a race only builds it twice)
            off = self._off[day.year] = frozenset(self.holidays_of(day.year))
        return day not in off

    def _local(self, at: dt.datetime) -> dt.datetime:
        return (at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)).astimezone(self.tz)

    def _day_end(self, at: dt.datetime) -> dt.datetime:
        return dt.datetime.combine(at.date() + _DAY, dt.time(0), tzinfo=self.tz)

    def add(self, start: dt.datetime, working: dt.timedelta) -> dt.datetime:
        """The moment ``working`` working time (24 hours per working day) has run since ``start``.

        From a non-working day the clock starts at 00:00 of the next working day; a due time at the
        very end of a working day is 00:00 of the following day.  Returned in the region's zone."""
        at = self._local(start)
        remaining = working
        if remaining <= dt.timedelta(0):
            return at
        while True:
            end = self._day_end(at)
            if self.is_working_day(at.date()):
                if remaining <= end - at:
                    return at + remaining
                remaining -= end - at
            at = end

    def add_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """``days`` hari kerja after ``start``: Friday 16:00 + 1 -> Monday 16:00 (or later past holidays)."""
        return self.add(start, days * _DAY)

    def elapsed(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """The working time between ``start`` and ``end``: the part of it that falls on working days
        (zero when ``end`` is not after ``start``).

        The first and last days count in part, the whole days between are counted by date (a wait of
        a year costs a few hundred dictionary look-ups, not as many datetime computations)."""
        at, stop = self._local(start), self._local(end)
        if stop <= at:
            return dt.timedelta(0)
        first_end = self._day_end(at)
        if stop <= first_end:
            return stop - at if self.is_working_day(at.date()) else dt.timedelta(0)
        total = first_end - at if self.is_working_day(at.date()) else dt.timedelta(0)
        day, last = first_end.date(), stop.date()
        while day < last:
            if self.is_working_day(day):
                total += _DAY
            day += _DAY
        if self.is_working_day(last):
            total += stop - dt.datetime.combine(last, dt.time(0), tzinfo=self.tz)
        return total
