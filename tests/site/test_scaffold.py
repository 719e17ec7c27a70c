"""新文章脚手架：生成的文章原样通过全部检查；导航与术语表条目正确插入。"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _copy_repo(dest: Path) -> Path:
    for name in ("conftest.py", "pytest.ini", "mkdocs.yml"):
        shutil.copy2(ROOT / name, dest / name)
    for name in ("devtools", "docs", "snippets"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    (dest / "node_modules").symlink_to(ROOT / "node_modules")
    return dest


def test_scaffolded_article_passes_every_check(tmp_path):
    repo = _copy_repo(tmp_path)
    run = lambda *a: subprocess.run([sys.executable, "-m", *a], cwd=repo, capture_output=True, text=True,  # noqa: E731
                                    timeout=300, env={**os.environ, "MPLBACKEND": "Agg"})
    proc = run("devtools.new_article", "basics/softmax-demo", "--title", "Softmax 示例", "--section", "基础",
               "--term", "交叉熵=cross-entropy")
    assert proc.returncode == 0, proc.stderr
    page = repo / "docs" / "basics" / "softmax-demo.md"
    assert page.is_file() and (repo / "snippets" / "basics" / "softmax_demo.py").is_file()

    # nav 条目在“基础”栏目里，术语表多了一行
    nav = (repo / "mkdocs.yml").read_text(encoding="utf-8")
    assert "      - Softmax 示例: basics/softmax-demo.md" in nav
    section = nav[nav.index("  - 基础:"):].split("\n  - ")[0]
    assert "basics/softmax-demo.md" in section
    assert "| 交叉熵 | cross-entropy |" in (repo / "docs" / "glossary.md").read_text(encoding="utf-8")

    # 生成的文章（含运行代码块）通过检查命令
    proc = run("devtools.check", "docs/basics/softmax-demo.md")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # 全站静态检查（含“片段有没有被嵌入”）也通过
    proc = run("devtools.doccheck")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_scaffold_refuses_bad_names_and_existing_files(tmp_path):
    repo = _copy_repo(tmp_path)
    run = lambda *a: subprocess.run([sys.executable, "-m", "devtools.new_article", *a], cwd=repo,  # noqa: E731
                                    capture_output=True, text=True, timeout=60)
    assert run("Basics/Softmax", "--title", "x", "--section", "基础").returncode == 2
    assert run("basics/gradient-descent", "--title", "x", "--section", "基础").returncode == 2  # 已存在
    assert run("basics/x", "--title", "x", "--section", "基础", "--term", "无等号").returncode == 2


def test_new_section_is_created(tmp_path):
    from devtools.new_article import add_nav_entry

    yml = "site_name: x\nnav:\n  - 首页: index.md\n  - 基础:\n      - A: a.md\n\nextra: 1\n"
    out = add_nav_entry(yml, "进阶", "B", "adv/b.md")
    assert yaml.safe_load(out)["nav"] == [{"首页": "index.md"}, {"基础": [{"A": "a.md"}]}, {"进阶": [{"B": "adv/b.md"}]}]
    out = add_nav_entry(yml, "基础", "C", "basics/c.md")
    assert yaml.safe_load(out)["nav"][1] == {"基础": [{"A": "a.md"}, {"C": "basics/c.md"}]}
