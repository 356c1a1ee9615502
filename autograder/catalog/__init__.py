"""The catalog of known mistakes and of correct alternatives.

A bug is a realistic wrong version of one learner function, with the hint that names its
misconception; when a learner's result is wrong, the judge replays the failing case with each
bug of that function and prints the hint of the one that reproduces it. An alternative is a
correct version written another way, which must pass every check. Both are also the
autograder's own test: every bug must fail with its hint, every alternative must pass.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import cache
from typing import Callable

from autograder.assignments import MODULES



@dataclass(frozen=True)
class Variant:
    """A replacement of one API function (and, where it must travel with it, of others)."""

    function: str
    name: str
    impl: Callable
    hint: str = ""                       # empty for a correct alternative
    also: dict = field(default_factory=dict)  # other functions replaced with it (forward for backward)

    @property
    def overrides(self) -> dict[str, Callable]:
        return {**self.also, self.function: self.impl}

    @property
    def id(self) -> str:
        return f"{self.function}.{self.name}"

    def source(self) -> str:
        """The variant as a learner would have written it: its functions' code, decorators removed,
        each renamed to the API name it replaces (paste it into a stub or a .py file)."""
        return "\n\n".join(_plain_source(fn, name) for name, fn in self.overrides.items()) + "\n"


def _plain_source(fn: Callable, name: str) -> str:
    import ast
    import inspect
    import textwrap

    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    node = tree.body[0]
    node.decorator_list = []
    node.name = name
    return ast.unparse(node)


_BUGS: list[Variant] = []
_ALTERNATIVES: list[Variant] = []


def bug(function: str, name: str, hint: str, also: dict | None = None):
    """Register the decorated function as a catalogued mistake in `function`."""

    def register(impl):
        _BUGS.append(Variant(function, name, impl, hint, dict(also or {})))
        return impl

    return register


def alternative(function: str, name: str, also: dict | None = None):
    """Register the decorated function as a correct alternative for `function`."""

    def register(impl):
        _ALTERNATIVES.append(Variant(function, name, impl, "", dict(also or {})))
        return impl

    return register


@cache
def _load() -> None:
    for module in MODULES:
        importlib.import_module(f"autograder.catalog.{module}")


def bugs(function: str | None = None) -> list[Variant]:
    _load()
    return [b for b in _BUGS if function is None or b.function == function]


def alternatives(function: str | None = None) -> list[Variant]:
    _load()
    return [a for a in _ALTERNATIVES if function is None or a.function == function]
