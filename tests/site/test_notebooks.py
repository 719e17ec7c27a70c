"""笔记本页面（docs/ 下的 jupytext .py 文件）作为普通 Python 脚本运行，必须成功。

构建网站时 mkdocs-jupyter 也会执行它们（allow_errors: false），但它的缓存只看笔记本内容；
这里每次都真正运行一遍，报错时 traceback 直接指向 docs/…/xxx.py 的行号。
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "docs").rglob("*.py"))


def test_there_is_at_least_one_notebook():
    assert NOTEBOOKS


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_runs(notebook: Path, tmp_path: Path):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, str(notebook)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, f"{notebook.relative_to(ROOT)} 运行失败：\n{proc.stderr[-4000:]}"


def test_notebooks_are_jupytext_percent_format():
    for nb in NOTEBOOKS:
        head = nb.read_text(encoding="utf-8")[:400]
        assert "format_name: percent" in head, f"{nb.relative_to(ROOT)} 不是 jupytext percent 格式的笔记本"
