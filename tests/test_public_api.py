"""The public API is one flat, sorted, complete namespace; everything else is internal."""

from __future__ import annotations

import inspect

import kubegen


def test_all_is_sorted_and_unique():
    assert kubegen.__all__ == sorted(set(kubegen.__all__))


def test_all_is_complete():
    public = {
        name
        for name, value in vars(kubegen).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert public == set(kubegen.__all__) - {"__version__"}


def test_every_public_class_has_a_docstring():
    missing = [
        name for name in kubegen.__all__
        if inspect.isclass(getattr(kubegen, name)) and not inspect.getdoc(getattr(kubegen, name))
    ]
    assert missing == []
