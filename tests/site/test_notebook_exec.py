"""构建时并行执行笔记本（devtools/notebook_exec.py）：结果写进 mkdocs-jupyter
的缓存；坏笔记本让构建失败并指出文件。

用一个只有两个笔记本的临时 MkDocs 项目，挂上本项目的钩子来构建。
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from devtools.paths import ROOT

NOTEBOOK = """# %% [markdown]
# # {title}

# %%
{code}
"""


def _project(tmp_path: Path, notebooks: dict[str, str]) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir(parents=True)
    (docs / "index.md").write_text("# 首页\n", encoding="utf-8")
    for name, code in notebooks.items():
        (docs / name).write_text(
            NOTEBOOK.format(title=name, code=code), encoding="utf-8"
        )
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: t\n"
        "plugins:\n"
        "  - mkdocs-jupyter:\n"
        "      include: ['*.py']\n"
        "      execute: true\n"
        "      allow_errors: false\n"
        f"hooks:\n  - {ROOT / 'devtools' / 'mkdocs_hooks.py'}\n",
        encoding="utf-8",
    )
    return tmp_path


def _build(project: Path, cache: Path) -> subprocess.CompletedProcess:
    # MPLBACKEND=Agg 与 scripts/build.sh 相同：钩子必须把它从内核的环境里去
    # 掉，否则图不会进页面
    env = {
        **os.environ,
        "KB_NOTEBOOK_CACHE": str(cache),
        "NO_MKDOCS_2_WARNING": "1",
        "DEV": "CPU",
        "MPLBACKEND": "Agg",
    }
    mkdocs = [sys.executable, "-m", "mkdocs", "build", "--strict"]
    return subprocess.run(
        [*mkdocs, "--site-dir", str(project / "site")],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_missing_notebooks_run_in_parallel_and_fill_the_cache(tmp_path):
    project = _project(
        tmp_path / "p",
        {
            "a.py": "print('甲' * 3)",
            "b.py": "import matplotlib.pyplot as plt\n"
            "plt.plot([1, 2])\nplt.show()\nprint(6 * 7)",
        },
    )
    cache = tmp_path / "cache"
    proc = _build(project, cache)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "并行执行 2 个笔记本" in proc.stderr
    assert (
        len(list(cache.glob("*/*.json"))) == 2
    )  # 两本都进了（按指纹分目录的）缓存
    assert "甲甲甲" in (project / "site" / "a" / "index.html").read_text(
        encoding="utf-8"
    )
    b_page = (project / "site" / "b" / "index.html").read_text(
        encoding="utf-8"
    )
    assert "42" in b_page
    assert (
        "<img" in b_page and "data:image/png;base64," in b_page
    )  # 图嵌进了页面
    again = _build(project, cache)  # 第二次全部命中缓存：不再执行
    assert again.returncode == 0 and "并行执行" not in again.stderr


def test_a_failing_notebook_fails_the_build_and_names_the_file(tmp_path):
    project = _project(
        tmp_path / "p",
        {"good.py": "x = 1", "bad.py": "raise ValueError('坏笔记本')"},
    )
    proc = _build(project, tmp_path / "cache")
    assert proc.returncode != 0
    assert "bad.py 执行失败" in proc.stderr and "坏笔记本" in proc.stderr
    assert (
        len(list((tmp_path / "cache").glob("*/*.json"))) == 1
    )  # 只有好的那本写进了缓存


def test_notebooks_are_queued_longest_first_with_unknown_ones_first():
    from devtools.notebook_exec import longest_first

    names = ["a.py", "b.py", "new.py", "c.py"]
    order = longest_first(
        names, lambda n: n, {"a.py": 3.0, "b.py": 12.5, "c.py": 7.0}
    )
    assert order == ["new.py", "b.py", "c.py", "a.py"]
