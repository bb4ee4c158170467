"""The Lambda Runtime API (version 2018-06-01) as a small HTTP server on a loopback port.

Only the wire protocol lives here: routes, body reading (Content-Length or chunked, with the
response size limit), status codes and headers. What a request means for the execution environment
(hand out the next invocation, record a result or an init error) is delegated to the
``LocalRuntime`` (``runtime_api.py``) the server belongs to. No LocalStack imports.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .runtime_api import LocalRuntime

LOG = logging.getLogger(__name__)

RUNTIME_API_PREFIX = "/2018-06-01/runtime"


class _RuntimeApiHandler(BaseHTTPRequestHandler):
    """The Runtime API routes; one subclass per environment carries its ``runtime``."""

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
        inv = self.runtime.next_invocation()
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
            if not self.runtime.record_init_error(body, error_type):
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
                self.runtime.record_result(request_id, "too_large", b"", None)
                return self._send_json(
                    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                    {
                        "errorMessage": "Exceeded maximum allowed payload size "
                        f"({self.runtime.max_response_bytes} bytes).",
                        "errorType": "RequestEntityTooLarge",
                    },
                )
            if not self.runtime.record_result(request_id, parts[2], body, error_type):
                return self._send_json(
                    HTTPStatus.BAD_REQUEST,
                    {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"},
                )
            return self._send_json(HTTPStatus.ACCEPTED, {"status": "OK"})
        return self._not_found()


class RuntimeApiServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def handle_error(self, request, client_address) -> None:
        # The runtime process is killed at timeouts and on stop; its half-open connections are
        # expected and not worth a traceback on LocalStack's stderr (the default behaviour).
        LOG.debug("runtime api connection from %s failed", client_address, exc_info=True)


def serve(runtime: LocalRuntime, host: str) -> RuntimeApiServer:
    """Binds a server for ``runtime`` on a free port of ``host``; serves it on a daemon thread."""
    handler = type("Handler", (_RuntimeApiHandler,), {"runtime": runtime})
    server = RuntimeApiServer((host, 0), handler)
    threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name=f"lambda-runtime-api-{runtime.name}",
        daemon=True,
    ).start()
    return server
