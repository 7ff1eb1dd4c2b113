"""Finding, creating and configuring a lab."""

from __future__ import annotations

import pytest

from errors import InvalidInputError, LabNotFoundError
from lab import CONFIG_FILE, find_lab, load_config
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
