"""Indonesian numbers, dates and money in words (pipeline.terbilang)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from pipeline.terbilang import (
    BULAN,
    HARI,
    akhir_jangka_waktu,
    jangka_waktu,
    parse_tanggal,
    rupiah,
    rupiah_terbilang,
    tanggal,
    tanggal_terbilang,
    terbilang,
)

KNOWN = {
    0: "nol",
    1: "satu",
    9: "sembilan",
    10: "sepuluh",
    11: "sebelas",
    12: "dua belas",
    19: "sembilan belas",
    20: "dua puluh",
    21: "dua puluh satu",
    99: "sembilan puluh sembilan",
    100: "seratus",
    101: "seratus satu",
    110: "seratus sepuluh",
    111: "seratus sebelas",
    115: "seratus lima belas",
    200: "dua ratus",
    999: "sembilan ratus sembilan puluh sembilan",
    1000: "seribu",
    1001: "seribu satu",
    1100: "seribu seratus",
    2000: "dua ribu",
    2026: "dua ribu dua puluh enam",
    10_000: "sepuluh ribu",
    11_000: "sebelas ribu",
    100_000: "seratus ribu",
    101_000: "seratus satu ribu",
    1_000_000: "satu juta",
    1_001_000: "satu juta seribu",
    1_250_000: "satu juta dua ratus lima puluh ribu",
    2_000_001: "dua juta satu",
    1_000_000_000: "satu miliar",
    7_500_000_000: "tujuh miliar lima ratus juta",
    1_000_000_000_000: "satu triliun",
    3_000_000_000_000_000: "tiga kuadriliun",
}


@pytest.mark.parametrize(("n", "words"), KNOWN.items())
def test_terbilang_known_values(n: int, words: str):
    assert terbilang(n) == words


def test_terbilang_negative_reads_minus():
    assert terbilang(-1) == "minus satu"
    assert terbilang(-2026) == "minus dua ribu dua puluh enam"


def test_terbilang_words_are_well_formed_for_every_number_below_twenty_thousand():
    for n in range(1, 20_000):
        words = terbilang(n).split()
        assert "nol" not in words, n
        assert "satu ribu" not in terbilang(n), n
        assert "satu ratus" not in terbilang(n), n
        assert "satu puluh" not in terbilang(n) and "satu belas" not in terbilang(n), n
        assert all(w.isalpha() for w in words), n


def test_terbilang_scales_read_satu_except_ribu():
    for scale, word in [(10**6, "juta"), (10**9, "miliar"), (10**12, "triliun")]:
        assert terbilang(scale) == f"satu {word}"
        assert terbilang(scale + 1000) == f"satu {word} seribu"


def test_terbilang_distinct_numbers_have_distinct_words():
    seen: dict[str, int] = {}
    for n in list(range(0, 5000)) + [10**6 + k for k in range(0, 3000, 7)]:
        words = terbilang(n)
        assert words not in seen, (n, seen.get(words))
        seen[words] = n


@pytest.mark.parametrize("bad", [True, False, 1.0, "5", None, Decimal(3)])
def test_terbilang_rejects_non_integers(bad: object):
    with pytest.raises(TypeError):
        terbilang(bad)  # type: ignore[arg-type]


def test_terbilang_rejects_numbers_beyond_kuadriliun():
    with pytest.raises(ValueError):
        terbilang(10**18)


def test_tanggal_terbilang_states_day_and_date_in_words():
    expected = "Senin tanggal dua puluh tiga bulan November tahun dua ribu dua puluh enam"
    assert tanggal_terbilang(date(2026, 11, 23)) == expected
    assert tanggal_terbilang("2026-11-23") == expected
    assert tanggal_terbilang(datetime(2026, 11, 23, 9, 30)) == expected


def test_day_names_follow_the_calendar():
    start = date(2026, 11, 23)  # a Monday
    for offset in range(14):
        day = start + timedelta(days=offset)
        assert tanggal_terbilang(day).split()[0] == HARI[offset % 7]
    assert tanggal_terbilang(date(2026, 11, 27)).startswith("Jumat tanggal dua puluh tujuh")
    assert tanggal_terbilang(date(2026, 11, 29)).startswith("Minggu tanggal")


def test_every_month_has_its_indonesian_name():
    for month in range(1, 13):
        assert tanggal(date(2026, month, 1)) == f"1 {BULAN[month - 1]} 2026"
        assert f"bulan {BULAN[month - 1]} tahun" in tanggal_terbilang(date(2026, month, 1))
    assert BULAN[0] == "Januari" and BULAN[11] == "Desember"


def test_tanggal_writes_day_month_name_year():
    assert tanggal(date(2026, 11, 23)) == "23 November 2026"
    assert tanggal("2031-02-01") == "1 Februari 2031"
    assert tanggal(" 2026-11-23 ") == "23 November 2026"


@pytest.mark.parametrize("bad", ["2026-13-45", "2026-02-30", "23-11-2026", "kemarin", "", None, 20261123, 3.5])
def test_bad_dates_raise_a_clear_value_error(bad: object):
    with pytest.raises(ValueError, match="Tanggal"):
        tanggal(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Tanggal"):
        tanggal_terbilang(bad)  # type: ignore[arg-type]


def test_parse_tanggal_accepts_dates_datetimes_and_iso_strings():
    assert parse_tanggal(date(2026, 11, 23)) == date(2026, 11, 23)
    assert parse_tanggal(datetime(2026, 11, 23, 23, 59)) == date(2026, 11, 23)
    assert parse_tanggal("2028-02-29") == date(2028, 2, 29)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1_250_000, "Rp1.250.000,00"),
        (10_000, "Rp10.000,00"),
        (0, "Rp0,00"),
        (999, "Rp999,00"),
        (1_000, "Rp1.000,00"),
        (Decimal("1250000.5"), "Rp1.250.000,50"),
        (Decimal("0.05"), "Rp0,05"),
        (Decimal("12.345"), "Rp12,35"),
        (7_500_000_000, "Rp7.500.000.000,00"),
        (-1_000, "-Rp1.000,00"),
    ],
)
def test_rupiah_is_written_without_a_space_thousands_with_dots_and_sen_with_comma(value: int | Decimal, text: str):
    assert rupiah(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1_250_000, "satu juta dua ratus lima puluh ribu rupiah"),
        (10_000, "sepuluh ribu rupiah"),
        (0, "nol rupiah"),
        (Decimal("1250000.50"), "satu juta dua ratus lima puluh ribu rupiah lima puluh sen"),
        (Decimal("0.01"), "nol rupiah satu sen"),
        (Decimal("100.00"), "seratus rupiah"),
    ],
)
def test_rupiah_terbilang_reads_rupiah_and_sen(value: int | Decimal, text: str):
    assert rupiah_terbilang(value) == text


@pytest.mark.parametrize("bad", [None, True, "satu juta", float("nan"), Decimal("Infinity"), [1]])
def test_rupiah_rejects_non_amounts(bad: object):
    with pytest.raises(ValueError):
        rupiah(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        rupiah_terbilang(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("mulai", "selesai", "text"),
    [
        ("2026-11-23", "2031-11-22", "5 (lima) tahun"),  # N whole years end the day before the same date
        ("2026-12-06", "2031-12-05", "5 (lima) tahun"),
        ("2026-12-06", "2031-12-06", "1827 (seribu delapan ratus dua puluh tujuh) hari"),  # 5 years and a day
        ("2026-11-23", "2031-11-23", "1827 (seribu delapan ratus dua puluh tujuh) hari"),
        ("2026-01-01", "2028-12-31", "3 (tiga) tahun"),  # not "1096 (...) hari"
        ("2026-01-01", "2026-12-31", "1 (satu) tahun"),
        ("2026-01-01", "2027-01-01", "366 (tiga ratus enam puluh enam) hari"),
        ("2027-03-01", "2029-02-28", "2 (dua) tahun"),
        ("2028-02-29", "2029-02-28", "1 (satu) tahun"),  # from a leap day: 29 February 2029 does not exist
        ("2028-03-01", "2029-02-28", "1 (satu) tahun"),
        ("2027-03-01", "2028-02-29", "1 (satu) tahun"),  # ending on a leap day
        ("2027-03-01", "2028-02-28", "365 (tiga ratus enam puluh lima) hari"),
        ("2028-02-29", "2033-02-28", "5 (lima) tahun"),
        ("2026-01-01", "2026-06-30", "6 (enam) bulan"),
        ("2026-01-01", "2027-06-30", "1 (satu) tahun 6 (enam) bulan"),
        ("2026-01-15", "2027-03-14", "1 (satu) tahun 2 (dua) bulan"),
        ("2026-01-01", "2026-01-31", "1 (satu) bulan"),
        ("2026-02-01", "2026-02-28", "1 (satu) bulan"),
        ("2026-01-31", "2026-02-28", "1 (satu) bulan"),  # 31 February does not exist: the month's last day
        ("2026-01-30", "2026-02-28", "1 (satu) bulan"),
        ("2026-03-31", "2026-04-30", "1 (satu) bulan"),  # 31st -> 30th
        ("2026-03-31", "2026-05-30", "2 (dua) bulan"),
        ("2026-04-30", "2026-05-29", "1 (satu) bulan"),
        ("2026-04-30", "2026-05-30", "31 (tiga puluh satu) hari"),
        ("2026-01-01", "2026-02-14", "45 (empat puluh lima) hari"),
        ("2026-01-01", "2026-01-10", "10 (sepuluh) hari"),
        ("2026-11-23", "2026-11-23", "1 (satu) hari"),
    ],
)
def test_jangka_waktu_is_computed_from_the_dates(mulai: str, selesai: str, text: str):
    assert jangka_waktu(mulai, selesai) == text
    assert jangka_waktu(date.fromisoformat(mulai), date.fromisoformat(selesai)) == text


@pytest.mark.parametrize(
    ("mulai", "months", "akhir"),
    [
        ("2026-12-06", 60, "2031-12-05"),
        ("2026-11-23", 60, "2031-11-22"),
        ("2028-02-29", 60, "2033-02-28"),
        ("2028-02-29", 12, "2029-02-28"),
        ("2027-02-28", 60, "2032-02-27"),
        ("2027-03-01", 12, "2028-02-29"),
        ("2026-01-31", 1, "2026-02-28"),
        ("2028-01-31", 1, "2028-02-29"),
        ("2026-03-31", 1, "2026-04-30"),
        ("2026-01-01", 6, "2026-06-30"),
        ("2026-12-31", 2, "2027-02-28"),
    ],
)
def test_a_period_of_whole_months_ends_the_day_before_the_same_date(mulai: str, months: int, akhir: str):
    assert akhir_jangka_waktu(date.fromisoformat(mulai), months) == date.fromisoformat(akhir)
    assert jangka_waktu(mulai, akhir) == (
        f"{months // 12} ({terbilang(months // 12)}) tahun"
        if months % 12 == 0
        else f"{months} ({terbilang(months)}) bulan"
    )


def test_jangka_waktu_refuses_an_end_before_the_start():
    with pytest.raises(ValueError, match="mendahului"):
        jangka_waktu("2026-11-23", "2026-11-22")
