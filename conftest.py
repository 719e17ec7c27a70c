"""根 conftest：用 Sybil 把 docs/ 里的每个 Python 代码块收集成测试。

解析与执行的规则见 devtools/codeblocks.py 和 devtools/sybil_blocks.py，
写作约定见 CONTRIBUTING.md。环境变量 KB_DOCS 可以指向另一个目录（测试用的坏页面夹具就这样检查）。
"""

import os
from pathlib import Path

import pytest
from sybil import Sybil

from devtools.sybil_blocks import parse_python_blocks

_DOCS = Path(os.environ.get("KB_DOCS", "docs"))
if not _DOCS.is_absolute():
    _DOCS = Path(__file__).resolve().parent / _DOCS

pytest_collect_file = Sybil(
    parsers=[parse_python_blocks],
    patterns=["*.md"],
    path=str(_DOCS),
).pytest()


#: 最长的测试文件排在最前：xdist 按文件分给两个 worker，最长的一份先开始，另一个 worker 同时做完其余的，
#: 总时间才不会被一个最后才开始的长文件拖住（它要构建整个网站并执行笔记本，再用 Chromium 打开每一页）。
_LONGEST_FIRST = ("tests/site/test_built_site.py",)


def pytest_collection_modifyitems(session, config, items):
    items.sort(key=lambda item: 0 if item.nodeid.startswith(_LONGEST_FIRST) else 1)  # 稳定排序：其余顺序不变


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    """只在主进程里、worker 启动之前：把以前各进程留下的验证记录合并（见 devtools/records.py 的 compact）。"""
    if not hasattr(session.config, "workerinput"):
        from devtools import records

        records.compact()
