"""A Lambda execution environment as a plain local process.

This module has no LocalStack imports: it runs a function's ``bootstrap`` as a child process in its
own process group and serves it the Lambda Runtime API (version 2018-06-01) on a loopback port.
``executor.py`` adapts it to LocalStack's ``RuntimeExecutor`` interface.

One ``LocalRuntime`` is one execution environment: one Runtime API server (one port, fixed for the
environment's life) and at most one live ``bootstrap`` process at a time. After a timeout or a crash
the process is gone and ``launch()`` starts a fresh one (AWS re-initialises the runtime the same way).
"""

from __future__ import annotations

import atexit
import codecs
import ctypes
import ctypes.util
import datetime
import errno
import fcntl
import json
import logging
import math
import os
import queue
import shutil
import signal
import socket
import struct
import subprocess
import termios
import threading
import time
import weakref
from concurrent.futures import Future
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LOG = logging.getLogger(__name__)

RUNTIME_API_PREFIX = "/2018-06-01/runtime"
# AWS's synchronous response limit (6 MB) plus the 100 bytes LocalStack also allows.
DEFAULT_MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100
# Bytes of process output kept for get_logs(); older output is dropped first.
DEFAULT_MAX_LOG_BYTES = 4 * 1024 * 1024

_PR_SET_PDEATHSIG = 1


class InitError(Exception):
    """The runtime failed to initialise. ``payload`` is the error document the invoker receives.

    ``generated`` is True when the document is ours (exit, timeout, missing bootstrap) rather than
    what the runtime posted to /runtime/init/error.
    """

    def __init__(self, payload: dict, logs: str = "", generated: bool = True):
        super().__init__(payload.get("errorMessage", "init failed"))
        self.payload = payload
        self.logs = logs
        self.generated = generated

    def payload_bytes(self, request_id: str | None = None) -> bytes:
        """The document as JSON; with ``request_id``, generated messages get AWS's
        ``RequestId: <id> Error: ...`` form (known only when init runs inside an invocation)."""
        doc = dict(self.payload)
        if request_id and self.generated and str(doc.get("errorMessage", "")).startswith("Error: "):
            doc["errorMessage"] = f"RequestId: {request_id} {doc['errorMessage']}"
        return json.dumps(doc).encode()


@dataclass
class InvokeOutcome:
    request_id: str
    payload: bytes
    is_error: bool
    logs: str
    # "success", "error" (function error), "timeout", "exit" (runtime died), "init" (re-init failed)
    status: str
    duration_ms: float = 0.0


@dataclass
class _Invocation:
    request_id: str
    payload: bytes
    function_arn: str
    trace_id: str
    deadline_ms: int
    delivered: bool = False
    result: tuple[str, bytes, str | None] | None = None  # (kind, body, error type)


# --------------------------------------------------------------------------------------------------
# Child process spawning
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
_LIVE: weakref.WeakSet[LocalRuntime] = weakref.WeakSet()


def kill_all_now() -> None:
    """SIGKILL every live process group (atexit safety net)."""
    for runtime in list(_LIVE):
        runtime._kill_group(signal.SIGKILL)


atexit.register(kill_all_now)


def _signal_group(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return False


def _max_memory_mb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return max(1, math.ceil(int(line.split()[1]) / 1024))
    except (OSError, ValueError, IndexError):
        pass
    return None


def _exit_description(returncode: int) -> str:
    """Go's os.ProcessState wording, which AWS's runtime errors use."""
    if returncode < 0:
        try:
            name = signal.strsignal(-returncode) or f"signal {-returncode}"
        except ValueError:
            name = f"signal {-returncode}"
        return f"signal: {name.lower()}"
    return f"exit status {returncode}"


# --------------------------------------------------------------------------------------------------
# Log capture
# --------------------------------------------------------------------------------------------------


class _LogBuffer:
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


# --------------------------------------------------------------------------------------------------
# Runtime API server
# --------------------------------------------------------------------------------------------------


class _RuntimeApiHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "harness-lambda-runtime-api"
    # Buffer each response and send it in one write (http.server flushes after every request):
    # headers and body in separate small segments meet the peer's delayed ACK and cost ~40 ms.
    wbufsize = -1
    runtime: LocalRuntime  # set on the per-runtime subclass

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - signature from base class
        LOG.debug("runtime api %s: " + format, self.runtime.name, *args)

    # -- helpers --------------------------------------------------------------------------------

    def _read_body(self) -> bytes | None:
        """Reads the request body (Content-Length or chunked). None if it exceeds the limit."""
        limit = self.runtime.max_response_bytes
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts, total, too_big = [], 0, False
            while True:
                size_line = self.rfile.readline(65537)
                if not size_line:
                    break
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    break
                chunk = self.rfile.read(size)
                self.rfile.readline(3)  # CRLF after the chunk
                total += len(chunk)
                if total > limit:
                    too_big = True
                else:
                    parts.append(chunk)
            return None if too_big else b"".join(parts)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        return None if len(body) > limit else body

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if body and not (headers and "Content-Type" in headers):
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _send_json(self, status: int, doc: dict) -> None:
        self._send(status, json.dumps(doc).encode())

    def _path_parts(self) -> list[str]:
        path = self.path.split("?", 1)[0]
        if not path.startswith(RUNTIME_API_PREFIX + "/"):
            return []
        return path[len(RUNTIME_API_PREFIX) + 1 :].split("/")

    def _not_found(self) -> None:
        self._send_json(
            HTTPStatus.NOT_FOUND,
            {"errorMessage": f"unsupported path {self.path}", "errorType": "InvalidPath"},
        )

    # -- routes ---------------------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        if self._path_parts() != ["invocation", "next"]:
            return self._not_found()
        inv = self.runtime._next_invocation()
        if inv is None:  # environment shutting down: the process is about to be killed
            self.close_connection = True
            return self._send_json(
                HTTPStatus.GONE, {"errorMessage": "environment stopping", "errorType": "Stopping"}
            )
        self._send(
            HTTPStatus.OK,
            inv.payload,
            {
                "Content-Type": "application/json",
                "Lambda-Runtime-Aws-Request-Id": inv.request_id,
                "Lambda-Runtime-Deadline-Ms": str(inv.deadline_ms),
                "Lambda-Runtime-Invoked-Function-Arn": inv.function_arn,
                "Lambda-Runtime-Trace-Id": inv.trace_id,
            },
        )

    def do_POST(self) -> None:  # noqa: N802
        parts = self._path_parts()
        body = self._read_body()
        error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
        if parts == ["init", "error"]:
            if body is None:
                body = b""
            if not self.runtime._record_init_error(body, error_type):
                return self._send_json(
                    HTTPStatus.FORBIDDEN,
                    {
                        "errorMessage": "init already completed",
                        "errorType": "InvalidStateTransition",
                    },
                )
            return self._send_json(HTTPStatus.ACCEPTED, {"status": "OK"})
        if len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
            request_id = parts[1]
            if body is None:
                self.runtime._record_result(request_id, "too_large", b"", None)
                return self._send_json(
                    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                    {
                        "errorMessage": "Exceeded maximum allowed payload size "
                        f"({self.runtime.max_response_bytes} bytes).",
                        "errorType": "RequestEntityTooLarge",
                    },
                )
            if not self.runtime._record_result(request_id, parts[2], body, error_type):
                return self._send_json(
                    HTTPStatus.BAD_REQUEST,
                    {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"},
                )
            return self._send_json(HTTPStatus.ACCEPTED, {"status": "OK"})
        return self._not_found()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def handle_error(self, request, client_address) -> None:
        # The runtime process is killed at timeouts and on stop; its half-open connections are
        # expected and not worth a traceback on LocalStack's stderr (the default behaviour).
        LOG.debug("runtime api connection from %s failed", client_address, exc_info=True)


# --------------------------------------------------------------------------------------------------
# The execution environment
# --------------------------------------------------------------------------------------------------


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
        self._server: _Server | None = None
        self._proc: subprocess.Popen | None = None
        self._pgid: int | None = None
        self._generation = 0
        self._ready = False
        self._init_error: tuple[bytes, str | None] | None = None
        self._exit_code: int | None = None
        self._closed = False
        self._current: _Invocation | None = None
        self._logs = _LogBuffer(max_log_bytes)
        self._log_fd: int | None = None
        self._reader: threading.Thread | None = None
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
        return self._proc.pid if self._proc else None

    @property
    def pgid(self) -> int | None:
        return self._pgid

    @property
    def alive(self) -> bool:
        """True while the current process runs and finished its init."""
        with self._cond:
            return (
                self._proc is not None
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
        handler = type("Handler", (_RuntimeApiHandler,), {"runtime": self})
        self._server = _Server((self.host, 0), handler)
        threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"lambda-runtime-api-{self.name}",
            daemon=True,
        ).start()
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
                raise InitError(_err("Runtime.Stopped", "Error: execution environment stopped"))
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
                _err(
                    "Runtime.InvalidEntrypoint",
                    f"Error: Couldn't find valid bootstrap(s): [{self.bootstrap}]",
                )
            )
        read_fd, write_fd = os.pipe()
        try:
            proc = _SPAWNER.popen(
                [str(self.bootstrap)],
                cwd=str(self.cwd),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=write_fd,
                stderr=write_fd,
                close_fds=True,
                process_group=0,
            )
        except OSError as e:
            os.close(read_fd)
            os.close(write_fd)
            raise InitError(
                _err(
                    "Runtime.InvalidEntrypoint", f"Error: fork/exec {self.bootstrap}: {e.strerror}"
                )
            ) from e
        os.close(write_fd)
        with self._cond:
            self._proc = proc
            self._pgid = proc.pid  # process_group=0 makes the child its own group leader
            self._log_fd = read_fd
            generation = self._generation
        self._reader = threading.Thread(
            target=self._read_output, args=(read_fd,), name=f"lambda-logs-{self.name}", daemon=True
        )
        self._reader.start()
        threading.Thread(
            target=self._watch_exit,
            args=(proc, generation),
            name=f"lambda-wait-{self.name}",
            daemon=True,
        ).start()
        LOG.debug("started bootstrap pid=%s for %s on %s", proc.pid, self.name, self.runtime_api)

        deadline = started + init_deadline_s
        generated = True
        with self._cond:
            while True:
                if self._closed:
                    failure = _err("Runtime.Stopped", "Error: execution environment stopped")
                    break
                if self._init_error is not None:
                    failure = _init_error_payload(*self._init_error)
                    generated = False
                    break
                if self._ready:
                    self._init_duration_ms = (time.monotonic() - started) * 1000
                    return
                if self._exit_code is not None:
                    failure = _err(
                        "Runtime.ExitError",
                        "Error: Runtime exited "
                        + (
                            "without providing a reason"
                            if self._exit_code == 0
                            else f"with error: {_exit_description(self._exit_code)}"
                        ),
                    )
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    failure = _err(
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
            proc = self._proc
        invoke_mark = self._logs.mark()
        header = f"START RequestId: {request_id} Version: {self.version}\n"
        started = time.monotonic()
        inv = _Invocation(
            request_id=request_id,
            payload=payload,
            function_arn=function_arn,
            trace_id=trace_id,
            deadline_ms=int(time.time() * 1000 + self.timeout_s * 1000),
        )
        deadline = started + self.timeout_s
        with self._cond:
            if self._closed or proc is None or self._exit_code is not None:
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
        max_mem = _max_memory_mb(proc.pid) if proc is not None else None

        extra_log = ""
        report_tail = ""
        if status == "response":
            is_error, body = False, inv.result[1]
            status = "success"
        elif status == "error":
            is_error, body = True, inv.result[1]
        elif status == "too_large":
            is_error = True
            body = json.dumps(
                _err(
                    "Function.ResponseSizeTooLarge",
                    "Response payload size exceeded maximum allowed payload size "
                    f"({self.max_response_bytes} bytes).",
                )
            ).encode()
            status = "error"
        elif status == "timeout":
            # AWS kills the runtime at the deadline; the next invoke re-initialises.
            self._kill_current_process(grace_s=0)
            is_error = True
            body = json.dumps(
                _err(
                    "Sandbox.Timedout",
                    f"RequestId: {request_id} Error: Task timed out after {self.timeout_s:.2f} seconds",
                )
            ).encode()
            ts = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            extra_log = f"{ts} {request_id} Task timed out after {self.timeout_s:.2f} seconds\n"
            report_tail = "\tStatus: timeout"
        elif status == "exit":
            self._kill_current_process(grace_s=0)  # reap leftovers of the group
            reason = (
                "without providing a reason"
                if exit_code == 0
                else f"with error: {_exit_description(exit_code)}"
            )
            is_error = True
            body = json.dumps(
                _err("Runtime.ExitError", f"RequestId: {request_id} Error: Runtime exited {reason}")
            ).encode()
            extra_log = (
                f"RequestId: {request_id} Error: Runtime exited {reason}\nRuntime.ExitError\n"
            )
            report_tail = "\tStatus: error\tError Type: Runtime.ExitError"
        else:  # stopped
            is_error = True
            body = json.dumps(
                _err(
                    "Runtime.Stopped",
                    f"RequestId: {request_id} Error: execution environment stopped",
                )
            ).encode()
            status = "stopped"

        self._drain_logs()
        # output of the init phase precedes START, as in a CloudWatch log stream
        init_out = (
            _ensure_nl(self._logs.between(init_mark, invoke_mark)) if init_mark is not None else ""
        )
        output = _ensure_nl(self._logs.since(invoke_mark))
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms"
            f"\tBilled Duration: {max(1, math.ceil(duration_ms))} ms"
            f"\tMemory Size: {self.memory_mb} MB"
            + (f"\tMax Memory Used: {max_mem} MB" if max_mem else "")
            + (f"\tInit Duration: {init_ms:.2f} ms" if init_ms is not None else "")
            + report_tail
            + "\t\n"
        )
        logs = init_out + header + output + extra_log + f"END RequestId: {request_id}\n" + report
        return InvokeOutcome(request_id, body, is_error, logs, status, duration_ms)

    # -- called by the HTTP handler -------------------------------------------------------------

    def _next_invocation(self) -> _Invocation | None:
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

    def _record_result(
        self, request_id: str, kind: str, body: bytes, error_type: str | None
    ) -> bool:
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

    def _record_init_error(self, body: bytes, error_type: str | None) -> bool:
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

    def _read_output(self, fd: int) -> None:
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
                self._logs.append(data)
        finally:
            try:
                os.close(fd)
            except OSError:
                pass

    def _drain_logs(self, max_wait_s: float = 0.2) -> None:
        """Waits (briefly) until the reader consumed everything already written to the pipe."""
        fd, reader = self._log_fd, self._reader
        if reader is None:
            return
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

    def _kill_group(self, sig: int) -> None:
        pgid = self._pgid
        if pgid is not None:
            _signal_group(pgid, sig)

    def _kill_current_process(self, grace_s: float) -> None:
        with self._cond:
            proc, pgid, reader = self._proc, self._pgid, self._reader
        if proc is None or pgid is None:
            return
        if grace_s > 0 and proc.poll() is None:
            _signal_group(pgid, signal.SIGTERM)
            try:
                proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                pass
        # SIGKILL the whole group even if the leader exited: children may remain
        _signal_group(pgid, signal.SIGKILL)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            LOG.warning("bootstrap pid %s did not die after SIGKILL", proc.pid)
        if reader is not None:
            reader.join(timeout=1.0)


def _ensure_nl(text: str) -> str:
    return text + "\n" if text and not text.endswith("\n") else text


def _err(error_type: str, message: str) -> dict:
    return {"errorType": error_type, "errorMessage": message}


def _init_error_payload(body: bytes, error_type: str | None) -> dict:
    """What the invoker gets after the runtime posted /runtime/init/error."""
    try:
        doc = json.loads(body) if body else None
    except ValueError:
        doc = None
    if isinstance(doc, dict):
        if error_type and "errorType" not in doc:
            doc["errorType"] = error_type
        return doc
    return _err(error_type or "Runtime.Unknown", body.decode("utf-8", "replace"))


def make_scratch_dir(parent: str | None, name: str) -> Path:
    """A private TMPDIR for one execution environment (removed by ``remove_scratch_dir``)."""
    import tempfile

    return Path(tempfile.mkdtemp(prefix=f"lambda-{name[:16]}-", dir=parent))


def remove_scratch_dir(path: Path | None) -> None:
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)
