"""Packaging: what `pip install .` builds must contain every module (setuptools' package discovery
skips folders without __init__.py, which an editable install would hide)."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "chainrule"


def test_every_code_folder_is_a_package():
    missing = [str(d.relative_to(PACKAGE.parent)) for d in PACKAGE.rglob("*")
               if d.is_dir() and d.name != "__pycache__" and any(d.glob("*.py"))
               and not (d / "__init__.py").exists()]
    assert not missing, f"folders with modules but no __init__.py (left out of wheels): {missing}"
    assert (PACKAGE / "__init__.py").exists()


def test_bundled_data_is_declared_as_package_data():
    text = (PACKAGE.parent / "pyproject.toml").read_text()
    assert '"chainrule.data" = ["files/*"]' in text
    assert (PACKAGE / "data" / "files" / "digits.csv.gz").stat().st_size > 50_000
