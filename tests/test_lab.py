"""Finding, creating and configuring a lab."""

from __future__ import annotations

import os

import pytest

from errors import InvalidInputError, LabNotFoundError
from lab import CONFIG_FILE, find_lab, load_config, rotate_token
from tests.fixtures import new_lab


def test_init_creates_layout_token_and_stores(tmp_path):
    lab = new_lab(tmp_path / "pilot", locale="en")
    for sub in ("prototypes", "experiments", "spool", "reports"):
        assert (lab.root / sub).is_dir()
    assert lab.config.lab.locale == "en"
    assert len(lab.config.dashboard.token) >= 24
    assert lab.stores_csv.read_text(encoding="utf-8").startswith(
        "store_id,name,city,region,format,size_sqm"
    )
    other = new_lab(tmp_path / "other")
    assert other.config.dashboard.token != lab.config.dashboard.token
    assert "spool/" in (lab.root / ".gitignore").read_text()


def test_discovery_order_flag_then_env_then_walking_up(tmp_path, monkeypatch):
    a = new_lab(tmp_path / "a")
    b = new_lab(tmp_path / "b")
    monkeypatch.setenv("STORELAB_LAB", str(b.root))
    assert find_lab(a.root).root == a.root
    assert find_lab().root == b.root
    monkeypatch.delenv("STORELAB_LAB")
    assert find_lab(start=a.root / "prototypes").root == a.root
    with pytest.raises(LabNotFoundError, match="No lab found"):
        find_lab(start=tmp_path)


def test_env_pointing_nowhere_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("STORELAB_LAB", str(tmp_path / "gone"))
    with pytest.raises(LabNotFoundError, match="STORELAB_LAB points to"):
        find_lab()


def test_folder_without_config_is_not_a_lab(tmp_path):
    (tmp_path / "x").mkdir()
    with pytest.raises(LabNotFoundError, match="storelab init"):
        find_lab(tmp_path / "x")


def test_config_typos_are_named(tmp_path):
    lab = new_lab(tmp_path / "lab")
    text = lab.config_path.read_text().replace("redact_text", "redact_txt")
    lab.config_path.write_text(text)
    with pytest.raises(InvalidInputError, match="privacy.redact_txt"):
        load_config(lab.config_path)
    lab.config_path.write_text("[lab\nname=")
    with pytest.raises(InvalidInputError, match="not valid TOML"):
        load_config(lab.config_path)


def test_bad_locale_and_existing_file(tmp_path):
    with pytest.raises(InvalidInputError, match="locale"):
        new_lab(tmp_path / "x", locale="fr")
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidInputError, match="not a folder"):
        new_lab(tmp_path / "file")
    assert not (tmp_path / "x" / CONFIG_FILE).exists()


def test_config_holds_the_token_for_its_owner_only(tmp_path):
    lab = new_lab(tmp_path / "lab")
    assert lab.config_path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("name", ['lab-q"uote', "back\\slash", "zeile\numbruch", "Café Ümlaut"])
def test_lab_names_with_quotes_and_escapes_make_valid_toml(tmp_path, name):
    lab = new_lab(tmp_path / "lab", name=name)
    assert load_config(lab.config_path).lab.name == name


def test_pilot_and_kiosk_settings_have_defaults_and_are_checked(tmp_path):
    lab = new_lab(tmp_path / "lab")
    assert lab.config.kiosk.idle_timeout_s == 90
    assert lab.config.privacy.retention_days == 30 and lab.config.privacy.redact_text
    assert lab.config.pilot.opening_hours == "09:00-20:00"
    text = lab.config_path.read_text(encoding="utf-8")
    lab.config_path.write_text(text.replace('"09:00-20:00"', '"9-20"'), encoding="utf-8")
    with pytest.raises(InvalidInputError, match="pilot.opening_hours"):
        load_config(lab.config_path)


def test_stores_csv_may_give_a_store_its_own_opening_hours(tmp_path):
    from dataclasses import replace

    from lab import read_stores, write_stores_csv
    from sample_data.fleet import default_stores

    stores = default_stores(3)
    path = write_stores_csv(tmp_path / "stores.csv", stores)
    assert "opening_hours" not in path.read_text(encoding="utf-8")  # the column is optional
    assert all(s.opening_hours is None for s in read_stores(path))
    stores[1] = replace(stores[1], opening_hours="22:00-06:00")
    path = write_stores_csv(tmp_path / "stores.csv", stores)
    assert path.read_text(encoding="utf-8").splitlines()[0].endswith(",opening_hours")
    assert [s.opening_hours for s in read_stores(path)] == [None, "22:00-06:00", None]


@pytest.mark.parametrize("hours", ["9-17", "10:00-25:00", "09:00-24:30", "10:00-10:00"])
def test_bad_opening_hours_in_stores_csv_name_line_and_column(tmp_path, hours):
    from lab import read_stores

    path = tmp_path / "stores.csv"
    path.write_text(
        "store_id,name,city,region,format,size_sqm,opening_hours\n"
        "S01,A,Hamburg,Nord,city,900,\n"
        f"S02,B,Berlin,Ost,city,900,{hours}\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInputError) as err:
        read_stores(path)
    assert f"{path}, line 3, column 'opening_hours'" in str(err.value)
    assert repr(hours) in str(err.value)


@pytest.mark.parametrize("hours", ["09:00-24:30", "10:00-10:00"])
def test_bad_lab_opening_hours_are_named(tmp_path, hours):
    lab = new_lab(tmp_path / "lab")
    text = lab.config_path.read_text().replace('"09:00-20:00"', f'"{hours}"')
    lab.config_path.write_text(text)
    with pytest.raises(InvalidInputError, match="pilot.opening_hours"):
        load_config(lab.config_path)


def test_rotate_token_changes_only_the_token_and_keeps_the_file_private(tmp_path):
    lab = new_lab(tmp_path / "lab")
    path = lab.config_path
    text = path.read_text(encoding="utf-8").replace(
        "[kiosk]", "# our own note, kept\n[kiosk]"
    )  # a comment of the team's own
    path.write_text(text, encoding="utf-8")
    os.chmod(path, 0o600)
    old = lab.config.dashboard.token
    new = rotate_token(lab)
    assert new != old and len(new) >= 16
    assert lab.config.dashboard.token == new  # the cached config is dropped
    assert load_config(path).dashboard.token == new
    after = path.read_text(encoding="utf-8")
    assert after == text.replace(old, new)  # every other line and comment as it was
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def load_config_text_ok(lab, text: str) -> bool:
    lab.config_path.write_text(text, encoding="utf-8")
    return bool(load_config(lab.config_path).dashboard.token)


def test_rotate_token_refuses_a_config_it_cannot_edit_safely(tmp_path):
    lab = new_lab(tmp_path / "lab")
    text = lab.config_path.read_text(encoding="utf-8")
    token = lab.config.dashboard.token
    inline = f'dashboard = {{ token = "{token}" }}\n' + text.split("[dashboard]")[0]
    assert load_config_text_ok(lab, inline)
    lab.config_path.write_text(inline, encoding="utf-8")
    with pytest.raises(InvalidInputError, match="no single line"):
        rotate_token(lab)
    assert lab.config_path.read_text(encoding="utf-8") == inline
