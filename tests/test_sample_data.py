"""The pilot fleet, the product catalogue and the comment bank (sample_data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from errors import InvalidInputError
from feedback.privacy import has_personal_data
from lab import COLUMNS, FORMATS, REGIONS, read_stores, write_stores_csv
from sample_data.catalogue import accessories_for, products, stock
from sample_data.comments import COMMENTS, flat_bank
from sample_data.fleet import default_stores

GERMAN_CITIES = {
    "Hamburg", "Berlin", "München", "Köln", "Frankfurt am Main", "Stuttgart", "Düsseldorf",
    "Leipzig", "Dortmund", "Essen", "Bremen", "Dresden", "Hannover", "Nürnberg",
}  # fmt: skip


def test_default_fleet_is_twelve_real_german_stores():
    stores = default_stores()
    assert [s.store_id for s in stores] == [f"S{i:02d}" for i in range(1, 13)]
    assert len({s.city for s in stores}) == 12
    assert {s.city for s in stores} <= GERMAN_CITIES
    assert {s.region for s in stores} == set(REGIONS)
    assert {s.format for s in stores} == set(FORMATS)
    for s in stores:
        assert s.name.startswith(f"storelab {s.city} ")
        assert 500 <= s.size_sqm <= 5000


def test_fleet_is_deterministic_for_a_seed():
    assert default_stores(seed=7) == default_stores(seed=7)
    assert default_stores(seed=7) != default_stores(seed=8)
    assert default_stores(3) == default_stores(12)[:3]


def test_fleet_size_out_of_range_is_a_user_error():
    with pytest.raises(InvalidInputError, match="between 1 and"):
        default_stores(0)


def test_csv_round_trip_utf8(tmp_path: Path):
    path = write_stores_csv(tmp_path / "stores.csv", default_stores())
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == ",".join(COLUMNS) == "store_id,name,city,region,format,size_sqm"
    assert "München" in text
    assert read_stores(path) == default_stores()


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "stores.csv"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = "S01,storelab Hamburg Jungfernstieg,Hamburg,Nord,flagship,2740\n"


@pytest.mark.parametrize(
    ("body", "line", "column", "words"),
    [
        ("store_id,name,city,region,format\n" + GOOD, 1, "size_sqm", "missing column"),
        (
            "store_id,name,city,region,format,size_sqm\n" + GOOD
            + "S02,storelab Berlin Zoo,Berlin,Ost,city,gross\n",
            3, "size_sqm", "not a number",
        ),
        ("store_id,name,city,region,format,size_sqm\n" + GOOD + GOOD, 3, "store_id", "duplicate"),
        (
            "store_id,name,city,region,format,size_sqm\n"
            "S01,storelab Köln,Köln,Mitte,city,900\n",
            2, "region", "not one of",
        ),
        ("store_id,name,city,region,format,size_sqm\nS01,x,Köln\n", 2, "region", "fields"),
    ],
)  # fmt: skip
def test_bad_csv_names_file_line_and_column(tmp_path, body, line, column, words):
    path = _csv(tmp_path, body)
    with pytest.raises(InvalidInputError) as err:
        read_stores(path)
    message = str(err.value)
    assert str(path) in message
    assert f"line {line}" in message
    assert f"column '{column}'" in message
    assert words in message


def test_missing_csv_is_a_user_error(tmp_path):
    with pytest.raises(InvalidInputError, match="does not exist"):
        read_stores(tmp_path / "nope.csv")


def test_catalogue_fits_the_seeds_and_stock_is_deterministic():
    items = {p.id: p for p in products()}
    assert {"nordkap", "fjord-knit", "hafen-chino", "elbe-sneaker"} <= set(items)
    assert "M" in items["nordkap"].sizes and items["nordkap"].care["de"]
    assert "enamel-cleaner" in [a.id for a in accessories_for("enamel-toaster")]
    assert "descaling-tablets" in [a.id for a in accessories_for("coffee-machine")]
    assert "kettle-filter" in [a.id for a in accessories_for("kettle")]
    sku = items["nordkap"].skus[2]
    assert stock("S01", sku) == stock("S01", sku)
    levels = [stock(s.store_id, k) for s in default_stores() for k in items["nordkap"].skus]
    assert 0 in levels and max(levels) > 0


def test_comment_bank_has_both_languages_and_some_contact_details():
    texts, slices = flat_bank()
    assert set(COMMENTS) == {"de", "en"}
    assert all(stop > start for start, stop in slices.values())
    assert sum(has_personal_data(t) for t in texts) >= 4
    assert not all(has_personal_data(t) for t in texts)
