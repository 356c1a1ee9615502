"""The reference as one learner-style .py file: the complete submission for tests, benchmarks and the
example with mistakes."""
import inspect
import textwrap

import solutions


def reference_source() -> str:
    """The whole reference as one learner-style file."""
    parts = ["import numpy as np", "import os", ""]
    for name in solutions.__all__:
        parts.append(textwrap.dedent(inspect.getsource(getattr(solutions, name))))
    helpers = _reference_helpers()
    return "\n\n".join(parts[:2] + helpers + parts[3:]) + "\n"


def _reference_helpers() -> list[str]:
    """Module-level helpers the reference functions use (anything not in the API, defined in solutions)."""
    import types

    seen, out = set(), []
    for name in solutions.__all__:
        module = inspect.getmodule(getattr(solutions, name))
        for attr, value in vars(module).items():
            if attr in solutions.__all__ or attr.startswith("__") or attr in seen:
                continue
            if isinstance(value, types.FunctionType) and value.__module__ == module.__name__:
                seen.add(attr)
                out.append(textwrap.dedent(inspect.getsource(value)))
            elif isinstance(value, (int, float, str, tuple)) and attr.isupper():
                seen.add(attr)
                out.append(f"{attr} = {value!r}")
    return out


def reference_source_without(names) -> str:
    """The reference as one file, less the functions `names` (a worker that may run every other
    reference function, but not these)."""
    import ast

    tree = ast.parse(reference_source())
    tree.body = [node for node in tree.body if not (isinstance(node, ast.FunctionDef) and node.name in set(names))]
    return ast.unparse(tree) + "\n"
