"""Which ML frameworks the course forbids, and how to tell that learner code uses one.

One list, read by the sandbox worker (what a submission's functions reach), the judge (a check's
"uses a framework" note) and the capstone grader (a learner's own kernel). Standard library only:
the worker imports it inside the sandbox.
"""
from __future__ import annotations

import types
from typing import Callable, Mapping

# Code that reaches one of these is not the learner's own NumPy.
FRAMEWORKS = ("torch", "tensorflow", "keras", "jax", "sklearn", "scipy")
# Importing these into a notebook is fine (scipy's plots and statistics are no network); only code
# that calls them counts.
IMPORT_ALLOWED = ("scipy",)


def _top(module) -> str:
    return module.split(".")[0] if isinstance(module, str) else ""


def framework_used(fn, depth: int = 3) -> str:
    """The framework a function is, or reaches through its code and its own helpers ('' if none)."""
    try:
        module = getattr(fn, "__module__", None) or ""
        if _top(module) in FRAMEWORKS:
            return f"{module}.{getattr(fn, '__name__', '')}".rstrip(".")
        code = getattr(fn, "__code__", None)
        if not isinstance(code, types.CodeType) or depth == 0:
            return ""
        scope = getattr(fn, "__globals__", {})
        for name in _names(code):
            if name in FRAMEWORKS:
                return name
            obj = scope.get(name)
            if isinstance(obj, types.ModuleType) and _top(obj.__name__) in FRAMEWORKS:
                return obj.__name__
            if callable(obj) and obj is not fn and not isinstance(obj, type):
                obj_module = getattr(obj, "__module__", None) or ""
                if _top(obj_module) in FRAMEWORKS:
                    return f"{obj_module}.{getattr(obj, '__name__', name)}"
                if isinstance(obj, types.FunctionType) and obj.__globals__ is scope:
                    found = framework_used(obj, depth - 1)
                    if found:
                        return found
    except Exception:  # a hostile object's attribute lookup: not a framework's
        return ""
    return ""


def _names(code: types.CodeType) -> set:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _imported(name: str, value) -> str:
    """How one namespace entry is a framework's module, class, function or object ('' if not)."""
    if isinstance(value, types.ModuleType):
        if _top(value.__name__) in FRAMEWORKS and _top(value.__name__) not in IMPORT_ALLOWED:
            alias = "" if name == value.__name__ else f" as {name}"
            return f"the notebook imports {value.__name__}{alias}"
        return ""
    imported = isinstance(value, (type, types.FunctionType, types.BuiltinFunctionType))
    module = (getattr(value, "__module__", None) if imported else type(value).__module__) or ""
    if _top(module) in FRAMEWORKS and _top(module) not in IMPORT_ALLOWED:
        if imported:
            return f"the notebook imports {module}.{getattr(value, '__name__', name)}"
        return f"the notebook holds `{name}`, a {module}.{type(value).__name__}"
    return ""


def namespace_frameworks(namespace: Mapping, functions: Mapping[str, Callable] | None = None) -> str:
    """How a learner's namespace uses a framework, in words ('' if it does not): the modules,
    classes, functions and objects imported or made there, then the code of `functions` (checked
    first) and of every function the namespace defines."""
    reached: dict[str, Callable] = dict(functions or {})
    for name, value in list(namespace.items()):
        if name.startswith("_"):
            continue
        try:
            found = _imported(name, value)
        except Exception:  # an object whose attribute lookup fails is not a framework's
            continue
        if found:
            return found
        if isinstance(value, types.FunctionType) and value.__globals__ is namespace:
            reached.setdefault(name, value)
    for name, fn in reached.items():
        used = framework_used(fn)
        if used:
            return f"{name} uses {used}"
    return ""
