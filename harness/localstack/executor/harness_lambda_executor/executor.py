"""LocalStack ``RuntimeExecutor`` that runs a function's ``bootstrap`` as a local process.

Selected with ``LAMBDA_RUNTIME_EXECUTOR=local-process``. One executor instance is one LocalStack
execution environment, so LocalStack's concurrency and keep-alive rules apply unchanged: it starts
one executor per concurrent invocation and stops idle ones after ``LAMBDA_KEEPALIVE_MS``.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from pathlib import Path

from localstack import config
from localstack.aws.api.lambda_ import PackageType
from localstack.services.lambda_.invocation.executor_endpoint import StatusErrorException
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.runtime_executor import (
    LambdaRuntimeException,
    RuntimeExecutor,
)

from .runtime_api import InitError, LocalRuntime, make_scratch_dir, remove_scratch_dir

LOG = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
# SIGTERM grace before SIGKILL when an environment stops. LocalStack waits at most 5 s for all
# versions to stop on shutdown, so keep this well below that.
STOP_GRACE_SECONDS = 1.0
# Margin below LocalStack's own startup timer (LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT), so our init
# deadline fires first and produces a proper error payload instead of LocalStack's generic failure.
INIT_DEADLINE_MARGIN_SECONDS = 0.5
LOG_TAIL_CHARS = 4000


def _init_failure_log_text(e: InitError) -> str:
    """The init output plus AWS's INIT_REPORT line for a failed init."""
    logs = e.logs if not e.logs or e.logs.endswith("\n") else e.logs + "\n"
    return (
        logs
        + "INIT_REPORT Phase: init\tStatus: error"
        + f"\tError Type: {e.payload.get('errorType', 'Runtime.Unknown')}\n"
    )


def gateway_host() -> str:
    """Host under which a process on this machine reaches LocalStack's gateway."""
    host = (config.GATEWAY_LISTEN[0].host or "").strip()
    if host in ("", "0.0.0.0", "::", "[::]", "localhost"):
        return LOOPBACK
    return host


def gateway_url() -> str:
    return f"http://{gateway_host()}:{config.GATEWAY_LISTEN[0].port}"


def build_process_env(
    env_vars: dict[str, object],
    user_env: dict[str, str] | None,
    region: str,
    code_dir: Path,
    scratch_dir: Path | None,
) -> dict[str, str]:
    """The child's environment: what LocalStack computed for the container, adapted to a host process.

    ``env_vars`` is ExecutionEnvironment.get_environment_variables() (the docker executor's env,
    already merged with the function's configured variables, which win). Nothing from LocalStack's
    own environment leaks in except PATH.
    """
    user_env = user_env or {}
    env = {k: str(v) for k, v in env_vars.items() if v is not None}
    # base variables a container image would provide
    env.setdefault("PATH", os.environ.get("PATH") or "/usr/local/bin:/usr/bin:/bin")
    env.setdefault("LANG", "C.UTF-8")
    # LocalStack's gateway on loopback, unless the function configured its own endpoint.
    # AWS_ENDPOINT_URL_<SERVICE> variables from the function config are left untouched.
    if "AWS_ENDPOINT_URL" not in user_env and not config.LAMBDA_DISABLE_AWS_ENDPOINT_URL:
        env["AWS_ENDPOINT_URL"] = gateway_url()
    if "LOCALSTACK_HOSTNAME" not in user_env:
        env["LOCALSTACK_HOSTNAME"] = gateway_host()
    env.setdefault("AWS_REGION", region)
    env.setdefault("AWS_DEFAULT_REGION", env["AWS_REGION"])
    # LocalStack normally passes STS-issued test credentials; fall back to its well-known test ones
    env.setdefault("AWS_ACCESS_KEY_ID", "test")
    env.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    # the code is not at /var/task here
    if "LAMBDA_TASK_ROOT" not in user_env:
        env["LAMBDA_TASK_ROOT"] = str(code_dir)
    if scratch_dir is not None and "TMPDIR" not in user_env:
        env["TMPDIR"] = str(scratch_dir)
    # internal to LocalStack's Go init, meaningless for a bare process
    env.pop("LOCALSTACK_CHMOD_PATHS", None)
    return env


class LocalProcessRuntimeExecutor(RuntimeExecutor):
    """Runs ``<unzipped code>/bootstrap`` as a child process in its own process group."""

    def __init__(self, id: str, function_version: FunctionVersion) -> None:  # noqa: A002
        super().__init__(id=id, function_version=function_version)
        self._runtime: LocalRuntime | None = None
        self._last_runtime: LocalRuntime | None = None  # kept after stop() for get_logs()
        self._scratch: Path | None = None
        self._log_stream: str | None = None
        self._lock = threading.Lock()
        self._stopped = False

    # -- RuntimeExecutor ------------------------------------------------------------------------

    def start(self, env_vars: dict[str, str]) -> None:
        fv = self.function_version
        code_dir = Path(fv.config.code.get_unzipped_code_location())
        with self._lock:
            if self._stopped:
                raise LambdaRuntimeException(f"executor {self.id} was stopped before it started")
            self._scratch = make_scratch_dir(tempfile.gettempdir(), fv.id.function_name)
        env = build_process_env(
            env_vars,
            fv.config.environment,
            fv.id.region,
            code_dir,
            self._scratch,
        )
        runtime = LocalRuntime(
            name=self.id,
            bootstrap=code_dir / "bootstrap",
            cwd=code_dir,
            env=env,
            timeout_s=fv.config.timeout,
            version=fv.id.qualifier,
            memory_mb=int(fv.config.memory_size or 128),
            max_response_bytes=int(config.LAMBDA_LIMITS_MAX_FUNCTION_PAYLOAD_SIZE_BYTES),
        )
        self._log_stream = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        with self._lock:
            self._runtime = self._last_runtime = runtime
        runtime.open()
        try:
            runtime.launch(self._init_deadline())
        except InitError as e:
            self._log_init_failure(e)
            self._ship_init_failure_logs(e)
            self.stop()
            raise StatusErrorException(
                "Environment startup failed", payload=e.payload_bytes()
            ) from e
        LOG.debug(
            "local-process environment %s for %s ready: pid=%s runtime api=%s",
            self.id,
            fv.qualified_arn,
            runtime.pid,
            runtime.runtime_api,
        )

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            runtime, self._runtime = self._runtime, None
            scratch, self._scratch = self._scratch, None
        if runtime is not None:
            runtime.close(grace_s=STOP_GRACE_SECONDS)
        remove_scratch_dir(scratch)

    def get_address(self) -> str:
        return LOOPBACK

    def get_endpoint_from_executor(self) -> str:
        return gateway_host()

    def get_runtime_endpoint(self) -> str:
        # Only informational here (LOCALSTACK_RUNTIME_ENDPOINT): the process talks to our own
        # Runtime API server, not to LocalStack's /_localstack_lambda router.
        return (
            f"http://{gateway_host()}:{config.GATEWAY_LISTEN[0].port}/_localstack_lambda/{self.id}"
        )

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        request_id = payload["invoke-id"]
        runtime = self._runtime
        if runtime is None:
            raise LambdaRuntimeException(f"executor {self.id} is not running")
        if not runtime.alive:
            # the previous process timed out or crashed: re-initialise, as AWS does
            try:
                runtime.launch(self._init_deadline())
            except InitError as e:
                self._log_init_failure(e)
                # LocalStack ships these logs itself (InvocationResult.logs)
                return InvocationResult(
                    request_id=request_id,
                    payload=e.payload_bytes(request_id),
                    is_error=True,
                    logs=_init_failure_log_text(e),
                )
        body = payload.get("payload") or ""
        outcome = runtime.invoke(
            request_id=request_id,
            payload=body.encode() if isinstance(body, str) else body,
            function_arn=payload.get("invoked-function-arn") or self.function_version.qualified_arn,
            trace_id=payload.get("trace-id") or "",
        )
        if outcome.status == "timeout":
            LOG.info(
                "Lambda %s request %s timed out after %ss; process group killed",
                self.function_version.qualified_arn,
                request_id,
                self.function_version.config.timeout,
            )
        return InvocationResult(
            request_id=request_id,
            payload=outcome.payload,
            is_error=outcome.is_error,
            logs=outcome.logs,
        )

    def get_logs(self) -> str:
        runtime = self._last_runtime
        return runtime.get_logs() if runtime is not None else ""

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        if function_version.config.package_type != PackageType.Zip:
            raise NotImplementedError(
                "local-process executor runs zip packages only (container images need Docker)"
            )
        if function_version.config.code:
            function_version.config.code.prepare_for_execution()
            bootstrap = (
                Path(function_version.config.code.get_unzipped_code_location()) / "bootstrap"
            )
            if not bootstrap.is_file():
                LOG.warning(
                    "Function %s (runtime %s) has no bootstrap at %s: invocations will fail with "
                    "Runtime.InvalidEntrypoint. The local-process executor only runs custom runtimes "
                    "(provided.*) whose zip contains an executable 'bootstrap'.",
                    function_version.qualified_arn,
                    function_version.config.runtime,
                    bootstrap,
                )

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        # Nothing version-wide to undo: the unzipped code is LocalStack's, environments are
        # stopped individually by LocalStack before this is called.
        pass

    @classmethod
    def validate_environment(cls) -> bool:
        if os.name != "posix":
            LOG.warning("local-process Lambda executor needs a POSIX system (process groups)")
            return False
        return True

    # -- helpers --------------------------------------------------------------------------------

    def _init_deadline(self) -> float:
        return max(
            1.0, float(config.LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT) - INIT_DEADLINE_MARGIN_SECONDS
        )

    def _ship_init_failure_logs(self, e: InitError) -> None:
        """Puts the init output into the function's CloudWatch log stream, as AWS does.

        LocalStack ships logs only from InvocationResult.logs; a failed start() carries none, so
        without this an init failure would be visible in LocalStack's own log only.
        """
        from localstack.aws.connect import connect_to
        from localstack.utils.aws.client_types import ServicePrincipal
        from localstack.utils.bootstrap import is_api_enabled

        if not self._log_stream or not is_api_enabled("logs"):
            return
        fv = self.function_version
        group = f"/aws/lambda/{fv.id.function_name}"
        text = _init_failure_log_text(e)
        now_ms = int(time.time() * 1000)
        events = [
            {"timestamp": now_ms, "message": line + "\n"} for line in text.split("\n") if line
        ]
        try:
            logs = connect_to.with_assumed_role(
                region_name=fv.id.region,
                role_arn=fv.config.role,
                service_principal=ServicePrincipal.lambda_,
            ).logs
            try:
                logs.put_log_events(
                    logGroupName=group, logStreamName=self._log_stream, logEvents=events
                )
            except logs.exceptions.ResourceNotFoundException:
                try:
                    logs.create_log_group(logGroupName=group)
                except logs.exceptions.ResourceAlreadyExistsException:
                    pass
                logs.create_log_stream(logGroupName=group, logStreamName=self._log_stream)
                logs.put_log_events(
                    logGroupName=group, logStreamName=self._log_stream, logEvents=events
                )
        except Exception as err:  # noqa: BLE001 - logging must not mask the init error
            LOG.warning("could not store init logs of %s in %s: %s", fv.qualified_arn, group, err)

    def _log_init_failure(self, e: InitError) -> None:
        tail = e.logs[-LOG_TAIL_CHARS:]
        LOG.warning(
            "Lambda %s: execution environment %s failed to initialise: %s\n%s",
            self.function_version.qualified_arn,
            self.id,
            json.dumps(e.payload),
            tail,
        )
