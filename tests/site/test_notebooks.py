"""笔记本页面（docs/ 下的 jupytext .py 文件）。

笔记本由构建网站时的 mkdocs-jupyter 执行（``allow_errors: false``：任何一个单
元格报错，构建就失败，错误信息里有出错单元格的代码和 traceback），这由
test_built_site.py 的严格构建覆盖，并检查每个笔记本页面都带着自己运行出来的
图。这里不再单独运行一遍（以前每次测试都把 8 个笔记本执行两遍）。

想单独运行某个笔记本、得到指向 docs/…/xxx.py 行号的 traceback：
``scripts/check.sh docs/…/xxx.py``。

笔记本的执行结果缓存在 ``.cache/mkdocs-jupyter/<指纹>/``，指纹取自 tinymodels
的全部文件、pyproject.toml、依赖版本和后端（devtools/mkdocs_hooks.py）；这里检
查 tinymodels 一改，指纹就变。
"""

from __future__ import annotations

import shutil
from pathlib import Path

from devtools import mkdocs_hooks
from devtools.paths import ROOT

NOTEBOOKS = sorted((ROOT / "docs").rglob("*.py"))


def test_there_is_at_least_one_notebook():
    assert NOTEBOOKS


def test_notebooks_are_jupytext_percent_format():
    for nb in NOTEBOOKS:
        head = nb.read_text(encoding="utf-8")[:400]
        assert "format_name: percent" in head, (
            f"{nb.relative_to(ROOT)} 不是 jupytext 的 percent 格式"
        )


def test_notebook_cache_key_changes_with_tinymodels_and_backend(
    tmp_path, monkeypatch
):
    shutil.copytree(
        ROOT / "tinymodels",
        tmp_path / "tinymodels",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    monkeypatch.setattr(mkdocs_hooks, "ROOT", tmp_path)
    monkeypatch.setenv("DEV", "CPU")
    before = mkdocs_hooks.library_fingerprint()
    assert (
        mkdocs_hooks.library_fingerprint() == before
    )  # 同样的输入，同样的指纹
    losses = tmp_path / "tinymodels" / "losses.py"
    losses.write_text(
        losses.read_text(encoding="utf-8") + "\n# 改动\n", encoding="utf-8"
    )
    changed = mkdocs_hooks.library_fingerprint()
    assert changed != before, "tinymodels 改了，笔记本缓存却还会命中"
    monkeypatch.setenv("DEV", "CL")
    assert mkdocs_hooks.library_fingerprint() != changed, (
        "换了后端，笔记本缓存却还会命中"
    )


def test_build_points_mkdocs_jupyter_at_the_fingerprinted_cache(
    tmp_path, monkeypatch
):
    from mkdocs.config import load_config

    monkeypatch.setattr(mkdocs_hooks, "NOTEBOOK_CACHE", tmp_path)
    config = load_config(str(ROOT / "mkdocs.yml"))
    mkdocs_hooks.on_config(config)
    got = Path(config.plugins["mkdocs-jupyter"].config["cache_dir"])
    assert got == tmp_path / mkdocs_hooks.library_fingerprint()
