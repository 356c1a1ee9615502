"""PLACEHOLDER until the bubblewrap launcher lands: a plain subprocess."""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Sandboxed:
    process: subprocess.Popen
    isolation: str
    detail: str

    def kill(self):
        try:
            self.process.kill()
        except ProcessLookupError:
            pass
        try:
            self.process.wait(5)
        except Exception:
            pass


def launch(argv, *, workdir: Path, readable=(), hidden=(), pass_fds=(), env=None, require_sandbox=False, **kw):
    import os
    if require_sandbox or os.environ.get("BACKPROP_KIT_SANDBOX") == "bubblewrap":
        raise SandboxUnavailable("placeholder launcher")
    proc = subprocess.Popen(argv, cwd=workdir, env=dict(env or {}), pass_fds=tuple(pass_fds),
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    return Sandboxed(proc, "process", "plain subprocess (placeholder)")


class SandboxUnavailable(RuntimeError):
    pass


ISOLATION_LEVELS = ("bubblewrap", "process")


def probe():
    return ("process", "plain subprocess (placeholder)")
