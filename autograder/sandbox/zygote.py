"""The zygote: one pre-imported interpreter per batch lane, inside one bubblewrap sandbox, that forks
a fresh worker for every submission and wipes the sandbox clean between them.

It runs as PID 1 of the sandbox's PID namespace (bwrap --as-pid-1): signals sent from inside the
namespace to its PID 1 are dropped by the kernel unless PID 1 handles them, and it handles only
SIGCHLD (a no-op that wakes its loop), so learner code can neither kill nor stop it. It imports what
a worker imports plus matplotlib (Agg) and pyplot, marks itself non-dumpable (no ptrace, no
/proc/1/mem for the workers: same uid, no capabilities), joins a session keyring of its own, forbids
POSIX message queues (RLIMIT_MSGQUEUE 0: they would outlive a worker and cannot be listed without
mounting mqueue), records what every writable mount holds before any learner code ran, then waits on
its control socket. It never runs learner code and never reads what learner code wrote: it lists
/proc, /proc/sysvipc and the writable mounts' entries only to remove what is not in its record.

Control (a SOCK_SEQPACKET socket from the judge, autograder.sandbox.zygote_host; JSON messages):
  -> {"op": "fork"} with two fds (SCM_RIGHTS)  <- {"pid": N}   a Worker serves those pipes
  -> {"op": "status", "pid": N}               <- {"code": None | exit code (128+signal, as bwrap)}
  -> {"op": "reset"}                          <- {"clean": true} or {"clean": false, "why": ...}
  between requests, unasked:                  <- {"exited": pid, "code": N} when a worker ends
Reset: SIGKILL every other process of the namespace (until /proc lists only PID 1), reap them,
remove SysV IPC objects, empty the uid's user, user-session and persistent keyrings, and bring every
writable mount back to the record (remove what is new, restore modes, times and extended attributes;
anything recorded that is gone or replaced makes it answer not clean, and the judge starts a fresh
sandbox).

    python -I -S -B -c "...main(sys.argv)" CONTROL_FD      (started by autograder.sandbox.zygote_host)
"""
from __future__ import annotations

import ctypes
import json
import os
import select
import signal
import socket
import stat
import sys
import time

PR_SET_DUMPABLE = 4
KEYCTL_JOIN_SESSION_KEYRING, KEYCTL_CLEAR, KEYCTL_GET_PERSISTENT = 1, 7, 22
KEY_SPEC_SESSION_KEYRING, KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING = -3, -4, -5
SYS_KEYCTL = {"x86_64": 250, "aarch64": 219}
IPC_RMID = 0
SKIP_FS = {"proc", "sysfs", "devpts", "devtmpfs", "mqueue", "cgroup", "cgroup2"}

_libc = ctypes.CDLL(None, use_errno=True)


def keyctl(*args) -> int:
    number = SYS_KEYCTL.get(os.uname().machine)
    if number is None:
        return -1
    return _libc.syscall(number, *[ctypes.c_long(a) if isinstance(a, int) else a for a in args])


def fresh_session_keyring() -> None:
    """Join a new anonymous session keyring (else the judge's one would be shared with learner code)."""
    keyctl(KEYCTL_JOIN_SESSION_KEYRING, None)


def clear_user_keyrings() -> None:
    """Empty the user, user-session and persistent keyrings of the sandbox's uid (they live as long
    as its user namespace, so across workers; the persistent one is linked into the zygote's own
    session keyring to reach it)."""
    for keyring in (KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING):
        keyctl(KEYCTL_CLEAR, keyring)
    persistent = keyctl(KEYCTL_GET_PERSISTENT, -1, KEY_SPEC_SESSION_KEYRING)
    if persistent > 0:
        keyctl(KEYCTL_CLEAR, persistent)


# ---------------------------------------------------------------------------------------------
# what the writable mounts hold


def writable_mounts() -> tuple[list[str], set[str]]:
    """(read-write mounts to keep clean, every mount point)."""
    roots, points = [], set()
    with open("/proc/self/mountinfo") as f:
        for line in f:
            before, _, after = line.partition(" - ")
            fields = before.split()
            point = fields[4].encode().decode("unicode_escape")
            points.add(point)
            fstype = after.split()[0] if after else ""
            if "rw" in fields[5].split(",") and fstype not in SKIP_FS:
                roots.append(point)
    return roots, points


def _entry(path: str) -> tuple:
    st = os.lstat(path)
    target = os.readlink(path) if stat.S_ISLNK(st.st_mode) else ""
    return (st.st_ino, st.st_dev, st.st_mode, st.st_size, st.st_mtime_ns, st.st_atime_ns, target,
            _xattrs(path, st), st.st_ctime_ns)


def _xattrs(path: str, st) -> tuple:
    if stat.S_ISLNK(st.st_mode):
        return ()
    try:
        return tuple(sorted(os.listxattr(path, follow_symlinks=False)))
    except OSError:
        return ()


class Record:
    """Every entry on the writable mounts when the zygote started (before any learner code)."""

    def __init__(self):
        self.roots, self.points = writable_mounts()
        self.entries: dict[str, tuple] = {}
        for root in self.roots:
            self.entries[root] = _entry(root)
            self._walk(root)

    def _walk(self, folder: str) -> None:
        for name in os.listdir(folder):
            path = os.path.join(folder, name)
            self.entries[path] = _entry(path)
            if path not in self.points and stat.S_ISDIR(self.entries[path][2]):
                self._walk(path)

    def restore(self) -> str:
        """Bring every writable mount back to the record; '' if done, else why not."""
        for root in self.roots:
            why = self._restore_folder(root)
            if why:
                return why
        for path, entry in self.entries.items():
            why = self._restore_entry(path, entry)
            if why:
                return why
        return ""

    def _restore_folder(self, folder: str) -> str:
        try:
            os.chmod(folder, stat.S_IMODE(self.entries[folder][2]) | 0o700)
            names = os.listdir(folder)
        except OSError as exc:
            return f"{folder}: {exc.strerror}"
        for name in names:
            path = os.path.join(folder, name)
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                continue
            recorded = self.entries.get(path)
            if recorded is None or recorded[0] != st.st_ino or recorded[1] != st.st_dev:
                if path in self.points or st.st_dev != self.entries[folder][1] or _holds_mount(path, st.st_dev):
                    return f"{path}: a mount point, or a folder holding one, moved here"
                why = _remove(path, st)
                if why:
                    return why
            elif stat.S_ISDIR(st.st_mode) and path not in self.points:
                why = self._restore_folder(path)
                if why:
                    return why
        return ""

    def _restore_entry(self, path: str, entry: tuple) -> str:
        ino, dev, mode, size, mtime, atime, target, xattrs, ctime = entry
        try:
            st = os.lstat(path)
        except OSError:
            return f"{path} is gone"
        if (st.st_ino, st.st_dev, stat.S_IFMT(st.st_mode)) != (ino, dev, stat.S_IFMT(mode)):
            return f"{path} was replaced"
        if path in self.points and path not in self.roots:
            return ""   # another mount (read-only, or a device): nothing of it is ours to restore
        if stat.S_ISLNK(mode):
            return "" if os.readlink(path) == target else f"{path} points elsewhere"
        if not stat.S_ISDIR(mode):   # a file we cannot put back: any change at all (ctime) is dirty
            same = (st.st_mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns) == (mode, size, mtime, ctime)
            return "" if same else f"{path} was changed"
        try:
            for name in _xattrs(path, st):
                if name not in xattrs:
                    os.removexattr(path, name, follow_symlinks=False)
            if stat.S_IMODE(st.st_mode) != stat.S_IMODE(mode):
                os.chmod(path, stat.S_IMODE(mode))
            os.utime(path, ns=(atime, mtime), follow_symlinks=False)
        except OSError as exc:
            return f"{path}: {exc.strerror}"
        return ""


def _holds_mount(path: str, dev: int) -> bool:
    """Whether a folder has anything of another file system below it (a renamed parent of a mount)."""
    if not stat.S_ISDIR(os.lstat(path).st_mode):
        return False
    for root, dirs, _ in os.walk(path):
        for name in dirs:
            try:
                if os.lstat(os.path.join(root, name)).st_dev != dev:
                    return True
            except OSError:
                pass
    return False


def _remove(path: str, st) -> str:
    try:
        if stat.S_ISDIR(st.st_mode):
            os.chmod(path, 0o700)
            for name in os.listdir(path):
                child = os.path.join(path, name)
                inner = os.lstat(child)
                if inner.st_dev != st.st_dev:   # never into another file system
                    return f"{child}: a mount point below a new folder"
                why = _remove(child, inner)
                if why:
                    return why
            os.rmdir(path)
        else:
            os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        return f"{path}: {exc.strerror}"
    return ""


# ---------------------------------------------------------------------------------------------
# processes and IPC


class Zygote:
    def __init__(self, control: socket.socket):
        self.control = control
        self.exited: dict[int, int] = {}   # pid -> exit code, bwrap's convention
        self.workers: set[int] = set()     # forked since the last reset, exit not yet told
        self.record = Record()
        # a child's exit wakes the loop at once, to tell the judge (as bwrap's own exit tells it)
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, _nothing)   # (from inside, only SIGCHLD now reaches PID 1: harmless)

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            code = os.waitstatus_to_exitcode(status)
            self.exited[pid] = 128 - code if code < 0 else code

    def others(self) -> list[int]:
        me = os.getpid()
        return [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, me)]

    def kill_all(self) -> None:
        while True:
            try:
                os.kill(-1, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.reap()
            if not self.others():
                return
            time.sleep(0.001)

    def remove_ipc(self) -> str:
        calls = {"shm": lambda i: _libc.shmctl(i, IPC_RMID, None),
                 "sem": lambda i: _libc.semctl(i, 0, IPC_RMID),
                 "msg": lambda i: _libc.msgctl(i, IPC_RMID, None)}
        for kind, remove in calls.items():
            try:
                with open(f"/proc/sysvipc/{kind}") as f:
                    ids = [int(line.split()[1]) for line in f.read().splitlines()[1:] if line.split()]
            except (OSError, ValueError, IndexError):
                return f"cannot list SysV {kind}"
            for ident in ids:
                if remove(ident) != 0:
                    return f"cannot remove SysV {kind} {ident}"
        return ""

    def reset(self) -> dict:
        self.kill_all()
        why = self.remove_ipc()
        clear_user_keyrings()
        why = why or self.record.restore()
        self.exited.clear()
        self.workers.clear()
        return {"clean": not why, "why": why}

    def fork(self, fds: list[int]) -> dict:
        read_fd, write_fd = fds
        pid = os.fork()
        if pid == 0:
            try:
                self.control.close()
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                os.close(self.wake_r)
                os.close(self.wake_w)
                _become_worker(read_fd, write_fd)
            finally:
                os._exit(0)
        os.close(read_fd)
        os.close(write_fd)
        self.workers.add(pid)
        return {"pid": pid}

    def tell_exits(self) -> None:
        """{"exited": pid, "code": N} for every worker that ended, sent between requests."""
        try:
            while os.read(self.wake_r, 512):
                pass
        except BlockingIOError:
            pass
        self.reap()
        for pid in sorted(self.workers & set(self.exited)):
            self.workers.discard(pid)
            self.control.send(json.dumps({"exited": pid, "code": self.exited[pid]}).encode())

    def status(self, pid) -> dict:
        self.reap()
        return {"code": self.exited.get(pid) if isinstance(pid, int) else None}

    def serve(self) -> None:
        while True:
            ready = select.select([self.control, self.wake_r], [], [], 1.0)[0]
            self.tell_exits()      # as PID 1, orphans are ours to reap too
            if self.control not in ready:
                continue
            try:
                data, fds, _, _ = socket.recv_fds(self.control, 4096, 2)
            except OSError:
                return
            if not data:
                return
            try:
                request = json.loads(data)
                op = request["op"]
                if op == "fork" and len(fds) == 2:
                    reply = self.fork(fds)
                    fds = []
                elif op == "status":
                    reply = self.status(request.get("pid"))
                elif op == "reset":
                    reply = self.reset()
                else:
                    reply = {"error": "unknown request"}
            except Exception as exc:  # a bug here must not end the zygote silently: the judge decides
                reply = {"error": f"{type(exc).__name__}: {exc}"[:500]}
            for fd in fds:
                os.close(fd)
            self.control.send(json.dumps(reply).encode())


def _nothing(signum, frame) -> None:
    pass


def _become_worker(read_fd: int, write_fd: int) -> None:
    """In the forked child: what worker.main does, on the pre-imported interpreter."""
    os.setsid()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    _libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)   # as a freshly started worker is
    fresh_session_keyring()
    import numpy as np

    np.random.seed()   # as a fresh interpreter: not the zygote's state
    sys.argv = ["-c", str(read_fd), str(write_fd)]
    from autograder import notebook
    from autograder.sandbox.worker import Worker

    notebook._loading += 1
    Worker(read_fd, write_fd).serve()


def main(argv) -> None:
    control = socket.socket(fileno=int(argv[1]))
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.environ.setdefault("MPLBACKEND", "Agg")
    sys.setrecursionlimit(3000)
    signal.signal(signal.SIGINT, signal.SIG_DFL)   # PID 1 without handlers: signals from inside are dropped
    import numpy  # noqa: F401
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401

    import autograder  # noqa: F401  (the runtime package: check, load_mnist)
    from autograder import mnist, plots, progress  # noqa: F401
    from autograder.sandbox import worker  # noqa: F401

    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    fresh_session_keyring()
    clear_user_keyrings()   # made now (clearing creates them), so their existence says nothing later
    import resource

    resource.setrlimit(resource.RLIMIT_MSGQUEUE, (0, 0))
    zygote = Zygote(control)
    threads = len(os.listdir("/proc/self/task"))
    control.send(json.dumps({"ready": True, "pid": os.getpid(), "threads": threads}).encode())
    zygote.serve()


if __name__ == "__main__":
    main(sys.argv)
