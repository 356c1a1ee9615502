"""Hostile submissions: a learner who tries to fool the judge gains no points, the judge finishes,
nothing changes on disk, and the next submission is graded exactly as before.

Each test is one kind of attack, written as a learner would write it in a .py file or a notebook
cell. Attacks that would hurt this machine if they escaped (signalling every process, writing
outside the working folder) run only where the bubblewrap sandbox is available."""
from __future__ import annotations

import hashlib
import os
import socket
import textwrap
import threading
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder.checks import points_for
from autograder.core import Check
from autograder.judge import judge_in, judge_submission
from autograder.reference_file import reference_source
from autograder.sandbox import launch
from autograder.sandbox.remote import Sandbox

REPO = Path(__file__).resolve().parents[1]
RELU_OK = "import numpy as np\ndef relu(z):\n    return np.maximum(z, 0)\n"


def sandboxed() -> bool:
    return launch.probe()[0] == "bubblewrap"


needs_bubblewrap = pytest.mark.skipif(not sandboxed(), reason="bubblewrap cannot start here: "
                                      "this attack is only safe to try inside the sandbox")


def grade(source: str, functions=("relu",), **kwargs):
    blocks = [{"label": "attack.py", "filename": "<attack.py>", "source": textwrap.dedent(source)}]
    return judge_submission(blocks, list(functions), **kwargs)


def points(verdicts) -> float:
    return sum(r.points for r in verdicts.results)


def tree_digest(*folders: Path) -> str:
    """A digest of every file's path, size and content under the folders (what must not change)."""
    h = hashlib.sha256()
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and ".pytest_cache" not in path.parts:
                h.update(str(path).encode())
                h.update(path.read_bytes())
    return h.hexdigest()


pytestmark = pytest.mark.slow  # every test starts sandboxes: seconds each


@pytest.fixture(scope="module")
def baseline():
    """The reference's verdicts for softmax: what every later grading must reproduce."""
    return [(r.check, r.passed, r.points, r.message) for r in grade(reference_source(), ("softmax",)).results]


@pytest.fixture
def unchanged(baseline):
    """Around each attack: the kit's files are untouched, and the next submission gets the same verdicts."""
    watched = (REPO / "solutions", REPO / "autograder")
    before = tree_digest(*watched)
    yield
    assert tree_digest(*watched) == before, "an attack changed the kit's files"
    again = [(r.check, r.passed, r.points, r.message) for r in grade(reference_source(), ("softmax",)).results]
    assert again == baseline, "the next submission was graded differently after the attack"


# --- patching the judge or numpy at import -------------------------------------------------------


def test_patching_numpy_and_the_judge_at_import_gains_nothing(unchanged):
    verdicts = grade("""
        import numpy as np, builtins, sys
        np.allclose = lambda *a, **k: True
        np.array_equal = lambda *a, **k: True
        np.testing.assert_allclose = lambda *a, **k: None
        builtins.isinstance = lambda *a: True
        try:
            import autograder.judge as judge
            judge.precheck = lambda *a: ""
        except ImportError:
            pass
        def relu(z):
            raise NotImplementedError()
        def softmax(z):
            return z
    """, ("relu", "softmax"))
    assert points(verdicts) == 0
    assert all(not r.passed for r in verdicts.results)


def test_module_code_that_hangs_or_exits_only_loses_its_own_points(unchanged):
    start = time.monotonic()
    verdicts = grade("""
        import os, numpy as np
        def relu(z):
            return np.maximum(z, 0)
        os._exit(0)
    """)
    assert time.monotonic() - start < 60
    assert points(verdicts) == 0  # the interpreter ended while loading: nothing was defined in time
    assert any("loading stopped" in n for n in verdicts.notes)


# --- forging or garbling what comes back ---------------------------------------------------------


def test_garbage_written_to_the_judges_pipe_fails_the_check_cleanly(unchanged):
    verdicts = grade("""
        import os, numpy as np
        def relu(z):
            for fd in range(3, 1024):
                try:
                    os.write(fd, b"\\xff" * 64 + b'{"kind": "done", "outcome": "returned"}')
                except OSError:
                    pass
            return np.maximum(z, 0)
    """)
    assert points(verdicts) == 0
    assert all("could not be checked" in r.problem for r in verdicts.results)


def test_a_forged_reply_carries_only_the_learners_own_value(unchanged):
    # the learner takes over the worker (it is in their process) and answers every call itself
    verdicts = grade("""
        import gc, numpy as np
        from autograder.sandbox import wire
        for obj in gc.get_objects():
            if type(obj).__name__ == "Worker":
                def fake_call(header, blobs, _w=obj):
                    return wire.message("done", {"outcome": "returned", "passed": True, "points": 99},
                                        {"value": np.zeros(1), "args": (), "kwargs": {}})
                obj.call = fake_call
        def relu(z):
            raise NotImplementedError()
    """)
    assert points(verdicts) == 0


# --- objects that lie in comparisons -------------------------------------------------------------


def test_lying_arrays_and_numbers_are_rebuilt_as_plain_values(unchanged):
    verdicts = grade("""
        import numpy as np
        class Liar(np.ndarray):
            def __eq__(self, other): return np.ones(np.shape(other), bool)
            def __array_ufunc__(self, *a, **k): return np.ones(1, bool)
            def allclose(self, *a, **k): return True
        class Always(float):
            def __eq__(self, other): return True
            def __lt__(self, other): return True
        def relu(z):
            return np.zeros_like(np.asarray(z)).view(Liar)
        def cross_entropy(probs, labels, eps=1e-12):
            return Always(-1.0)
    """, ("relu", "cross_entropy"))
    assert points(verdicts) == 0


def test_returned_objects_that_cannot_be_plain_data_fail_clearly(unchanged):
    verdicts = grade("""
        class Anything:
            def __eq__(self, other): return True
            def __array__(self, *a, **k): raise RuntimeError
        def relu(z):
            return Anything()
    """)
    assert points(verdicts) == 0
    assert all(not r.internal for r in verdicts.results)


# --- reading the caller's frames -------------------------------------------------------------------


def test_the_call_stack_holds_no_expected_values(unchanged):
    verdicts = grade("""
        import sys, inspect, gc, numpy as np
        def relu(z):
            found = []
            frame = sys._getframe(1)
            while frame is not None:
                for name, value in frame.f_locals.items():
                    if name in ("expected", "want", "reference") and isinstance(value, np.ndarray):
                        return value
                frame = frame.f_back
            for obj in gc.get_objects():
                if isinstance(obj, dict) and "expected" in obj and isinstance(obj["expected"], np.ndarray):
                    return obj["expected"]
            return np.full(np.shape(z), 7.0)
    """)
    assert points(verdicts) == 0


# --- importing or reading the reference ------------------------------------------------------------


def test_importing_the_reference_fails_the_function_and_is_flagged(unchanged):
    verdicts = grade("""
        def softmax(z):
            from solutions import softmax as reference
            return reference(z)
    """, ("softmax",))
    assert points(verdicts) == 0
    assert all("reference" in r.problem for r in verdicts.results)
    assert any("softmax" in f for f in verdicts.flags)


def test_importing_the_reference_at_module_level_is_flagged(unchanged):
    verdicts = grade("""
        from solutions import relu
    """)
    assert points(verdicts) == 0
    assert any("solutions" in f for f in verdicts.flags)


def test_a_stand_in_cannot_answer_for_the_function_being_checked(unchanged):
    # while relu is judged, softmax is a stand-in that asks the judge; grabbing the stand-in of relu
    # during another check and calling it later must not reach the reference relu
    verdicts = grade("""
        import numpy as np
        grabbed = {}
        def softmax(z):
            grabbed["relu"] = globals().get("relu")
            e = np.exp(z - z.max(axis=-1, keepdims=True))
            return e / e.sum(axis=-1, keepdims=True)
        def forward(params, X):
            grabbed["relu_stand_in"] = relu
            raise NotImplementedError()
        def relu(z):
            for name in ("relu_stand_in",):
                if grabbed.get(name) is not None and grabbed[name] is not relu:
                    return grabbed[name](z)
            raise NotImplementedError()
    """, ("forward", "relu"))
    assert sum(r.points for r in verdicts.results if r.function == "relu") == 0


def test_trains_throwaway_worker_holds_no_reference_train_and_keeps_nothing(unchanged):
    # train's stand-ins run in a worker of its own: the reference train is not there, and what the
    # learner's train steals from that worker (the reference forward) is gone when predict is checked
    verdicts = grade("""
        import gc, os, inspect, numpy as np
        def train(X, labels, layer_sizes, *, epochs, batch_size, lr, rng, X_val=None, labels_val=None):
            for obj in gc.get_objects():
                if callable(obj) and getattr(obj, "__name__", "") == "train" and obj is not train:
                    return obj(X, labels, layer_sizes, epochs=epochs, batch_size=batch_size, lr=lr, rng=rng,
                               X_val=X_val, labels_val=labels_val)
            source = inspect.getsource(forward)
            for folder in (".", "/tmp"):
                with open(os.path.join(folder, "stolen_forward.py"), "w") as fh:
                    fh.write(source)
            raise NotImplementedError()
        def predict(params, X):
            namespace = {"np": np, "relu": lambda z: np.maximum(z, 0),
                         "softmax": lambda z: np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)}
            for folder in (".", "/tmp"):
                try:
                    exec(open(os.path.join(folder, "stolen_forward.py")).read(), namespace)
                    return np.argmax(namespace["forward"](params, X)[0], axis=1)
                except OSError:
                    continue
            raise NotImplementedError()
    """, ("train", "predict"))
    assert points(verdicts) == 0


@needs_bubblewrap
def test_the_reference_files_are_not_visible(unchanged):
    path = REPO / "solutions" / "activations.py"
    verdicts = grade(f"""
        import numpy as np
        def relu(z):
            namespace = {{"np": np}}
            exec(open({str(path)!r}).read(), namespace)
            return namespace["relu"](z)
    """)
    assert points(verdicts) == 0


# --- processes, network, environment, files, signals -----------------------------------------------


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_processes_started_by_learner_code_die_with_the_sandbox(unchanged):
    marker = f"backprop-kit-hostile-{os.getpid()}"
    verdicts = grade(f"""
        import os, subprocess, numpy as np
        def relu(z):
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    os.execv("/bin/sleep", ["/bin/sleep", "1000", {marker!r}])
                os._exit(0)
            return np.maximum(z, 0)
    """)
    assert verdicts.results
    deadline = time.monotonic() + 10
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _processes_with(marker), "a process started by learner code outlived its grading"


@needs_bubblewrap
def test_no_network(unchanged):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.1)
    port = server.getsockname()[1]
    accepted = []

    def serve():
        end = time.monotonic() + 20
        while time.monotonic() < end and not accepted:
            try:
                accepted.append(server.accept())
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        verdicts = grade(f"""
            import socket, numpy as np
            def relu(z):
                s = socket.create_connection(("127.0.0.1", {port}), timeout=2)
                s.sendall(b"leak")
                return np.maximum(z, 0)
        """)
    finally:
        thread.join(timeout=25)
        server.close()
    assert not accepted, "learner code reached a server on this machine"
    assert points(verdicts) == 0


def test_the_judges_environment_is_not_visible(unchanged, monkeypatch):
    monkeypatch.setenv("BACKPROP_KIT_TEST_SECRET", "s3cret")
    verdicts = grade("""
        import os, numpy as np
        def relu(z):
            if os.environ.get("BACKPROP_KIT_TEST_SECRET") != "s3cret":
                raise RuntimeError("the secret is not visible")
            return np.maximum(z, 0)
    """)
    assert points(verdicts) == 0
    assert all("secret is not visible" in r.message for r in verdicts.results)


@needs_bubblewrap
def test_no_writing_outside_the_working_folder(unchanged, tmp_path):
    targets = [tmp_path / "planted.txt", REPO / "planted.txt", REPO / "solutions" / "planted.py",
               Path(np.__file__).parent / "planted.py"]
    verdicts = grade(f"""
        import numpy as np
        def relu(z):
            for target in {[str(t) for t in targets]!r}:
                try:
                    with open(target, "w") as fh:
                        fh.write("planted")
                except OSError:
                    pass
            return np.maximum(z, 0)
    """)
    assert verdicts.results
    assert not any(t.exists() for t in targets)


@needs_bubblewrap
def test_signalling_the_judge_and_every_process_does_nothing_outside(unchanged):
    verdicts = grade("""
        import os, signal, numpy as np
        def relu(z):
            for pid in (os.getppid(), -1, 1):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            return np.maximum(z, 0)
    """)
    assert verdicts.results  # the judge (this process) is alive and finished


# --- floods ----------------------------------------------------------------------------------------


def test_floods_fail_their_check_and_the_judge_carries_on(unchanged):
    start = time.monotonic()
    verdicts = grade("""
        import numpy as np
        def relu(z):
            raise ValueError("x" * 50_000_000)
        def sigmoid(z):
            for _ in range(200_000):
                print("flood " * 20)
            return 1 / (1 + np.exp(-z))
        def softmax(z):
            return np.zeros(60_000_000)
        def relu_derivative(z):
            value = []
            for _ in range(100_000):
                value = [value]
            return value
    """, ("relu", "sigmoid", "softmax", "relu_derivative"))
    assert time.monotonic() - start < 120
    assert points(verdicts) == 0
    by_function = {r.function: r for r in verdicts.results}
    assert len(by_function["relu"].message) < 10_000
    assert "printed" in by_function["sigmoid"].problem
    assert all(not r.internal for r in verdicts.results)


def test_a_loop_that_never_ends_times_out_alone(unchanged):
    start = time.monotonic()
    verdicts = grade("""
        import numpy as np
        def relu(z):
            while True:
                pass
        def sigmoid(z):
            return np.exp(-np.logaddexp(0, -z))
    """, ("relu", "sigmoid"), timeout=1.0)
    assert time.monotonic() - start < 60
    problems = [r.problem for r in verdicts.results if r.function == "relu"]
    assert problems and "did not finish within 1 s" in problems[0], problems
    assert all("did not finish within" in p for p in problems), problems
    assert all(r.passed for r in verdicts.results if r.function == "sigmoid")


# --- nbgrader: a notebook that redefines check -------------------------------------------------------


def test_a_notebook_that_redefines_check_scores_nothing(unchanged):
    from autograder.nbgrader_grading import judge_notebook

    nb = nbformat.read(REPO / "release" / "02_activations" / "activations.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = "def check(*args, **kwargs):\n    return None\n" + cell.source
    grades = judge_notebook(nb)
    assert grades.cells and all(c.score == 0 for c in grades.cells.values())


# --- the capstone: changing the threshold ------------------------------------------------------------


def test_a_capstone_submission_cannot_lower_the_threshold(tmp_path, monkeypatch):
    from autograder.capstone import run_cli

    rng = np.random.default_rng(0)
    weak = {"W1": (0.01 * rng.standard_normal((784, 16))).astype(np.float32), "b1": np.zeros(16, np.float32),
            "W2": (0.01 * rng.standard_normal((16, 10))).astype(np.float32), "b2": np.zeros(10, np.float32)}
    model = tmp_path / "model.npz"
    np.savez(model, **weak)
    notebook = tmp_path / "attack.py"
    notebook.write_text(textwrap.dedent("""
        import os, numpy as np
        os.environ["BACKPROP_KIT_THRESHOLD"] = "0.01"
        try:
            import autograder.capstone as capstone
            capstone.CAPSTONE_THRESHOLD = 0.0
            capstone.threshold = lambda: 0.0
        except ImportError:
            pass
        def predict(params, X):
            A = X
            for k in range(1, len(params) // 2 + 1):
                A = A @ params[f"W{k}"] + params[f"b{k}"]
                if k < len(params) // 2:
                    A = np.maximum(A, 0)
            return np.argmax(A, axis=1)
    """))
    code = run_cli(str(model), str(notebook), as_json=True)
    assert code == 1  # fail: the weak model is far below 97%


# --- errors in the checks' own code ---------------------------------------------------------------


def test_an_error_in_a_checks_own_code_is_internal_not_the_learners():
    def broken(ns):
        ns["relu"](np.zeros(3))
        raise KeyError("a check author's mistake")

    check = Check("relu", "broken", "a check with a bug of its own", broken)
    blocks = [{"label": "ok.py", "filename": "<ok.py>", "source": RELU_OK}]
    with Sandbox(blocks, ["relu"], {}) as sandbox:
        verdicts = judge_in(sandbox, [check])
    (result,) = verdicts.results
    assert result.internal and not result.passed
    assert "not a mistake of yours" in result.message
    assert any("internal error" in f for f in verdicts.flags)


def test_every_report_names_its_isolation_and_scores_add_up():
    verdicts = grade(RELU_OK)
    assert verdicts.isolation in launch.ISOLATION_LEVELS
    assert points(verdicts) == sum(r.points for r in verdicts.results) == points_for("relu")


def test_require_sandbox_refuses_to_fall_back(monkeypatch):
    monkeypatch.setenv("BACKPROP_KIT_SANDBOX", "process")
    with pytest.raises(launch.SandboxUnavailable):
        grade(RELU_OK, require_sandbox=True)


def test_a_killed_worker_is_restarted_for_the_next_check():
    verdicts = grade("""
        import os, signal, numpy as np
        calls = []
        def relu(z):
            os.kill(os.getpid(), signal.SIGKILL)
        def sigmoid(z):
            return np.exp(-np.logaddexp(0, -z))
    """, ("relu", "sigmoid"))
    problems = [r.problem for r in verdicts.results if r.function == "relu"]
    assert problems and all("signal" in p for p in problems), problems
    assert all(r.passed for r in verdicts.results if r.function == "sigmoid")


def test_a_function_that_ran_out_of_time_gets_half_a_second_on_its_later_checks():
    """An endless loop costs its function's first check the full timeout and each later check half a
    second (TIMEOUT_AFTER_A_TIMEOUT), said in the feedback; other functions keep the full timeout."""
    from autograder.judge import AGAIN_OUT_OF_TIME, TIMEOUT_AFTER_A_TIMEOUT

    looping = ("import numpy as np\ndef relu_derivative(z):\n    return (z > 0).astype(float)\n"
               "def relu(z):\n    while True:\n        pass\n")
    start = time.monotonic()
    verdicts = grade(looping, functions=("relu", "relu_derivative"), timeout=3)
    elapsed = time.monotonic() - start
    relu = [r for r in verdicts.results if r.function == "relu"]
    assert len(relu) >= 3 and not any(r.passed for r in relu)
    assert "did not finish within 3 s" in relu[0].problem and AGAIN_OUT_OF_TIME not in relu[0].details
    for later in relu[1:]:
        assert f"did not finish within {TIMEOUT_AFTER_A_TIMEOUT:g} s" in later.problem
        assert AGAIN_OUT_OF_TIME in later.details
    assert all(r.passed for r in verdicts.results if r.function == "relu_derivative")
    assert elapsed < 3 * len(relu)  # the later checks did not each wait the full 3 s
