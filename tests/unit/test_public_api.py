"""Each package's public API is its ``__all__``: everything listed exists, everything exported is
listed (as httpx's test_exported_members does); no hand-kept list of names."""

from __future__ import annotations
import __future__

import importlib
import types

import pytest

PACKAGES = ["rayguild", "rayguild.ring", "rayguild.relay", "rayguild.storage", "rayguild.http_api"]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_lists_exactly_what_the_package_exports(name: str) -> None:
    package = importlib.import_module(name)
    listed = package.__all__
    assert len(set(listed)) == len(listed), "a name is listed twice"
    for member in listed:
        assert getattr(package, member, None) is not None, f"{name}.{member} is listed but missing"
    exported = {
        member
        for member, value in vars(package).items()
        if not member.startswith("_")
        and not isinstance(value, types.ModuleType | __future__._Feature)  # submodules, `annotations`
    }
    assert exported == set(listed), f"{name} exports names its __all__ does not list, or the reverse"
