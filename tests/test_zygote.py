"""A batch lane's zygote (autograder/sandbox/zygote.py): two submissions graded back to back in one
lane, A hostile and B honest. B looks for every trace A tried to leave (its `probe` returns what it
finds) and must find exactly what it finds in a lane of its own, and get exactly the grade it gets
alone; A still gets its verdicts. Real bubblewrap, no mocks."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from autograder.assignments import ASSIGNMENTS
from autograder.checks import FUNCTIONS
from autograder.checks.base import REFERENCE
from autograder.judge import judge_submission
from autograder.reference_file import reference_source
from autograder.sandbox import launch
from autograder.sandbox.remote import Sandbox
from autograder.sandbox.zygote_host import ZygoteHost

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(launch.probe()[0] != "bubblewrap", reason="the zygote needs bubblewrap")

# B: the honest submission (the reference of assignment 02) with a function that reports what it sees
PROBE = r'''
import ctypes, os, stat, time

def _entries(folder):
    out = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if os.path.join(root, d) not in ("/proc", "/sys", "/usr", "/etc", "/dev/pts")
                   and not os.path.ismount(os.path.join(root, d))]
        for name in dirs + files:
            path = os.path.join(root, name)
            st = os.lstat(path)
            try:
                xattrs = sorted(os.listxattr(path, follow_symlinks=False))
            except OSError:
                xattrs = []
            out.append((path, oct(stat.S_IMODE(st.st_mode)), xattrs))
    return sorted(out)

def probe(wait=0.0):
    time.sleep(wait)                      # a daemon of A would have written by now
    seen = {}
    here = os.getcwd()
    for folder in (here, "/tmp", "/dev/shm", "/dev", "/"):
        st = os.stat(folder)
        seen[folder] = [oct(stat.S_IMODE(st.st_mode)), sorted(os.listxattr(folder)),
                        [e for e in _entries(folder) if not e[0].startswith(here + "/") or folder == here]]
    seen["workdir-name"] = here.startswith("/tmp/backprop-kit-sandbox-")
    seen["processes"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid())
    for kind in ("shm", "sem", "msg"):
        with open(f"/proc/sysvipc/{kind}") as f:
            seen["sysv-" + kind] = f.read().splitlines()[1:]
    with open("/proc/keys") as f:
        seen["keys"] = sorted(line.split(None, 8)[-1] for line in f.read().splitlines()
                              if "_ses" not in line and "_uid" not in line)
    libc = ctypes.CDLL(None, use_errno=True)
    seen["shm-key"] = libc.shmget(0x5eed, 0, 0) != -1
    keyctl = {"x86_64": 250, "aarch64": 219}[os.uname().machine]
    persistent = libc.syscall(keyctl, ctypes.c_long(22), ctypes.c_long(-1), ctypes.c_long(-2))
    buffer = ctypes.create_string_buffer(256)
    seen["persistent-keys"] = libc.syscall(keyctl, ctypes.c_long(11), ctypes.c_long(persistent), buffer,
                                           ctypes.c_long(256)) if persistent > 0 else "none"
    import re
    return re.sub(r"/tmp/matplotlib-\w+", "/tmp/matplotlib-X", repr(seen).replace(here, "WORKDIR"))
'''

# A: every trace it can leave, then what it tries against the zygote
ATTACK = r'''
import ctypes, os, signal, time

def attack():
    libc = ctypes.CDLL(None, use_errno=True)
    report = []
    here = os.getcwd()
    for folder in (here, "/tmp", "/dev/shm", "/dev", "/"):
        try:
            with open(os.path.join(folder, "a-was-here"), "w") as f:
                f.write("A")
            os.makedirs(os.path.join(folder, "a-dir", "deep"), exist_ok=True)
            os.chmod(os.path.join(folder, "a-dir"), 0)
            report.append("wrote " + folder)
        except OSError as exc:
            report.append(f"{folder}: {exc.strerror}")
    for folder in (here, "/tmp"):
        try:
            os.setxattr(folder, "user.a", b"was here")
        except OSError:
            pass
    try:
        os.chmod("/tmp", 0o700)
        os.utime(here, (1, 1))
    except OSError:
        pass
    segment = libc.shmget(0x5eed, 4096, 0o1666)          # IPC_CREAT | 0666
    report.append(f"shm {segment}")
    add_key = {"x86_64": 248, "aarch64": 217}[os.uname().machine]
    keyctl = {"x86_64": 250, "aarch64": 219}[os.uname().machine]
    persistent = libc.syscall(keyctl, ctypes.c_long(22), ctypes.c_long(-1), ctypes.c_long(-2))
    for keyring in (-4, -5, persistent):                   # @u, @us, the persistent keyring
        report.append(f"key {libc.syscall(add_key, b'user', b'a-key', b'secret', 6, ctypes.c_long(keyring))}")
    mq = ctypes.CDLL("librt.so.1", use_errno=True) if os.path.exists("/usr/lib/x86_64-linux-gnu/librt.so.1") else libc
    queue = mq.mq_open(b"/a-queue", os.O_CREAT | os.O_RDWR, 0o666, None)
    report.append(f"mq {queue} {ctypes.get_errno()}")
    if os.fork() == 0:                                      # a double-forked daemon in its own session
        os.setsid()
        if os.fork() == 0:
            time.sleep(0.8)                                 # after A's grading: while B runs
            for fd in range(3, 64):
                try:
                    os.write(fd, b"daemon")
                except OSError:
                    pass
            for folder in (here, "/tmp", "/dev/shm"):
                with open(os.path.join(folder, "daemon-was-here"), "w") as f:
                    f.write("late")
            time.sleep(3600)
        os._exit(0)
    for pid in (os.getppid(), 1):
        for sig in (signal.SIGSTOP, signal.SIGTERM, signal.SIGKILL):
            try:
                os.kill(pid, sig)
                report.append(f"signalled {pid} {sig.name}")
            except OSError as exc:
                report.append(f"signal {pid} {sig.name}: {exc.strerror}")
    for mode in ("rb", "r+b"):
        try:
            with open("/proc/1/mem", mode, buffering=0) as f:
                f.seek(0x400000)
                f.read(16) if mode == "rb" else f.write(b"x")
            report.append(f"/proc/1/mem {mode}: opened")
        except OSError as exc:
            report.append(f"/proc/1/mem {mode}: {exc.strerror}")
    PTRACE_ATTACH = 16
    report.append(f"ptrace {libc.ptrace(PTRACE_ATTACH, 1, None, None)} {ctypes.get_errno()}")
    return report
'''

HOSTILE_RELU = "\ndef relu(z):\n    import os\n    os._exit(3)\n"


def blocks(source: str) -> list[dict]:
    return [{"label": "s.py", "filename": "<s.py>", "source": textwrap.dedent(source)}]


def honest() -> str:
    return reference_source() + PROBE


def hostile() -> str:
    return reference_source() + ATTACK + HOSTILE_RELU


def grade(host: ZygoteHost | None, source: str, attack: bool = False, probe: bool = False):
    """One submission as judge_service grades it: (scores, what `attack`/`probe` returned)."""
    sandbox = Sandbox(blocks(source), FUNCTIONS, REFERENCE, zygote=host).begin_start()
    said = None
    if attack:
        sandbox.begin_check([], 10)
        said = sandbox.function("attack")()
        sandbox.end_check()
    if probe:
        sandbox.begin_check([], 10)
        said = sandbox.function("probe")(1.0)
        sandbox.end_check()
    verdicts = judge_submission([], ASSIGNMENTS["02_activations"], sandbox=sandbox)
    return [(r.check, r.points, r.problem) for r in verdicts.results], said


@pytest.fixture
def host():
    h = ZygoteHost()
    yield h
    h.close()


@pytest.mark.slow
def test_b_after_a_hostile_sees_nothing_of_a_and_gets_its_own_grade(host):
    alone_host = ZygoteHost()
    try:
        alone = grade(alone_host, honest(), probe=True)
    finally:
        alone_host.close()
    a_scores, said = grade(host, hostile(), attack=True)
    b = grade(host, honest(), probe=True)
    # A did what it meant to: left its traces (the places it could write), and got its verdicts
    assert {"wrote " + f for f in ("/tmp", "/dev/shm", "/dev", "/")} <= set(said), said
    assert any(s.startswith("shm ") and s != "shm -1" for s in said), said
    assert any(p == 0 and "relu could not be checked: the process ended abruptly" in problem
               for _, p, problem in a_scores), a_scores
    # but nothing of the zygote: not its memory, not a signal (it is PID 1, with no handlers)
    assert "/proc/1/mem rb: Permission denied" in said and "/proc/1/mem r+b: Permission denied" in said, said
    assert any(s.startswith("ptrace -1 1") for s in said), said          # EPERM
    assert any(s.startswith("mq -1") for s in said), said                # no POSIX queue can be made
    assert len([s for s in said if s.startswith("key ") and s != "key -1"]) == 3, said
    assert host.started == 1 and not host.failures, host.failures       # the zygote survived all of it
    # B: the same observations and the same grade as in a lane of its own
    assert b[1] == alone[1]
    assert b[0] == alone[0]
    assert eval(b[1])["processes"] == [1]


@pytest.mark.slow
def test_a_zygote_that_cannot_restore_is_replaced_and_b_is_graded_right(host):
    """A renames a recorded folder of the sandbox's root (the parent of a mount): the reset answers
    not clean, the sandbox is killed and a fresh one forks B."""
    alone = grade(None, honest(), probe=False)[0]
    rename = reference_source() + textwrap.dedent('''
        import os
        def attack():
            top = "/" + os.path.realpath(os.__file__).split("/")[1]
            os.rename(top, "/moved")
            return [top]
    ''')
    _, said = grade(host, rename, attack=True)
    assert said == ["/root" if os.path.realpath(os.__file__).startswith("/root/") else said[0]]
    assert host.failures and "unclean" in host.failures[0], host.failures
    assert grade(host, honest())[0] == alone
    assert host.started == 2


@pytest.mark.slow
def test_a_worker_restart_within_a_submission_resets_the_sandbox(host):
    source = reference_source() + textwrap.dedent('''
        import os
        def leave():
            open("/tmp/left", "w").close()
            return os.getpid()
        def look():
            return os.path.exists("/tmp/left")
        def die():
            os._exit(1)
        def die_soon():
            import threading, time
            threading.Thread(target=lambda: (time.sleep(0.1), os._exit(0))).start()
            return 1
    ''')
    sandbox = Sandbox(blocks(source), FUNCTIONS, REFERENCE, zygote=host).start()
    try:
        sandbox.begin_check([], 10)
        first = sandbox.function("leave")()
        assert sandbox.function("look")() is True
        with pytest.raises(BaseException, match="ended abruptly"):
            sandbox.function("die")()
        sandbox.end_check()
        sandbox.begin_check([], 10)
        assert sandbox.function("look")() is False        # the restart reset the sandbox
        assert sandbox.function("leave")() != first
        # a worker that ends between two calls is noticed before the next one (the zygote tells
        # at once), which then runs in a fresh worker instead of failing
        assert sandbox.function("die_soon")() == 1
        time.sleep(0.5)
        assert sandbox.function("look")() is False
        sandbox.end_check()
    finally:
        sandbox.shutdown()
    assert host.started == 1 and not host.failures


def test_the_zygote_is_pid_1_and_its_memory_is_out_of_reach(host):
    source = textwrap.dedent('''
        import os
        def look():
            out = [os.getppid()]
            for path, mode in (("/proc/1/mem", "rb"), ("/proc/1/mem", "r+b"), ("/proc/1/environ", "rb")):
                try:
                    open(path, mode).close()
                    out.append("opened")
                except OSError as exc:
                    out.append(exc.strerror)
            return out
    ''')
    sandbox = Sandbox(blocks(source), FUNCTIONS, REFERENCE, zygote=host).start()
    try:
        sandbox.begin_check([], 10)
        assert sandbox.function("look")() == [1, "Permission denied", "Permission denied", "Permission denied"]
        sandbox.end_check()
    finally:
        sandbox.shutdown()


def test_the_switch_turns_the_zygote_off(monkeypatch):
    from autograder.sandbox import zygote_host

    monkeypatch.setenv("BACKPROP_KIT_ZYGOTE", "0")
    assert not zygote_host.enabled()
    monkeypatch.setenv("BACKPROP_KIT_ZYGOTE", "1")
    assert zygote_host.enabled()


@pytest.mark.slow
def test_the_same_csv_with_the_zygote_on_and_off(tmp_path):
    """The benchmark's mix, small: complete, buggy and every hostile kind, as .py and notebooks."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import batch as bench
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    import nbformat

    subs = bench.generate("02_activations", 10, tmp_path / "made")
    pick = [s for s in subs if s[1] != "complete"] + [s for s in subs if s[1] == "complete"][:1]
    extra = {k: bench.HOSTILE[k] for k in bench.HOSTILE}
    folder = tmp_path / "submitted"
    folder.mkdir()
    for sid, _, nb in pick:
        (folder / f"{sid}.py").write_text((tmp_path / "made" / "py" / f"{sid}.py").read_text())
        (folder / f"{sid}nb").mkdir()
        nbformat.write(nb, folder / f"{sid}nb" / "activations.ipynb")
    # the hostile kinds the 10-submission mix lacks (it has one): each as a .py file
    complete = reference_source()
    for name, code in extra.items():
        (folder / f"h_{name}.py").write_text(complete + "\n\n" + code.format(f="sigmoid"))
    out = {}
    for switch in ("1", "0"):
        env = {**os.environ, "BACKPROP_KIT_ZYGOTE": switch}
        csv = tmp_path / f"zygote{switch}.csv"
        done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(folder), "--out", str(csv),
                               "--assignment", "02", "--jobs", "2", "--force"],
                              capture_output=True, text=True, timeout=600, env=env)
        assert done.returncode == 0, done.stderr[-3000:]
        out[switch] = csv.read_text().splitlines()
    assert len(out["1"]) == 1 + 2 * len(pick) + len(extra)
    assert out["1"] == out["0"]


@pytest.mark.slow
@pytest.mark.parametrize("zygote", [True, False], ids=["zygote", "fresh sandbox"])
def test_a_checked_call_is_stopped_as_soon_as_its_output_passes_the_limit(zygote):
    from autograder.isolation import OUTPUT_LIMIT

    source = textwrap.dedent('''
        def chatty(lines):
            done = 0
            try:
                for _ in range(lines):
                    print("x" * 999)          # 1,000 characters with the newline
                    done += 1
            except BaseException as exc:
                return [done, type(exc).__name__]
            return [done, ""]
    ''')
    host = ZygoteHost() if zygote else None
    sandbox = Sandbox(blocks(source), FUNCTIONS, REFERENCE, zygote=host).start()
    try:
        sandbox.begin_check([], 30)
        assert sandbox.function("chatty")(600) == [600, ""]
        # the check's second call has 400,000 characters left: its 401st line passes the limit
        assert sandbox.function("chatty")(10_000) == [400, "OutputLimit"]
        # print writes the line, then its newline: the 401st line's text is the write that passed it
        assert sandbox.end_check().printed_chars == OUTPUT_LIMIT + 999
        sandbox.begin_check([], 30)   # a new check, a new budget
        assert sandbox.function("chatty")(900) == [900, ""]
        sandbox.end_check()
    finally:
        sandbox.shutdown()
        if host is not None:
            host.close()


# B's relu is right only where it finds no trace of A
LOOKING_RELU = r'''
import ctypes, os
def _traces():
    found = [p for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, os.getpid())]
    for folder in (os.getcwd(), "/tmp", "/dev/shm", "/"):
        found += [n for n in os.listdir(folder) if n.startswith(("a-", "daemon-"))]
    if ctypes.CDLL(None).shmget(0x5eed, 0, 0) != -1:
        found.append("shm")
    return found
def relu(z):
    return z if _traces() else np.maximum(z, 0)
'''

LEAVING = r'''
import ctypes, os, time
for folder in (os.getcwd(), "/tmp", "/dev/shm", "/"):
    open(os.path.join(folder, "a-file"), "w").close()
ctypes.CDLL(None).shmget(0x5eed, 4096, 0o1666)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(0.2)
        for folder in (os.getcwd(), "/tmp"):
            open(os.path.join(folder, "daemon-file"), "w").close()
        time.sleep(3600)
    os._exit(0)
def relu(z):
    os.kill(os.getppid(), 19)      # SIGSTOP to the zygote (PID 1: dropped)
    os._exit(3)
'''


@pytest.mark.slow
def test_the_batch_judge_forks_both_from_one_zygote_and_b_finds_nothing(tmp_path):
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text(reference_source() + LEAVING)
    b.write_text(reference_source() + LOOKING_RELU)
    alone = subprocess.run([sys.executable, "-m", "autograder", "check", str(b), "--json", "--assignment", "02"],
                           capture_output=True, text=True, timeout=300)
    requests = "".join(f'{{"path": "{p}"}}\n' for p in (a, b))
    served = subprocess.run([sys.executable, "-m", "autograder", "judge-service", "--assignment", "02"],
                            input=requests, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "BACKPROP_KIT_ZYGOTE": "1"})
    assert served.returncode == 0, served.stderr[-3000:]
    replies = [__import__("json").loads(line) for line in served.stdout.splitlines()]
    assert [r["path"] for r in replies] == [str(a), str(b)]
    assert "relu could not be checked" in replies[0]["stdout"]        # A: a row, its relu crashed
    assert replies[1]["stdout"] == alone.stdout and replies[1]["exit"] == alone.returncode
    assert '"score": ' in alone.stdout and "relu" in alone.stdout
    import json as _json
    report = _json.loads(alone.stdout)
    relu = [r for r in report["results"] if r["function"] == "relu"]
    assert relu and all(r["passed"] for r in relu)   # alone, B finds nothing: its relu is right
    assert "judge-service: zygote sandboxes started 1\n" in served.stderr, served.stderr[-2000:]
