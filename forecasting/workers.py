"""Worker processes as the job manager sees them: alive or not, whether it started them or
found them after a restart, and the private folder the job registry lives in.

A process is named by its pid and its start time (from `/proc/<pid>/stat`), so a pid reused
by another program after the worker ended is never mistaken for the worker.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from forecasting.errors import ConfigError


def process_start(pid: int) -> str | None:
    """The start time of process `pid` (clock ticks since boot, as text), or None where
    /proc is missing or the process is gone."""
    fields = _stat_fields(pid)
    return None if fields is None else fields[19]


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state first), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    return text[text.rfind(")") + 2 :].split()


def process_alive(pid: int, start: str | None) -> bool:
    """True while process `pid`, started at `start` (None: unknown), runs.

    A finished child of this process is reaped here; a zombie counts as gone.
    """
    if pid <= 0:
        return False
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False  # our child, just ended
    except ChildProcessError:
        pass  # not our child: look it up
    fields = _stat_fields(pid)
    if fields is not None:
        return fields[0] not in ("Z", "X") and (start is None or fields[19] == start)
    if Path("/proc/self/stat").exists():
        return False  # /proc works and the process is not in it
    try:  # no /proc (not Linux): existence only
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


@dataclass
class Worker:
    """A worker process: started by this manager (`popen`) or adopted after a restart.

    Attributes:
        pid: Process id.
        start: Its start time (`process_start`), None where unknown.
        popen: The process handle when this manager started it.
    """

    pid: int
    start: str | None = None
    popen: subprocess.Popen | None = None

    @classmethod
    def started(cls, popen: subprocess.Popen) -> Worker:
        return cls(popen.pid, process_start(popen.pid), popen)

    def alive(self) -> bool:
        if self.popen is not None:
            return self.popen.poll() is None
        return process_alive(self.pid, self.start)

    @property
    def returncode(self) -> int | None:
        """The exit code when known (only for a process this manager started)."""
        return None if self.popen is None else self.popen.returncode

    def send(self, signum: int = signal.SIGTERM) -> None:
        """Send `signum` if the process still runs."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self.pid, signum)

    def to_dict(self) -> dict:
        return {"pid": self.pid, "start": self.start}


def private_folder(path: str | Path) -> Path:
    """Create `path` readable by this user only (mode 0o700); an existing folder with wider
    permissions is repaired, one owned by another user is refused.

    Raises:
        ConfigError: When the folder belongs to another user or is not a folder.
    """
    path = Path(path)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode):
        raise ConfigError(
            f"The job folder {path} is not a folder. Set FORECASTING_JOBS_DIR "
            f"to a folder of your own."
        )
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise ConfigError(
            f"The job folder {path} belongs to another user. Set "
            f"FORECASTING_JOBS_DIR to a folder of your own."
        )
    if stat.S_IMODE(info.st_mode) & 0o077:
        path.chmod(0o700)
    return path


def default_jobs_folder() -> Path:
    """The user's own job folder: `$XDG_CACHE_HOME/forecasting/jobs` (~/.cache by default)."""
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "forecasting" / "jobs"
