"""检查发现的一个问题：报告成一行 ``文件:行号: 规则: 说明``。

文档检查（devtools/doccheck.py 及其规则模块）、检查命令（devtools/check.py）
和代码风格检查（devtools/lint.py）共用它。只依赖标准库，规则模块可以在
顶层导入，不必为了绕开循环导入而延迟导入 doccheck。
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}: {self.message}"


def pages_from_args(argv: list[str], default) -> list[Path] | None:
    """命令行给的页面（绝对路径）；没给时用 ``default()``。路径不存在时报错并
    返回 None。"""
    pages = [Path(p).resolve() for p in argv] if argv else default()
    missing = [str(p) for p in pages if not p.is_file()]
    if missing:
        print(f"路径不存在：{', '.join(missing)}", file=sys.stderr)
        return None
    return pages


def report(problems, summary: str | None = None) -> int:
    """每个问题打印一行，再在标准错误上打印小结；返回退出码（有问题为 1）。"""
    problems = sorted(set(problems))
    for p in problems:
        print(p)
    if summary is None:
        summary = f"{len(problems)} 个问题" if problems else "没有发现问题"
    print(summary, file=sys.stderr)
    return 1 if problems else 0
