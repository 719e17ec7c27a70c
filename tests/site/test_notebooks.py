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


# ------------------------------------------------------- 图：SVG、中文、字号

#: 坐标轴标签与标题：写中文（去掉 $…$ 公式后不能只剩英文单词）
_TEXT_CALLS = {"set_xlabel", "set_ylabel", "set_title", "suptitle"}


def _strings(node) -> list[str]:
    """字符串常量或 f-string 里的常量部分。"""
    import ast

    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [
            v.value
            for v in node.values
            if isinstance(v, ast.Constant) and isinstance(v.value, str)
        ]
    return []


def test_figure_labels_and_titles_are_chinese():
    import ast
    import re

    problems = []
    for nb in NOTEBOOKS:
        tree = ast.parse(nb.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else ""
            args = []
            if name in _TEXT_CALLS and node.args:
                args = [node.args[0]]
            if name == "colorbar":
                args = [k.value for k in node.keywords if k.arg == "label"]
            for arg in args:
                text = re.sub(r"\$[^$]*\$", "", "".join(_strings(arg)))
                if re.search(r"[A-Za-z]{2,}", text) and not re.search(
                    r"[\u4e00-\u9fff]", text
                ):
                    problems.append(
                        f"{nb.relative_to(ROOT)}:{node.lineno}: {text!r}"
                    )
    assert not problems, "图里的坐标轴标签、标题请写中文：\n" + "\n".join(
        problems
    )


def test_notebooks_draw_svg_with_a_chinese_font():
    """画图的笔记本：输出 SVG（页面上随主题变色，见
    devtools/notebook_hooks.py），并把中文字体排在 font.sans-serif 的最前面
    （构建机器上是文泉驿微米黑，scripts/bootstrap.sh 安装）。"""
    for nb in NOTEBOOKS:
        text = nb.read_text(encoding="utf-8")
        if "matplotlib" not in text:
            continue
        name = nb.relative_to(ROOT)
        assert '# %config InlineBackend.figure_formats = ["svg"]' in text, (
            f"{name}：第一个代码单元格里要有 %config 输出 SVG"
        )
        assert (
            'plt.rcParams["font.sans-serif"] = [\n    "WenQuanYi Micro Hei"'
            in (text)
        ), f"{name}：要设置中文字体（见其他笔记本的第一个代码单元格）"


def test_notebooks_open_with_a_paragraph_for_readers():
    """开头一段写给读者（这个笔记本演示什么、看图时看什么），不讲文件格式。"""
    import jupytext

    for nb in NOTEBOOKS:
        first = jupytext.read(nb).cells[0]
        assert first.cell_type == "markdown" and first.source.startswith("# ")
        assert "jupytext" not in first.source.lower(), (
            f"{nb.relative_to(ROOT)}：开头不必向读者介绍 jupytext"
        )


# -------------------------------------------- devtools/notebook_hooks.py

_NB_WITH_OUTPUTS = {
    "cells": [
        {
            "cell_type": "markdown",
            "metadata": {},
            "id": "a",
            "source": "# 笔记本：标题\n\n第一行\n第二行。",
        },
        {
            "cell_type": "code",
            "id": "b",
            "execution_count": 1,
            "metadata": {},
            "source": "print(1 < 2)",
            "outputs": [
                {"output_type": "stream", "name": "stdout", "text": "True\n"},
                {"output_type": "stream", "name": "stderr", "text": "注意\n"},
                {
                    "output_type": "display_data",
                    "metadata": {},
                    "data": {
                        "text/plain": "<Figure>",
                        "image/svg+xml": (
                            '<?xml version="1.0"?>\n<svg width="100pt" '
                            'height="50pt" viewBox="0 0 100 50" '
                            'xmlns="http://www.w3.org/2000/svg">'
                            "<metadata>x</metadata><defs>"
                            '<style type="text/css">*{stroke-linecap: butt}'
                            "</style></defs><!-- 损失 -->"
                            '<path style="fill: #ffffff; stroke: #000000"/>'
                            "</svg>"
                        ),
                    },
                },
            ],
        },
        {
            "cell_type": "markdown",
            "id": "c",
            "metadata": {},
            "source": "## 第二节",
        },
    ],
    "metadata": {
        "kernelspec": {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}


def test_hook_rewrites_mkdocs_jupyter_output(tmp_path):
    """用 mkdocs-jupyter 自己的模板渲染一个带输出的小笔记本（不执行），再交给
    钩子：样式、脚本、复制按钮都去掉了，代码与输出是站点的写法，SVG 内联且
    颜色随主题，标题有 id，下载链接在一级标题下。"""
    import json
    from types import SimpleNamespace

    from mkdocs_jupyter import convert

    from devtools import notebook_hooks

    nb = tmp_path / "demo-notebook.ipynb"
    nb.write_text(json.dumps(_NB_WITH_OUTPUTS), encoding="utf-8")
    rendered = convert.nb2html(str(nb), execute=False)
    assert len(rendered) > 100_000  # mkdocs-jupyter 内联的样式
    page = SimpleNamespace(
        file=SimpleNamespace(src_uri="basics/demo-notebook.py"), toc=None
    )
    out = notebook_hooks.slim(rendered, page)
    assert len(out) < 5000, out
    assert "<style" not in out.split("<svg")[0] and "<script" not in out
    assert "clipboard" not in out and "jp-InputPrompt" not in out
    assert (
        '<div class="language-python highlight"><pre><span></span><code>'
        in out
    )
    assert "<code>True</code>" in out
    assert "kb-nb-stderr" in out
    assert "currentColor" in out and "var(--md-default-bg-color)" in out
    assert "#000000" not in out and "<metadata>" not in out
    assert "<?xml" not in out and "stroke-linecap" not in out
    assert 'aria-label="图：损失"' in out
    assert '<h1 id="笔记本标题">' in out and '<h2 id="第二节">' in out
    assert "第一行第二行" in out  # 汉字之间的换行不再显示成空格
    assert out.index("kb-nb-download") > out.index("</h1>")
    assert [(t.id, [c.id for c in t.children]) for t in page.toc] == [
        ("笔记本标题", ["第二节"])
    ]


def test_downloaded_files_link_to_the_site():
    from types import SimpleNamespace

    from devtools import notebook_hooks

    page = SimpleNamespace(
        file=SimpleNamespace(src_uri="basics/x-notebook.py")
    )
    config = {
        "site_url": "https://example.org/kb/",
        "use_directory_urls": True,
    }
    text = (
        "# 见[正文](gradient-descent.md#小节)、[首页](../index.md)、"
        "[外站](https://a.b/c.md)"
    )
    assert notebook_hooks.absolute_links(text, page, config) == (
        "# 见[正文](https://example.org/kb/basics/gradient-descent/#小节)、"
        "[首页](https://example.org/kb/)、[外站](https://a.b/c.md)"
    )


def test_build_fails_loudly_without_the_chinese_font(monkeypatch):
    """构建机器上没有中文字体时，执行笔记本之前就让构建失败（而不是画出满是
    方框的图）。"""
    import pytest
    from mkdocs.exceptions import PluginError

    from devtools import notebook_hooks

    notebook_hooks.check_cjk_font()  # 本机装了文泉驿微米黑
    monkeypatch.setattr(notebook_hooks, "CJK_FONT", "KB No Such Font")
    with pytest.raises(PluginError, match="fonts-wqy-microhei"):
        notebook_hooks.check_cjk_font()
