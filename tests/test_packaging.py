"""The production image carries every package the project installs."""

from __future__ import annotations

import re
import tomllib

from tests.fixtures import ROOT


def test_the_dockerfile_copies_every_installed_package():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {name.rstrip("*") for name in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]}
    copied = set(re.findall(r"^COPY (\w+) \./\1$", (ROOT / "Dockerfile").read_text(), flags=re.MULTILINE))
    assert packages == copied
