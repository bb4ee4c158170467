"""Fixtures: fake `bootstrap` programs (Python scripts run by this interpreter) in tmp dirs."""

from __future__ import annotations

import os
import stat
import sys
import tempfile
import time
from pathlib import Path

import pytest

# Test the source tree, not a copy that may be installed in the venv.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# plux (LocalStack's plugin loader) caches entry points under $XDG_CACHE_HOME/plux; keep the
# user's cache dir untouched.
_CACHE = tempfile.TemporaryDirectory(prefix="executor-tests-cache-")
os.environ["XDG_CACHE_HOME"] = _CACHE.name
# This machine has /.dockerenv, so LocalStack's config would assume it runs inside its own
# container (container paths under /var/lib/localstack, Docker bridge probing). Force host mode
# and a private filesystem root before anything imports localstack.
os.environ["OVERRIDE_IN_DOCKER"] = "0"
os.environ["FILESYSTEM_ROOT"] = os.path.join(_CACHE.name, "fs")

# A tiny custom runtime speaking the Lambda Runtime API. Behaviour is picked by FAKE_MODE (init
# phase) and by the JSON event (invoke phase).
FAKE_BOOTSTRAP = r"""
import http.client, json, os, subprocess, sys, time

api = os.environ["AWS_LAMBDA_RUNTIME_API"]
host, port = api.rsplit(":", 1)
mode = os.environ.get("FAKE_MODE", "")

def call(method, path, body=None, headers=None, chunked=False):
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    if chunked:
        conn.putrequest(method, path)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        for i in range(0, len(body), 7):
            piece = body[i:i + 7]
            conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        conn.send(b"0\r\n\r\n")
    else:
        conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    return resp.status, dict(resp.getheaders()), data

print("init: starting", flush=True)
print("init: to stderr", file=sys.stderr, flush=True)
if mode == "init_error":
    call("POST", "/2018-06-01/runtime/init/error",
         json.dumps({"errorType": "Fake.InitBroken", "errorMessage": "cannot init"}).encode(),
         {"Lambda-Runtime-Function-Error-Type": "Fake.InitBroken"})
    sys.exit(1)
if mode == "init_exit":
    sys.exit(3)
if mode == "exit_on_reinit":
    marker = os.path.join(os.environ["TMPDIR"], "initialised-once")
    if os.path.exists(marker):
        sys.exit(4)
    open(marker, "w").close()
if mode == "init_hang":
    time.sleep(600)
if mode == "grandchild":
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    print(f"grandchild pid {child.pid}", flush=True)

while True:
    status, headers, body = call("GET", "/2018-06-01/runtime/invocation/next")
    if status != 200:
        sys.exit(0)
    rid = headers["Lambda-Runtime-Aws-Request-Id"]
    event = json.loads(body or b"{}")
    print(f"handling {rid}", flush=True)
    base = f"/2018-06-01/runtime/invocation/{rid}"
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("exit") is not None:
        os._exit(event["exit"])
    if event.get("fail"):
        call("POST", base + "/error",
             json.dumps({"errorType": "Fake.Error", "errorMessage": "boom"}).encode(),
             {"Lambda-Runtime-Function-Error-Type": "Fake.Error"})
        continue
    extra = {}
    if event.get("bad_id"):
        extra["bad_id_status"] = call("POST", "/2018-06-01/runtime/invocation/nope/response", b"{}")[0]
    if event.get("big"):
        status, _, _ = call("POST", base + "/response", b"x" * event["big"])
        print(f"big response status {status}", flush=True)
        continue
    result = {
        "event": event,
        "headers": {k: v for k, v in headers.items() if k.startswith("Lambda-Runtime")},
        "env": {k: v for k, v in os.environ.items()},
        "cwd": os.getcwd(),
        "pid": os.getpid(),
        **extra,
    }
    status, _, _ = call("POST", base + "/response", json.dumps(result).encode(),
                        {"Content-Type": "application/json"}, chunked=bool(event.get("chunked")))
    print(f"done {rid} status {status}", flush=True)
"""


def write_bootstrap(code_dir: Path, source: str = FAKE_BOOTSTRAP) -> Path:
    code_dir.mkdir(parents=True, exist_ok=True)
    path = code_dir / "bootstrap"
    path.write_text(f"#!{sys.executable}\n{source}")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    d = tmp_path / "code"
    write_bootstrap(d)
    return d


def live_members(pgid: int) -> list[int]:
    """PIDs in process group ``pgid`` that are not zombies (read from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat_line = f.read()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...; comm may contain spaces/parens
        fields = stat_line.rsplit(")", 1)[1].split()
        state, pgrp = fields[0], int(fields[2])
        if pgrp == pgid and state != "Z":
            found.append(int(entry))
    return found


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_until(predicate, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
