"""代码风格：ruff format 与 ruff check 对库、工具、测试、脚本和文章里的代码块
都没有意见。

规则与范围见 devtools/lint.py，配置在 pyproject.toml 的 ``[tool.ruff]``。
"""

from __future__ import annotations

from devtools import lint


def test_ruff_reports_no_problems():
    problems = lint.run()
    listing = "\n".join(map(str, problems))
    assert not problems, (
        f"ruff 发现 {len(problems)} 个风格问题"
        "（修复：ruff format 与 ruff check --fix；文章里的代码块要手改）：\n"
        + listing
    )


def test_block_line_numbers_map_back_to_the_page(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "# 标题\n\n```python\nimport os\nx=1\n```\n\n"
        '```python\n--8<-- "snippets/x.py"\n```\n',
        encoding="utf-8",
    )
    sources = lint.block_sources([page])
    assert len(sources) == 1  # 嵌入块不单独检查
    found = {
        (p.line, p.message.split()[0]) for p in lint.lint_source(sources[0])
    }
    assert (4, "F401") in found  # import os 在页面第 4 行
    assert (5, "格式不符合") in {
        (line, msg[:5]) for line, msg in found
    }  # x=1
