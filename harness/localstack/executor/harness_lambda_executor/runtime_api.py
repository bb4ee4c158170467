"""A Lambda execution environment as a plain local process.

This module has no LocalStack imports: it runs a function's ``bootstrap`` as a child process in its
own process group and serves it the Lambda Runtime API (version 2018-06-01) on a loopback port.
``executor.py`` adapts it to LocalStack's ``RuntimeExecutor`` interface.

One ``LocalRuntime`` is one execution environment: one Runtime API server (one port, fixed for the
environment's life) and at most one live ``bootstrap`` process at a time. After a timeout or a crash
the process is gone and ``launch()`` starts a fresh one (AWS re-initialises the runtime the same way).

This module is the environment's state machine (init, ready, invoking, exited, closed) and its
invocation bookkeeping; the pieces it coordinates live next to it: ``api_server.py`` (the HTTP
side of the Runtime API), ``process.py`` (spawning, killing and log capture of the child process)
and ``invocation.py`` (result records, error documents, the START/END/REPORT log).
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import signal
import subprocess
import threading
import time
import weakref
from pathlib import Path

from .api_server import RuntimeApiServer, serve
from .invocation import (
    InitError,
    Invocation,
    InvokeOutcome,
    err,
    init_error_payload,
    invocation_logs,
    runtime_exit_reason,
    settle,
)
from .process import BootstrapProcess, LogBuffer

LOG = logging.getLogger(__name__)

# AWS's synchronous response limit (6 MB) plus the 100 bytes LocalStack also allows.
DEFAULT_MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100
# Bytes of process output kept for get_logs(); older output is dropped first.
DEFAULT_MAX_LOG_BYTES = 4 * 1024 * 1024

_LIVE: weakref.WeakSet[LocalRuntime] = weakref.WeakSet()


def kill_all_now() -> None:
    """SIGKILL every live process group (atexit safety net)."""
    for runtime in list(_LIVE):
        runtime._kill_group(signal.SIGKILL)


atexit.register(kill_all_now)


class LocalRuntime:
    """One execution environment. Thread-safe; one invocation at a time.

    ``open()`` binds the Runtime API server, ``launch()`` starts (or restarts) the bootstrap process
    and waits for its first ``/next``, ``invoke()`` runs one invocation, ``close()`` tears it all down.
    """

    def __init__(
        self,
        name: str,
        bootstrap: Path,
        cwd: Path,
        env: dict[str, str],
        timeout_s: float,
        version: str = "$LATEST",
        memory_mb: int = 128,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_log_bytes: int = DEFAULT_MAX_LOG_BYTES,
        host: str = "127.0.0.1",
    ) -> None:
        self.name = name
        self.bootstrap = Path(bootstrap)
        self.cwd = Path(cwd)
        self.env = dict(env)
        self.timeout_s = float(timeout_s)
        self.version = version
        self.memory_mb = memory_mb
        self.max_response_bytes = max_response_bytes
        self.host = host

        self._cond = threading.Condition()
        self._invoke_lock = threading.Lock()
        self._server: RuntimeApiServer | None = None
        # the latest process; kept after it exited (its group may still hold children)
        self._process: BootstrapProcess | None = None
        self._generation = 0
        self._ready = False
        self._init_error: tuple[bytes, str | None] | None = None
        self._exit_code: int | None = None
        self._closed = False
        self._current: Invocation | None = None
        self._logs = LogBuffer(max_log_bytes)
        # set by launch(), consumed by the first invoke() after it: init output and duration
        self._init_log_mark: int | None = None
        self._init_duration_ms: float | None = None

    # -- properties -----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("runtime API server not started")
        return self._server.server_address[1]

    @property
    def runtime_api(self) -> str:
        """Value for AWS_LAMBDA_RUNTIME_API."""
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def pgid(self) -> int | None:
        return self._process.pgid if self._process else None

    @property
    def alive(self) -> bool:
        """True while the current process runs and finished its init."""
        with self._cond:
            return (
                self._process is not None
                and self._exit_code is None
                and self._ready
                and not self._closed
            )

    def get_logs(self) -> str:
        return self._logs.all()

    # -- lifecycle ------------------------------------------------------------------------------

    def open(self) -> None:
        """Binds the Runtime API server on a free loopback port and starts serving."""
        if self._server is not None:
            return
        self._server = serve(self, self.host)
        _LIVE.add(self)

    def launch(self, init_deadline_s: float) -> None:
        """Starts a fresh bootstrap process and waits until it first asks for work.

        Raises InitError if the process cannot start, exits, reports /init/error or misses the
        deadline; the process group is killed in those cases.
        """
        self.open()
        self._kill_current_process(grace_s=0)
        with self._cond:
            if self._closed:
                raise InitError(err("Runtime.Stopped", "Error: execution environment stopped"))
            self._generation += 1
            self._ready = False
            self._init_error = None
            self._exit_code = None
            self._current = None
            self._init_log_mark = self._logs.mark()
            self._init_duration_ms = None
        env = dict(self.env)
        env["AWS_LAMBDA_RUNTIME_API"] = self.runtime_api
        started = time.monotonic()
        if not (self.bootstrap.is_file() and os.access(self.bootstrap, os.X_OK)):
            raise InitError(
                err(
                    "Runtime.InvalidEntrypoint",
                    f"Error: Couldn't find valid bootstrap(s): [{self.bootstrap}]",
                )
            )
        try:
            process = BootstrapProcess.spawn(self.bootstrap, self.cwd, env, self._logs, self.name)
        except OSError as e:
            raise InitError(
                err("Runtime.InvalidEntrypoint", f"Error: fork/exec {self.bootstrap}: {e.strerror}")
            ) from e
        with self._cond:
            self._process = process
            generation = self._generation
        threading.Thread(
            target=self._watch_exit,
            args=(process.proc, generation),
            name=f"lambda-wait-{self.name}",
            daemon=True,
        ).start()
        LOG.debug("started bootstrap pid=%s for %s on %s", process.pid, self.name, self.runtime_api)

        deadline = started + init_deadline_s
        generated = True
        with self._cond:
            while True:
                if self._closed:
                    failure = err("Runtime.Stopped", "Error: execution environment stopped")
                    break
                if self._init_error is not None:
                    failure = init_error_payload(*self._init_error)
                    generated = False
                    break
                if self._ready:
                    self._init_duration_ms = (time.monotonic() - started) * 1000
                    return
                if self._exit_code is not None:
                    failure = err(
                        "Runtime.ExitError",
                        f"Error: Runtime exited {runtime_exit_reason(self._exit_code)}",
                    )
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    failure = err(
                        "Sandbox.Timedout",
                        f"Error: Task timed out after {init_deadline_s:.2f} seconds",
                    )
                    break
                self._cond.wait(min(remaining, 0.5))
        self._kill_current_process(grace_s=0)
        self._drain_logs()
        raise InitError(
            failure, logs=self._logs.since(self._init_log_mark or 0), generated=generated
        )

    def close(self, grace_s: float = 1.0) -> None:
        """Kills the process group (SIGTERM, then SIGKILL after ``grace_s``) and stops the server.

        Idempotent; safe to call from any thread, also while launch() or invoke() wait.
        """
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._kill_current_process(grace_s=grace_s)
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        _LIVE.discard(self)

    # -- invocation -----------------------------------------------------------------------------

    def invoke(
        self, request_id: str, payload: bytes, function_arn: str, trace_id: str
    ) -> InvokeOutcome:
        with self._invoke_lock:
            return self._invoke(request_id, payload, function_arn, trace_id)

    def _invoke(self, request_id: str, payload: bytes, function_arn: str, trace_id: str):
        with self._cond:
            init_mark = self._init_log_mark
            init_ms = self._init_duration_ms if init_mark is not None else None
            self._init_log_mark = None
            process = self._process
        invoke_mark = self._logs.mark()
        started = time.monotonic()
        inv = Invocation(
            request_id=request_id,
            payload=payload,
            function_arn=function_arn,
            trace_id=trace_id,
            deadline_ms=int(time.time() * 1000 + self.timeout_s * 1000),
        )
        deadline = started + self.timeout_s
        with self._cond:
            if self._closed or process is None or self._exit_code is not None:
                status = "stopped"
            else:
                self._current = inv
                self._cond.notify_all()
                status = None
            while status is None:
                if inv.result is not None:
                    status = inv.result[0]
                elif self._closed:
                    status = "stopped"
                elif self._exit_code is not None:
                    status = "exit"
                else:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        status = "timeout"
                    else:
                        self._cond.wait(min(remaining, 0.5))
            self._current = None
            exit_code = self._exit_code
        duration_ms = (time.monotonic() - started) * 1000
        max_mem = process.max_memory_mb() if process is not None else None

        if status in ("timeout", "exit"):
            # AWS kills the runtime at the deadline (the next invoke re-initialises); after an
            # exit this reaps leftovers of the group.
            self._kill_current_process(grace_s=0)
        settled = settle(status, inv, exit_code, self.timeout_s, self.max_response_bytes)

        self._drain_logs()
        # output of the init phase precedes START, as in a CloudWatch log stream
        init_out = self._logs.between(init_mark, invoke_mark) if init_mark is not None else ""
        logs = invocation_logs(
            request_id,
            self.version,
            init_out,
            self._logs.since(invoke_mark),
            settled,
            duration_ms,
            self.memory_mb,
            max_mem,
            init_ms,
        )
        return InvokeOutcome(
            request_id, settled.body, settled.is_error, logs, settled.status, duration_ms
        )

    # -- called by the Runtime API server (api_server.py) ---------------------------------------

    def next_invocation(self) -> Invocation | None:
        """Blocks until there is an undelivered invocation; None once the environment closes.

        The first call marks the runtime's init as finished."""
        with self._cond:
            if not self._ready:
                self._ready = True
                self._cond.notify_all()
            while True:
                if self._closed:
                    return None
                inv = self._current
                if inv is not None and not inv.delivered and inv.result is None:
                    inv.delivered = True
                    return inv
                self._cond.wait(1.0)

    def record_result(
        self, request_id: str, kind: str, body: bytes, error_type: str | None
    ) -> bool:
        """Stores the runtime's response/error for the delivered invocation; False if stale."""
        with self._cond:
            inv = self._current
            if (
                inv is None
                or inv.request_id != request_id
                or inv.result is not None
                or not inv.delivered
            ):
                return False
            inv.result = (kind, body, error_type)
            self._cond.notify_all()
            return True

    def record_init_error(self, body: bytes, error_type: str | None) -> bool:
        """Stores the runtime's /init/error report; False once init has completed."""
        with self._cond:
            if self._ready:
                return False
            if self._init_error is None:
                self._init_error = (body, error_type)
                self._cond.notify_all()
            return True

    # -- internals ------------------------------------------------------------------------------

    def _watch_exit(self, proc: subprocess.Popen, generation: int) -> None:
        code = proc.wait()
        with self._cond:
            if self._generation == generation:
                self._exit_code = code
                self._cond.notify_all()

    def _drain_logs(self) -> None:
        process = self._process
        if process is not None:
            process.drain_output()

    def _kill_group(self, sig: int) -> None:
        process = self._process
        if process is not None:
            process.send_group_signal(sig)

    def _kill_current_process(self, grace_s: float) -> None:
        with self._cond:
            process = self._process
        if process is not None:
            process.kill(grace_s)


def make_scratch_dir(parent: str | None, name: str) -> Path:
    """A private TMPDIR for one execution environment (removed by ``remove_scratch_dir``)."""
    import tempfile

    return Path(tempfile.mkdtemp(prefix=f"lambda-{name[:16]}-", dir=parent))


def remove_scratch_dir(path: Path | None) -> None:
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)
