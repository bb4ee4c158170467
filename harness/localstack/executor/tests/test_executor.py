"""The LocalStack adapter, driven through LocalStack's real ExecutionEnvironment.

Only the function version (a plain namespace instead of LocalStack's store objects) and the STS call
for the function's credentials are stubbed; the executor is found through LocalStack's own plux
lookup and runs real processes.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import live_members, write_bootstrap
from harness_lambda_executor.executor import LocalProcessRuntimeExecutor, gateway_url
from localstack import config
from localstack.aws.api.lambda_ import InvocationType, PackageType
from localstack.services.lambda_.invocation import execution_environment as ee
from localstack.services.lambda_.invocation.executor_endpoint import StatusErrorException
from localstack.services.lambda_.invocation.lambda_models import InitializationType, Invocation
from localstack.services.lambda_.invocation.runtime_executor import get_runtime_executor

REGION = "eu-west-1"


@pytest.fixture(autouse=True)
def local_process_executor(monkeypatch):
    monkeypatch.setattr(config, "LAMBDA_RUNTIME_EXECUTOR", "local-process")
    # needs a running LocalStack (CloudWatch Logs); covered by the end-to-end smoke test
    monkeypatch.setattr(
        LocalProcessRuntimeExecutor, "_ship_init_failure_logs", lambda self, e: None
    )
    monkeypatch.setattr(
        ee.ExecutionEnvironment,
        "get_credentials",
        lambda self: {
            "AccessKeyId": "ASIAFAKE",
            "SecretAccessKey": "secret",
            "SessionToken": "token",
        },
    )


def function_version(code_dir: Path, timeout: int = 3, environment: dict | None = None):
    fid = SimpleNamespace(
        function_name="fn", region=REGION, qualifier="$LATEST", account="000000000000"
    )
    code = SimpleNamespace(
        get_unzipped_code_location=lambda: code_dir,
        prepare_for_execution=lambda: None,
    )
    cfg = SimpleNamespace(
        code=code,
        timeout=timeout,
        memory_size=128,
        environment=environment or {},
        logging_config={},
        capacity_provider_config=None,
        handler="ignored",
        runtime="provided.al2023",
        role="arn:aws:iam::000000000000:role/r",
        package_type=PackageType.Zip,
        layers=[],
    )
    return SimpleNamespace(
        id=fid,
        config=cfg,
        qualified_arn=f"arn:aws:lambda:{REGION}:000000000000:function:fn:$LATEST",
    )


def environment(fv) -> ee.ExecutionEnvironment:
    return ee.ExecutionEnvironment(
        function_version=fv,
        initialization_type=InitializationType.on_demand,
        on_timeout=lambda *a: None,
        version_manager_id="vm",
    )


def invocation(event: dict) -> Invocation:
    return Invocation(
        payload=json.dumps(event).encode(),
        invoked_arn=f"arn:aws:lambda:{REGION}:000000000000:function:fn",
        client_context=None,
        invocation_type=InvocationType.RequestResponse,
        invoke_time=datetime.now(),
        request_id=str(uuid.uuid4()),
        trace_context={},
    )


def test_plugin_is_selected_by_localstack():
    assert get_runtime_executor() is LocalProcessRuntimeExecutor


def test_invoke_through_execution_environment(code_dir):
    fv = function_version(
        code_dir,
        environment={"AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:9999", "USER_VAR": "u"},
    )
    env = environment(fv)
    env.start()
    try:
        env.reserve()
        inv = invocation({"k": "v"})
        result = env.invoke(inv)
        env.release()
        assert not result.is_error
        doc = json.loads(result.payload)
        assert doc["event"] == {"k": "v"}
        assert doc["headers"]["Lambda-Runtime-Aws-Request-Id"] == inv.request_id
        child_env = doc["env"]
        assert child_env["AWS_ENDPOINT_URL"] == gateway_url()
        assert gateway_url().startswith("http://127.0.0.1:")
        assert child_env["AWS_ENDPOINT_URL_SQS"] == "http://127.0.0.1:9999"  # passed through
        assert child_env["USER_VAR"] == "u"
        assert child_env["AWS_REGION"] == child_env["AWS_DEFAULT_REGION"] == REGION
        assert child_env["AWS_ACCESS_KEY_ID"] == "ASIAFAKE"
        assert child_env["AWS_SESSION_TOKEN"] == "token"
        assert child_env["AWS_LAMBDA_FUNCTION_NAME"] == "fn"
        assert child_env["LAMBDA_TASK_ROOT"] == str(code_dir)
        assert Path(child_env["TMPDIR"]).is_dir()
        # LocalStack's own environment does not leak into the function
        assert "GATEWAY_LISTEN" not in child_env and "PYTEST_CURRENT_TEST" not in child_env
        assert f"START RequestId: {inv.request_id}" in result.logs
        pgid = env.runtime_executor._runtime.pgid
    finally:
        env.stop()
    assert live_members(pgid) == []
    assert not Path(child_env["TMPDIR"]).exists()


def test_user_endpoint_url_wins(code_dir):
    fv = function_version(code_dir, environment={"AWS_ENDPOINT_URL": "http://127.0.0.1:1234"})
    env = environment(fv)
    env.start()
    try:
        env.reserve()
        result = env.invoke(invocation({}))
        assert json.loads(result.payload)["env"]["AWS_ENDPOINT_URL"] == "http://127.0.0.1:1234"
    finally:
        env.stop()


def test_init_error_fails_start_with_payload(tmp_path):
    code = tmp_path / "code"
    write_bootstrap(code)
    fv = function_version(code, environment={"FAKE_MODE": "init_exit"})
    env = environment(fv)
    with pytest.raises(StatusErrorException) as ei:
        env.start()
    payload = json.loads(ei.value.payload)
    assert payload["errorType"] == "Runtime.ExitError"
    assert env.status == ee.RuntimeStatus.STARTUP_FAILED
    # the output of the failed init stays available (LocalStack logs it on startup errors)
    assert "init: starting" in env.runtime_executor.get_logs()


def test_timeout_then_reinit_on_next_invoke(code_dir):
    fv = function_version(code_dir, timeout=1)
    env = environment(fv)
    env.start()
    try:
        env.reserve()
        first_pid = env.runtime_executor._runtime.pid
        timed_out = env.invoke(invocation({"sleep": 20}))
        env.release()
        assert timed_out.is_error
        assert json.loads(timed_out.payload)["errorType"] == "Sandbox.Timedout"
        assert "Task timed out after 1.00 seconds" in json.loads(timed_out.payload)["errorMessage"]
        assert live_members(first_pid) == []

        env.reserve()
        ok = env.invoke(invocation({"again": True}))
        env.release()
        assert not ok.is_error
        assert json.loads(ok.payload)["pid"] != first_pid
    finally:
        env.stop()


def test_failed_reinit_after_timeout_is_an_invocation_error(code_dir):
    fv = function_version(code_dir, timeout=1, environment={"FAKE_MODE": "exit_on_reinit"})
    env = environment(fv)
    env.start()
    try:
        env.reserve()
        assert env.invoke(invocation({"sleep": 20})).is_error  # timeout kills the process
        env.release()

        env.reserve()
        inv = invocation({})
        result = env.invoke(inv)  # re-init inside this invocation fails
        env.release()
        assert result.is_error
        assert json.loads(result.payload) == {
            "errorType": "Runtime.ExitError",
            "errorMessage": f"RequestId: {inv.request_id} Error: Runtime exited with error: exit status 4",
        }
        assert "init: starting" in result.logs
        assert (
            "INIT_REPORT Phase: init\tStatus: error\tError Type: Runtime.ExitError" in result.logs
        )
    finally:
        env.stop()
