"""LocalRuntime with real child processes and the real Runtime API server on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest
from conftest import live_members, pid_alive, wait_until
from harness_lambda_executor.runtime_api import InitError, LocalRuntime

ARN = "arn:aws:lambda:eu-west-1:000000000000:function:fake"


def make_runtime(code_dir: Path, timeout_s: float = 5, **env) -> LocalRuntime:
    return LocalRuntime(
        name="test-" + uuid.uuid4().hex[:8],
        bootstrap=code_dir / "bootstrap",
        cwd=code_dir,
        env={"PATH": os.environ["PATH"], **env},
        timeout_s=timeout_s,
        memory_mb=256,
    )


@pytest.fixture
def runtimes():
    made: list[LocalRuntime] = []
    yield made
    for rt in made:
        rt.close(grace_s=0.2)


def invoke(rt: LocalRuntime, event: dict, request_id: str | None = None):
    return rt.invoke(
        request_id=request_id or str(uuid.uuid4()),
        payload=json.dumps(event).encode(),
        function_arn=ARN,
        trace_id="Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0",
    )


def test_normal_response_headers_env_and_cwd(code_dir, runtimes):
    rt = make_runtime(code_dir, timeout_s=7, MY_VAR="x")
    runtimes.append(rt)
    rt.launch(init_deadline_s=10)
    assert rt.alive and rt.pid and rt.pgid == rt.pid
    assert os.getpgid(rt.pid) == rt.pid != os.getpgid(0)  # own process group

    before_ms = time.time() * 1000
    out = invoke(rt, {"hello": "world"}, request_id="req-1")
    assert out.status == "success" and not out.is_error
    doc = json.loads(out.payload)
    assert doc["event"] == {"hello": "world"}
    h = doc["headers"]
    assert h["Lambda-Runtime-Aws-Request-Id"] == "req-1"
    assert h["Lambda-Runtime-Invoked-Function-Arn"] == ARN
    assert h["Lambda-Runtime-Trace-Id"].startswith("Root=1-")
    assert before_ms + 6000 < int(h["Lambda-Runtime-Deadline-Ms"]) < before_ms + 8000
    assert doc["env"]["AWS_LAMBDA_RUNTIME_API"] == f"127.0.0.1:{rt.port}"
    assert doc["env"]["MY_VAR"] == "x"
    assert Path(doc["cwd"]) == code_dir

    # the same process serves the next invocation (warm environment)
    out2 = invoke(rt, {"n": 2})
    assert json.loads(out2.payload)["pid"] == doc["pid"]


def test_chunked_response_and_invalid_request_id(code_dir, runtimes):
    rt = make_runtime(code_dir)
    runtimes.append(rt)
    rt.launch(10)
    out = invoke(rt, {"chunked": True, "bad_id": True, "pad": "y" * 100})
    assert out.status == "success"
    doc = json.loads(out.payload)
    assert doc["event"]["pad"] == "y" * 100
    assert doc["bad_id_status"] == 400


def test_function_error(code_dir, runtimes):
    rt = make_runtime(code_dir)
    runtimes.append(rt)
    rt.launch(10)
    out = invoke(rt, {"fail": True})
    assert out.is_error and out.status == "error"
    assert json.loads(out.payload) == {"errorType": "Fake.Error", "errorMessage": "boom"}
    # a function error does not kill the environment
    assert rt.alive
    assert not invoke(rt, {}).is_error


def test_response_too_large(code_dir, runtimes):
    rt = make_runtime(code_dir)
    rt.max_response_bytes = 1000
    runtimes.append(rt)
    rt.launch(10)
    out = invoke(rt, {"big": 5000})
    assert out.is_error
    assert json.loads(out.payload)["errorType"] == "Function.ResponseSizeTooLarge"
    assert "big response status 413" in rt.get_logs() or wait_until(
        lambda: "big response status 413" in rt.get_logs(), 2
    )


def test_init_error_posted(code_dir, runtimes):
    rt = make_runtime(code_dir, FAKE_MODE="init_error")
    runtimes.append(rt)
    with pytest.raises(InitError) as ei:
        rt.launch(10)
    assert ei.value.payload == {"errorType": "Fake.InitBroken", "errorMessage": "cannot init"}
    assert "init: starting" in ei.value.logs
    assert not rt.alive and not live_members(rt.pgid)


def test_init_exit(code_dir, runtimes):
    rt = make_runtime(code_dir, FAKE_MODE="init_exit")
    runtimes.append(rt)
    with pytest.raises(InitError) as ei:
        rt.launch(10)
    assert ei.value.payload["errorType"] == "Runtime.ExitError"
    assert ei.value.payload["errorMessage"].endswith("Runtime exited with error: exit status 3")


def test_init_deadline(code_dir, runtimes):
    rt = make_runtime(code_dir, FAKE_MODE="init_hang")
    runtimes.append(rt)
    t0 = time.monotonic()
    with pytest.raises(InitError) as ei:
        rt.launch(init_deadline_s=1.0)
    assert time.monotonic() - t0 < 3
    assert ei.value.payload["errorType"] == "Sandbox.Timedout"
    assert not live_members(rt.pgid)


def test_missing_bootstrap(tmp_path, runtimes):
    rt = make_runtime(tmp_path)
    runtimes.append(rt)
    with pytest.raises(InitError) as ei:
        rt.launch(5)
    assert ei.value.payload["errorType"] == "Runtime.InvalidEntrypoint"


def test_timeout_kills_group_and_next_invoke_reinitialises(code_dir, runtimes):
    rt = make_runtime(code_dir, timeout_s=1, FAKE_MODE="grandchild")
    runtimes.append(rt)
    rt.launch(10)
    pgid = rt.pgid
    assert wait_until(lambda: len(live_members(pgid)) == 2)  # bootstrap + grandchild

    t0 = time.monotonic()
    out = invoke(rt, {"sleep": 30}, request_id="slow-1")
    elapsed = time.monotonic() - t0
    assert 0.9 < elapsed < 3
    assert out.is_error and out.status == "timeout"
    assert json.loads(out.payload) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": "RequestId: slow-1 Error: Task timed out after 1.00 seconds",
    }
    assert "slow-1 Task timed out after 1.00 seconds" in out.logs
    assert "Status: timeout" in out.logs
    assert live_members(pgid) == []  # whole group gone, grandchild included
    assert not rt.alive

    rt.launch(10)  # what the executor does on the next invoke
    assert rt.pgid != pgid
    assert json.loads(invoke(rt, {"ok": 1}).payload)["event"] == {"ok": 1}


def test_crash_during_invoke(code_dir, runtimes):
    rt = make_runtime(code_dir)
    runtimes.append(rt)
    rt.launch(10)
    out = invoke(rt, {"exit": 7}, request_id="crash-1")
    assert out.is_error and out.status == "exit"
    assert json.loads(out.payload) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": "RequestId: crash-1 Error: Runtime exited with error: exit status 7",
    }
    assert not rt.alive


def test_logs_captured_per_invocation(code_dir, runtimes):
    rt = make_runtime(code_dir)
    runtimes.append(rt)
    rt.launch(10)
    first = invoke(rt, {}, request_id="log-1").logs
    lines = first.splitlines()
    # init output, then START ... END, REPORT (CloudWatch order)
    assert lines.index("init: starting") < lines.index("START RequestId: log-1 Version: $LATEST")
    assert "init: to stderr" in lines
    assert lines.index("handling log-1") < lines.index("END RequestId: log-1")
    assert lines[-1].startswith("REPORT RequestId: log-1\tDuration: ")
    assert "\tMemory Size: 256 MB" in lines[-1] and "Init Duration:" in lines[-1]

    second = invoke(rt, {}, request_id="log-2").logs
    assert "init: starting" not in second and "handling log-1" not in second
    assert "handling log-2" in second and "Init Duration" not in second
    everything = rt.get_logs()
    assert "init: starting" in everything and "handling log-2" in everything


def test_close_kills_whole_group_and_server(code_dir, runtimes):
    rt = make_runtime(code_dir, FAKE_MODE="grandchild")
    runtimes.append(rt)
    rt.launch(10)
    pid, pgid, port = rt.pid, rt.pgid, rt.port
    assert wait_until(lambda: len(live_members(pgid)) == 2)
    t0 = time.monotonic()
    rt.close(grace_s=1.0)
    assert time.monotonic() - t0 < 2.5
    assert not pid_alive(pid)
    assert live_members(pgid) == []
    import socket

    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    rt.close()  # idempotent


def test_close_during_launch_returns_promptly(code_dir, runtimes):
    rt = make_runtime(code_dir, FAKE_MODE="init_hang")
    runtimes.append(rt)
    threading.Timer(0.5, rt.close, kwargs={"grace_s": 0.2}).start()
    t0 = time.monotonic()
    with pytest.raises(InitError):
        rt.launch(30)
    assert time.monotonic() - t0 < 3
    assert live_members(rt.pgid) == []


def test_child_dies_when_parent_is_sigkilled(code_dir, tmp_path):
    """PR_SET_PDEATHSIG: nothing outlives a SIGKILLed LocalStack."""
    script = tmp_path / "parent.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys, time
            sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
            from harness_lambda_executor.runtime_api import LocalRuntime
            import threading
            rt = LocalRuntime("p", {str(code_dir / "bootstrap")!r}, {str(code_dir)!r}, {{}}, 5)
            # launch from a short-lived thread, as LocalStack does from its pools
            t = threading.Thread(target=rt.launch, args=(10,)); t.start(); t.join()
            print(rt.pid, flush=True)
            time.sleep(600)
            """
        )
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        child_pid = int(parent.stdout.readline())
        time.sleep(0.3)
        assert pid_alive(child_pid)  # the spawning thread ended; the child must still live
        parent.kill()
        parent.wait()
        assert wait_until(lambda: not pid_alive(child_pid), 3)
    finally:
        parent.kill()
