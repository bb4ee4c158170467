"""Runs parliament over the generated policy documents and judges its findings.

parliament prints one JSON finding per line. A finding fails the lint when its severity is
above LOW, unless ACCEPTED names it (file pattern, issue, a phrase of its detail) with the
reason; the README's "Policy linter" list says the same. An accepted entry that no longer
matches anything fails too, so the list cannot go stale. Parameter files (`parameters-*.json`,
Lambda's AddPermission arguments) are not policy documents and are not linted.

    python ci/lint/policies.py PARLIAMENT DIR
"""

import fnmatch
import json
import os
import subprocess
import sys

SEVERITIES = ["INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"]

# (file glob, issue, detail phrase, reason)
ACCEPTED = [
    (
        "trust-*.json",
        "MALFORMED",
        "neither Resource nor NotResource",
        "a trust policy names no Resource by definition (parliament reads it as an identity policy)",
    ),
    (
        "trust-runner-github-oidc.json",
        "UNKNOWN_FEDERATION_SOURCE",
        "oidc-provider/token.actions.githubusercontent.com",
        "GitHub's OIDC provider is the documented federation source of the runner role",
    ),
    (
        "identity-runner.json",
        "RESOURCE_POLICY_PRIVILEGE_ESCALATION",
        "s3:PutBucketPolicy",
        "the deploy writes the stack's bucket policy, so the runner may put it on upl- buckets",
    ),
    (
        "identity-runner.json",
        "RESOURCE_MISMATCH",
        "kms:CreateAlias",
        "alias and key are separate statements on purpose: the key's carries a tag condition an "
        "alias cannot meet; KMS checks CreateAlias/DeleteAlias on both, and both are allowed",
    ),
]


def main(parliament, folder):
    files = sorted(
        f for f in os.listdir(folder) if f.endswith(".json") and not f.startswith("parameters-")
    )
    if not files:
        sys.exit(f"ci/lint/policies: no policy documents in {folder}: nothing was linted")
    lint_dir = os.path.join(folder, "lint")
    os.mkdir(lint_dir)
    for name in files:
        os.link(os.path.join(folder, name), os.path.join(lint_dir, name))
    run = subprocess.run(
        [parliament, "--directory", lint_dir, "--include_policy_extension", ".json", "--json"],
        stdin=subprocess.DEVNULL,
        # parliament imports pkg_resources, which warns of its own deprecation on stderr.
        env={**os.environ, "PYTHONWARNINGS": "ignore::UserWarning"},
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode not in (0, 1) or run.stderr.strip():
        sys.exit(f"ci/lint/policies: parliament failed ({run.returncode}): {run.stderr.strip()}")
    failures, used = [], set()
    for line in run.stdout.splitlines():
        if not line.strip():
            continue
        finding = json.loads(line)
        name = os.path.basename(finding["location"].get("filepath", "?"))
        detail = json.dumps(finding.get("detail"))
        severity = finding["severity"]
        text = f"{severity} {name}: {finding['issue']} {finding['title']} {detail}"
        if SEVERITIES.index(severity) <= SEVERITIES.index("LOW"):
            print(f"  ok (low)  {text[:200]}")
            continue
        accepted = [
            i
            for i, (glob, issue, phrase, _) in enumerate(ACCEPTED)
            if fnmatch.fnmatch(name, glob) and finding["issue"] == issue and phrase in detail
        ]
        if accepted:
            used.update(accepted)
            print(f"  accepted  {text[:200]}\n            because {ACCEPTED[accepted[0]][3]}")
        else:
            failures.append(text)
    stale = [ACCEPTED[i] for i in range(len(ACCEPTED)) if i not in used]
    for glob, issue, phrase, _ in stale:
        failures.append(f"accepted finding no longer raised (remove it): {glob} {issue} {phrase!r}")
    print(f"ci/lint/policies: {len(files)} documents linted, {len(failures)} failure(s)")
    for failure in failures:
        print(f"  FAIL  {failure}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python ci/lint/policies.py PARLIAMENT DIR")
    main(sys.argv[1], sys.argv[2])
