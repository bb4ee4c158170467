"""The function's ``bootstrap`` as a child process, and everything that touches the OS for it.

Kept apart from the execution-environment state machine (``runtime_api.py``) because these are the
parts that must be right for no process to outlive its environment: every child is forked from one
long-lived thread with a parent-death signal, runs as the leader of its own process group, and is
killed group-wide. Its stdout and stderr go through one pipe into a ``LogBuffer``. No LocalStack
imports.
"""

from __future__ import annotations

import codecs
import ctypes
import ctypes.util
import errno
import fcntl
import logging
import math
import os
import queue
import signal
import struct
import subprocess
import termios
import threading
import time
from concurrent.futures import Future
from pathlib import Path

LOG = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


# --------------------------------------------------------------------------------------------------
# Spawning
# --------------------------------------------------------------------------------------------------


def _load_prctl():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.prctl
        fn.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        fn.restype = ctypes.c_int
        return fn
    except (OSError, AttributeError):  # not Linux
        return None


_PRCTL = _load_prctl()


class _Spawner:
    """Forks every child from one long-lived thread.

    Children get PR_SET_PDEATHSIG=SIGKILL, so they die even if LocalStack is SIGKILLed. The kernel
    ties that signal to the *thread* that forked the child, not to the process, so forking from a
    short-lived request thread would kill the function when that thread ends. This thread lives until
    the process exits.
    """

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def popen(self, args: list[str], **kwargs) -> subprocess.Popen:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="lambda-local-process-spawner", daemon=True
                )
                self._thread.start()
        fut: Future = Future()
        self._queue.put((args, kwargs, fut))
        return fut.result()

    def _run(self) -> None:
        while True:
            args, kwargs, fut = self._queue.get()
            try:
                parent = os.getpid()
                fut.set_result(subprocess.Popen(args, preexec_fn=_child_setup(parent), **kwargs))
            except BaseException as e:  # noqa: BLE001 - handed to the caller
                fut.set_exception(e)


def _child_setup(parent_pid: int):
    def setup() -> None:
        # runs in the child between fork and exec: keep it to async-signal-safe-ish calls
        if _PRCTL is not None:
            _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != parent_pid:  # parent died before prctl took effect
                os._exit(125)

    return setup


_SPAWNER = _Spawner()


# --------------------------------------------------------------------------------------------------
# Log capture
# --------------------------------------------------------------------------------------------------


class LogBuffer:
    """Everything the process wrote to stdout/stderr, addressable by absolute character offset."""

    def __init__(self, max_bytes: int) -> None:
        self._lock = threading.Lock()
        self._chunks: list[str] = []
        self._base = 0  # absolute offset of self._chunks[0]
        self._size = 0  # characters held
        self._max = max_bytes
        self._decoder = None

    def append(self, data: bytes) -> None:
        with self._lock:
            if self._decoder is None:
                self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
            text = self._decoder.decode(data)
            if not text:
                return
            self._chunks.append(text)
            self._size += len(text)
            while self._size > self._max and len(self._chunks) > 1:
                dropped = self._chunks.pop(0)
                self._size -= len(dropped)
                self._base += len(dropped)

    def mark(self) -> int:
        with self._lock:
            return self._base + self._size

    def since(self, offset: int) -> str:
        return self.between(offset, None)

    def between(self, start: int, end: int | None) -> str:
        with self._lock:
            text = "".join(self._chunks)
            lo = max(0, start - self._base)
            hi = None if end is None else max(0, end - self._base)
            return text[lo:hi]

    def all(self) -> str:
        return self.since(0)


def _read_output(fd: int, logs: LogBuffer) -> None:
    try:
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError as e:
                if e.errno == errno.EINTR:
                    continue
                break
            if not data:
                break
            logs.append(data)
    finally:
        try:
            os.close(fd)
        except OSError:
            pass


# --------------------------------------------------------------------------------------------------
# One running bootstrap
# --------------------------------------------------------------------------------------------------


class BootstrapProcess:
    """One started ``bootstrap``: its ``Popen``, its process group and its output reader thread."""

    def __init__(self, proc: subprocess.Popen, log_fd: int, reader: threading.Thread) -> None:
        self.proc = proc
        self.pid = proc.pid
        self.pgid = proc.pid  # process_group=0 makes the child its own group leader
        self._log_fd = log_fd
        self._reader = reader

    @classmethod
    def spawn(
        cls, bootstrap: Path, cwd: Path, env: dict[str, str], logs: LogBuffer, name: str
    ) -> BootstrapProcess:
        """Starts ``bootstrap`` in a new process group, its output appended to ``logs``.

        Raises OSError when the program cannot be executed.
        """
        read_fd, write_fd = os.pipe()
        try:
            proc = _SPAWNER.popen(
                [str(bootstrap)],
                cwd=str(cwd),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=write_fd,
                stderr=write_fd,
                close_fds=True,
                process_group=0,
            )
        except OSError:
            os.close(read_fd)
            os.close(write_fd)
            raise
        os.close(write_fd)
        reader = threading.Thread(
            target=_read_output, args=(read_fd, logs), name=f"lambda-logs-{name}", daemon=True
        )
        reader.start()
        return cls(proc, read_fd, reader)

    def send_group_signal(self, sig: int) -> bool:
        return signal_group(self.pgid, sig)

    def kill(self, grace_s: float) -> None:
        """SIGTERM (if ``grace_s`` > 0 and still running), then SIGKILL the whole group; waits."""
        proc, pgid = self.proc, self.pgid
        if grace_s > 0 and proc.poll() is None:
            signal_group(pgid, signal.SIGTERM)
            try:
                proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                pass
        # SIGKILL the whole group even if the leader exited: children may remain
        signal_group(pgid, signal.SIGKILL)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            LOG.warning("bootstrap pid %s did not die after SIGKILL", proc.pid)
        self._reader.join(timeout=1.0)

    def drain_output(self, max_wait_s: float = 0.2) -> None:
        """Waits (briefly) until the reader consumed everything already written to the pipe."""
        fd, reader = self._log_fd, self._reader
        end = time.monotonic() + max_wait_s
        while time.monotonic() < end:
            if not reader.is_alive():
                return
            try:
                buf = fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0")
                pending = struct.unpack("i", buf)[0]
            except OSError:
                return
            if pending == 0:
                time.sleep(0.002)  # let the reader finish appending what it just read
                return
            time.sleep(0.002)

    def max_memory_mb(self) -> int | None:
        """Peak resident memory (VmHWM) of the group leader, while it is still readable."""
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return max(1, math.ceil(int(line.split()[1]) / 1024))
        except (OSError, ValueError, IndexError):
            pass
        return None


def signal_group(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return False


def exit_description(returncode: int) -> str:
    """Go's os.ProcessState wording, which AWS's runtime errors use."""
    if returncode < 0:
        try:
            name = signal.strsignal(-returncode) or f"signal {-returncode}"
        except ValueError:
            name = f"signal {-returncode}"
        return f"signal: {name.lower()}"
    return f"exit status {returncode}"
