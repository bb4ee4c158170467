"""What an invocation or an init produces: records, error documents and the START/END/REPORT log.

Pure data and formatting, split from the execution environment (``runtime_api.py``) so that the
AWS-compatible wording (error types, ``RequestId: ... Error: ...`` messages, the REPORT line) lives
in one place and can be read without the threading around it. No LocalStack imports.
"""

from __future__ import annotations

import datetime
import json
import math
from dataclasses import dataclass

from .process import exit_description


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
class Invocation:
    """One invocation as the Runtime API server hands it out and records its result."""

    request_id: str
    payload: bytes
    function_arn: str
    trace_id: str
    deadline_ms: int
    delivered: bool = False
    result: tuple[str, bytes, str | None] | None = None  # (kind, body, error type)


@dataclass
class Settled:
    """How an invocation ended, as the invoker and the log stream see it."""

    status: str
    is_error: bool
    body: bytes
    extra_log: str = ""  # lines after the function's output (timeout, runtime exit)
    report_tail: str = ""  # appended to the REPORT line


def err(error_type: str, message: str) -> dict:
    return {"errorType": error_type, "errorMessage": message}


def runtime_exit_reason(exit_code: int) -> str:
    """Completes AWS's ``Runtime exited ...`` message."""
    if exit_code == 0:
        return "without providing a reason"
    return f"with error: {exit_description(exit_code)}"


def init_error_payload(body: bytes, error_type: str | None) -> dict:
    """What the invoker gets after the runtime posted /runtime/init/error."""
    try:
        doc = json.loads(body) if body else None
    except ValueError:
        doc = None
    if isinstance(doc, dict):
        if error_type and "errorType" not in doc:
            doc["errorType"] = error_type
        return doc
    return err(error_type or "Runtime.Unknown", body.decode("utf-8", "replace"))


def settle(
    status: str,
    inv: Invocation,
    exit_code: int | None,
    timeout_s: float,
    max_response_bytes: int,
) -> Settled:
    """Maps the wait's end (``status``: a result kind, "timeout", "exit" or "stopped") to the
    invoker's payload and the extra log text. The caller has already killed the process where AWS
    would (timeout, exit)."""
    request_id = inv.request_id
    if status == "response":
        return Settled("success", False, inv.result[1])
    if status == "error":
        return Settled("error", True, inv.result[1])
    if status == "too_large":
        body = json.dumps(
            err(
                "Function.ResponseSizeTooLarge",
                "Response payload size exceeded maximum allowed payload size "
                f"({max_response_bytes} bytes).",
            )
        ).encode()
        return Settled("error", True, body)
    if status == "timeout":
        body = json.dumps(
            err(
                "Sandbox.Timedout",
                f"RequestId: {request_id} Error: Task timed out after {timeout_s:.2f} seconds",
            )
        ).encode()
        ts = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        extra_log = f"{ts} {request_id} Task timed out after {timeout_s:.2f} seconds\n"
        return Settled("timeout", True, body, extra_log, "\tStatus: timeout")
    if status == "exit":
        reason = runtime_exit_reason(exit_code)
        body = json.dumps(
            err("Runtime.ExitError", f"RequestId: {request_id} Error: Runtime exited {reason}")
        ).encode()
        extra_log = f"RequestId: {request_id} Error: Runtime exited {reason}\nRuntime.ExitError\n"
        tail = "\tStatus: error\tError Type: Runtime.ExitError"
        return Settled("exit", True, body, extra_log, tail)
    # stopped
    body = json.dumps(
        err("Runtime.Stopped", f"RequestId: {request_id} Error: execution environment stopped")
    ).encode()
    return Settled("stopped", True, body)


def invocation_logs(
    request_id: str,
    version: str,
    init_output: str,
    output: str,
    settled: Settled,
    duration_ms: float,
    memory_mb: int,
    max_memory_mb: int | None,
    init_ms: float | None,
) -> str:
    """The invocation's log text as in a CloudWatch log stream: init output, START, the function's
    output, END and REPORT."""
    report = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms"
        f"\tBilled Duration: {max(1, math.ceil(duration_ms))} ms"
        f"\tMemory Size: {memory_mb} MB"
        + (f"\tMax Memory Used: {max_memory_mb} MB" if max_memory_mb else "")
        + (f"\tInit Duration: {init_ms:.2f} ms" if init_ms is not None else "")
        + settled.report_tail
        + "\t\n"
    )
    return (
        ensure_nl(init_output)
        + f"START RequestId: {request_id} Version: {version}\n"
        + ensure_nl(output)
        + settled.extra_log
        + f"END RequestId: {request_id}\n"
        + report
    )


def ensure_nl(text: str) -> str:
    return text + "\n" if text and not text.endswith("\n") else text
