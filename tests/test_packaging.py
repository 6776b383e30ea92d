"""The package list in pyproject.toml covers every subpackage, and the rules ship inside the package."""

from __future__ import annotations

import tomllib

from conftest import ROOT


def test_every_subpackage_is_listed():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "policywatch").rglob("__init__.py")
        if "__pycache__" not in path.parts
    }
    assert on_disk | {"policywatch._rules"} == listed


def test_rules_directory_is_mapped_into_the_package():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["package-dir"]["policywatch._rules"] == "rules"
    assert config["package-data"]["policywatch._rules"] == ["*.yaml"]
    assert list((ROOT / "rules").glob("*.yaml"))
