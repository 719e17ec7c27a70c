"""新文章脚手架：生成的文章原样通过全部检查；导航与术语表条目正确插入。"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from devtools.paths import ROOT


def _copy_repo(dest: Path) -> Path:
    for name in ("conftest.py", "pytest.ini", "mkdocs.yml"):
        shutil.copy2(ROOT / name, dest / name)
    for name in ("devtools", "docs", "snippets"):
        shutil.copytree(
            ROOT / name,
            dest / name,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    (dest / "node_modules").symlink_to(ROOT / "node_modules")
    # 代码块的解释器与内核缓存（沙箱见 devtools/sandbox.py）
    for name in (".venv-blocks", ".cache"):
        if (ROOT / name).exists():
            (dest / name).symlink_to(ROOT / name)
    return dest


def _run(repo: Path, *args: str) -> subprocess.CompletedProcess:
    """在复制出来的仓库里运行 python -m ……。"""
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )


def test_scaffolded_article_passes_every_check(tmp_path):
    repo = _copy_repo(tmp_path)

    def run(*args: str) -> subprocess.CompletedProcess:
        return _run(repo, *args)

    proc = run(
        "devtools.new_article",
        "basics/softmax-demo",
        "--title",
        "Softmax 示例",
        "--section",
        "基础",
        "--term",
        "数值稳定性=numerical stability",
    )
    assert proc.returncode == 0, proc.stderr
    page = repo / "docs" / "basics" / "softmax-demo.md"
    assert (
        page.is_file()
        and (repo / "snippets" / "basics" / "softmax_demo.py").is_file()
    )

    # nav 条目在“基础”栏目里，术语表多了一行
    nav = (repo / "mkdocs.yml").read_text(encoding="utf-8")
    assert "      - Softmax 示例: basics/softmax-demo.md" in nav
    section = nav[nav.index("  - 基础:") :].split("\n  - ")[0]
    assert "basics/softmax-demo.md" in section
    assert "| 数值稳定性 | numerical stability |" in (
        repo / "docs" / "glossary.md"
    ).read_text(encoding="utf-8")

    # 占位文字没换掉之前，检查命令只报告 placeholder（页面、片段、术语表）
    glossary = repo / "docs" / "glossary.md"
    snippet = repo / "snippets" / "basics" / "softmax_demo.py"
    proc = run(
        "devtools.check", "--no-run", "docs/basics/softmax-demo.md",
        "docs/glossary.md",
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    rules = {ln.split(": ")[1] for ln in proc.stdout.splitlines()}
    assert rules == {"placeholder"}, proc.stdout
    where = {ln.split(":")[0] for ln in proc.stdout.splitlines()}
    assert where == {
        "docs/basics/softmax-demo.md",
        "docs/glossary.md",
        "snippets/basics/softmax_demo.py",
    }, proc.stdout

    # 把占位文字换成内容以后，生成的文章（含运行代码块）通过检查命令
    from devtools.new_article import PLACEHOLDERS

    for f in (page, glossary, snippet):
        text = f.read_text(encoding="utf-8")
        for ph in PLACEHOLDERS:
            text = text.replace(ph, "示例文字。")
        f.write_text(text, encoding="utf-8")
    proc = run("devtools.check", "docs/basics/softmax-demo.md")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # 全站静态检查（含“片段有没有被嵌入”）也通过
    proc = run("devtools.doccheck")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_scaffold_refuses_bad_names_and_existing_files(tmp_path):
    repo = _copy_repo(tmp_path)

    def run(*args: str) -> subprocess.CompletedProcess:
        return _run(repo, "devtools.new_article", *args)

    assert (
        run("Basics/Softmax", "--title", "x", "--section", "基础").returncode
        == 2
    )
    assert (
        run(
            "basics/gradient-descent", "--title", "x", "--section", "基础"
        ).returncode
        == 2
    )  # 已存在
    assert (
        run(
            "basics/x",
            "--title",
            "x",
            "--section",
            "基础",
            "--term",
            "无等号",
        ).returncode
        == 2
    )


def test_unknown_section_is_an_error_unless_new_section(tmp_path):
    repo = _copy_repo(tmp_path)

    def run(*args: str) -> subprocess.CompletedProcess:
        return _run(repo, "devtools.new_article", "basics/x", "--title", "X",
                    *args)  # fmt: skip

    proc = run("--section", "基楚")  # 打错了字
    assert proc.returncode == 2
    assert "nav 里没有“基楚”栏目；现有栏目：" in proc.stderr, proc.stderr
    assert "基础" in proc.stderr and "--new-section" in proc.stderr
    assert not (repo / "docs" / "basics" / "x.md").exists()
    proc = run("--section", "新栏目", "--new-section")
    assert proc.returncode == 0, proc.stderr
    assert "  - 新栏目:\n      - X: basics/x.md" in (
        repo / "mkdocs.yml"
    ).read_text(encoding="utf-8")


def test_new_section_is_created(tmp_path):
    from devtools.new_article import add_nav_entry

    yml = (
        "site_name: x\nnav:\n  - 首页: index.md\n"
        "  - 基础:\n      - A: a.md\n\nextra: 1\n"
    )
    out = add_nav_entry(yml, "进阶", "B", "adv/b.md")
    assert yaml.safe_load(out)["nav"] == [
        {"首页": "index.md"},
        {"基础": [{"A": "a.md"}]},
        {"进阶": [{"B": "adv/b.md"}]},
    ]
    out = add_nav_entry(yml, "基础", "C", "basics/c.md")
    assert yaml.safe_load(out)["nav"][1] == {
        "基础": [{"A": "a.md"}, {"C": "basics/c.md"}]
    }
