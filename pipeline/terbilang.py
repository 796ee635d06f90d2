"""Indonesian numbers, dates and money in words, as the naskah write them.

A naskah states the signing day and date in words ("Pada hari ini Senin tanggal dua puluh
tiga bulan November tahun dua ribu dua puluh enam") and amounts twice ("2 (dua)",
"Rp1.250.000,00 (satu juta dua ratus lima puluh ribu rupiah)"), so a typo in one form
is caught by the other.  These functions are the Jinja filters of the templates
(``pipeline.drafting.templates.make_environment``); they accept what JSON data carries (ISO date
strings) as well as Python values, and refuse anything else loudly instead of printing a
wrong date or amount into a legal document.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

__all__ = [
    "BULAN",
    "HARI",
    "akhir_jangka_waktu",
    "jangka_waktu",
    "parse_tanggal",
    "rupiah",
    "rupiah_terbilang",
    "tanggal",
    "tanggal_terbilang",
    "terbilang",
]

HARI = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")  # date.weekday() order
BULAN = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)

_SATUAN = ("nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan")
# Scale words for groups of three digits; "kuadriliun" keeps the limit well above any APBD.
_SKALA = ("", "ribu", "juta", "miliar", "triliun", "kuadriliun")
_MAX = 1000 ** len(_SKALA) - 1
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SEN = Decimal("0.01")


def _check_int(n: object) -> int:
    # bool is an int subclass: True must not silently become "satu".
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"Terbilang hanya untuk bilangan bulat, bukan {type(n).__name__} ({n!r}).")
    return n


def _ratusan(n: int) -> list[str]:
    """Words for 1..999 ("seratus", "sebelas", "dua puluh"); empty for 0."""
    words: list[str] = []
    ratus, sisa = divmod(n, 100)
    if ratus == 1:
        words.append("seratus")
    elif ratus > 1:
        words += [_SATUAN[ratus], "ratus"]
    if sisa == 0:
        return words
    if sisa < 10:
        words.append(_SATUAN[sisa])
    elif sisa == 10:
        words.append("sepuluh")
    elif sisa == 11:
        words.append("sebelas")
    elif sisa < 20:
        words += [_SATUAN[sisa - 10], "belas"]
    else:
        puluh, satuan = divmod(sisa, 10)
        words += [_SATUAN[puluh], "puluh"]
        if satuan:
            words.append(_SATUAN[satuan])
    return words


def terbilang(n: int) -> str:
    """``n`` in Indonesian words: 11 "sebelas", 1000 "seribu", 2026 "dua ribu dua puluh enam".

    Negative numbers read "minus ...".  Only real ``int`` values are accepted (not bool,
    float or str) because a silently converted value in a legal text is worse than an error.
    """
    n = _check_int(n)
    if n < 0:
        return "minus " + terbilang(-n)
    if n == 0:
        return "nol"
    if n > _MAX:
        raise ValueError(f"Bilangan {n} terlalu besar untuk ditulis dengan huruf (paling besar {_MAX}).")
    words: list[str] = []
    groups: list[int] = []
    while n:
        n, group = divmod(n, 1000)
        groups.append(group)
    for level in range(len(groups) - 1, -1, -1):
        group = groups[level]
        if group == 0:
            continue
        if level == 1 and group == 1:
            words.append("seribu")  # "seribu", never "satu ribu"; but "satu juta"
            continue
        words += _ratusan(group)
        if level:
            words.append(_SKALA[level])
    return " ".join(words)


def parse_tanggal(d: date | str) -> date:
    """A date from a ``date``/``datetime`` or an ISO ``YYYY-MM-DD`` string (as JSON carries it).

    Raises ValueError with an Indonesian message for anything else, including None and
    impossible dates such as "2026-13-45".
    """
    if isinstance(d, datetime):
        return d.date()
    if isinstance(d, date):
        return d
    if isinstance(d, str):
        text = d.strip()
        if _ISO_DATE.fullmatch(text):
            try:
                return date.fromisoformat(text)
            except ValueError:
                pass
        raise ValueError(f"Tanggal '{d}' tidak valid; tulis dengan format TTTT-BB-HH, mis. 2026-11-23.")
    raise ValueError(f"Tanggal tidak valid: {d!r}; tulis dengan format TTTT-BB-HH, mis. 2026-11-23.")


def tanggal(d: date | str) -> str:
    """The date as body text writes it: "23 November 2026"."""
    day = parse_tanggal(d)
    return f"{day.day} {BULAN[day.month - 1]} {day.year}"


def tanggal_terbilang(d: date | str) -> str:
    """Day and date in words for the opening sentence of a naskah.

    ``date(2026, 11, 23)`` gives "Senin tanggal dua puluh tiga bulan November tahun dua
    ribu dua puluh enam"; the day name is computed, never typed, so it cannot disagree.
    """
    day = parse_tanggal(d)
    return (
        f"{HARI[day.weekday()]} tanggal {terbilang(day.day)} bulan {BULAN[day.month - 1]} tahun {terbilang(day.year)}"
    )


def akhir_jangka_waktu(mulai: date | str, bulan: int) -> date:
    """The last day of a period of ``bulan`` whole months that starts on ``mulai``.

    A period of N months runs up to and including the day before the same date N months
    later: 6 December 2026 + 5 years ends on 5 December 2031 (ending on the 6th would be five
    years and a day).  Where that date does not exist (31 April, 29 February of a common
    year) the period ends on the last day of that month: 31 January + 1 month ends on
    28 February, 29 February 2028 + 1 year on 28 February 2029.
    """
    start = parse_tanggal(mulai)
    if isinstance(bulan, bool) or not isinstance(bulan, int) or bulan < 1:
        raise ValueError(f"Jumlah bulan harus bilangan bulat positif, bukan {bulan!r}.")
    year, month0 = divmod(start.month - 1 + bulan, 12)
    year += start.year
    last_day = calendar.monthrange(year, month0 + 1)[1]
    if start.day > last_day:  # the same date does not exist: the month's last day
        return date(year, month0 + 1, last_day)
    return date(year, month0 + 1, start.day) - timedelta(days=1)


def _lama(bulan: int) -> str:
    tahun, sisa = divmod(bulan, 12)
    parts = []
    if tahun:
        parts.append(f"{tahun} ({terbilang(tahun)}) tahun")
    if sisa:
        parts.append(f"{sisa} ({terbilang(sisa)}) bulan")
    return " ".join(parts)


def jangka_waktu(mulai: date | str, selesai: date | str) -> str:
    """The length of a period as the naskah states it: "5 (lima) tahun", "1 (satu) tahun 6 (enam) bulan".

    Computed from the two dates so the words can never disagree with them.  ``selesai`` is
    the last day of the period: whole years or months end the day before the same date
    (:func:`akhir_jangka_waktu`), so 6 December 2026 to 5 December 2031 is "5 (lima) tahun"
    and 1 January to 30 June "6 (enam) bulan"; any other period is counted in days, both
    ends included ("45 (empat puluh lima) hari").  Ending on the anniversary itself is a
    year and a day, so it is stated in days.
    """
    start, end = parse_tanggal(mulai), parse_tanggal(selesai)
    if end < start:
        raise ValueError(f"Tanggal selesai ({tanggal(end)}) mendahului tanggal mulai ({tanggal(start)}).")
    around = (end.year - start.year) * 12 + end.month - start.month
    for bulan in (around, around + 1):  # a period ending in month M is M or M+1 months after the start's
        if bulan < 1:
            continue
        try:
            if akhir_jangka_waktu(start, bulan) == end:
                return _lama(bulan)
        except (ValueError, OverflowError):  # beyond year 9999
            continue
    days = (end - start).days + 1
    return f"{days} ({terbilang(days)}) hari"


def _amount(n: int | Decimal | float | str) -> Decimal:
    """Money as a Decimal rounded to sen; floats go through ``str`` so 0.1 stays 0.1."""
    if isinstance(n, bool) or n is None:
        raise ValueError(f"Nilai rupiah tidak valid: {n!r}.")
    try:
        if isinstance(n, int | Decimal):
            value = Decimal(n)
        elif isinstance(n, float | str):
            value = Decimal(str(n).strip())
        else:
            raise ValueError(f"Nilai rupiah tidak valid: {n!r}.")
    except InvalidOperation:
        raise ValueError(f"Nilai rupiah tidak valid: {n!r}.") from None
    if not value.is_finite():
        raise ValueError(f"Nilai rupiah tidak valid: {n!r}.")
    return value.quantize(_SEN, rounding=ROUND_HALF_UP)


def rupiah(n: int | Decimal) -> str:
    """ "Rp1.250.000,00": no space after "Rp" (Tata Naskah Dinas, as in "Rp10.000,00"), thousands
    separated by '.', two decimals after ','."""
    value = _amount(n)
    sign = "-" if value < 0 else ""
    rupiahs, sen = divmod(abs(value) * 100, 100)
    grouped = f"{int(rupiahs):,}".replace(",", ".")
    return f"{sign}Rp{grouped},{int(sen):02d}"


def rupiah_terbilang(n: int | Decimal) -> str:
    """ "satu juta dua ratus lima puluh ribu rupiah", plus "... lima puluh sen" when fractional."""
    value = _amount(n)
    sign = "minus " if value < 0 else ""
    rupiahs, sen = divmod(abs(value) * 100, 100)
    text = f"{sign}{terbilang(int(rupiahs))} rupiah"
    if sen:
        text += f" {terbilang(int(sen))} sen"
    return text
