"""scripts/sync_points.py writes each test cell's points from its function's checks, and only that."""
import importlib.util
import shutil
from pathlib import Path

from autograder.checks import points_for

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("sync_points", ROOT / "scripts" / "sync_points.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sync_points_restores_a_changed_cell_and_nothing_else(tmp_path):
    shutil.copytree(ROOT / "source", tmp_path / "source")
    notebook = tmp_path / "source" / "02_activations" / "activations.ipynb"
    original = notebook.read_text(encoding="utf-8")
    wrong = original.replace(f'"points": {float(points_for("softmax"))}', '"points": 99.0')
    assert wrong != original
    notebook.write_text(wrong, encoding="utf-8")
    changed = _script().sync(tmp_path / "source")
    assert changed == [f"02_activations/test_softmax: 99.0 -> {float(points_for('softmax'))}"]
    assert notebook.read_text(encoding="utf-8") == original

