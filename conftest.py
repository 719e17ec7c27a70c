"""根 conftest：用 Sybil 把 docs/ 里的每个 Python 代码块收集成测试。

解析与执行的规则见 devtools/codeblocks.py 和 devtools/sybil_blocks.py，
写作约定见 CONTRIBUTING.md。环境变量 KB_DOCS 可以指向另一个目录
（测试用的坏页面夹具就这样检查）。
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


#: 建站的两个模块排在最前：xdist（--dist loadfile --no-loadscope-reorder，
#: 见 scripts/test.sh）先给每个 worker 一个文件。于是一个 worker 构建网站、
#: 跑静态与主题测试，另一个等同一次构建完成（文件锁，见
#: tests/site/_browser.py）后逐页打开整个站点；构建会同时执行笔记本、用满
#: 两个核，等待并不让 CPU 闲着。其余文件按测试数从多到少（与 xdist 默认的
#: loadscope 重排相同），长的先开始，两边最后一起结束。
_FIRST = ("tests/site/test_built_site.py", "tests/site/test_built_reader.py")


def _file(item) -> str:
    return item.nodeid.split("::", 1)[0]


def pytest_collection_modifyitems(session, config, items):
    sizes: dict[str, int] = {}
    for item in items:
        sizes[_file(item)] = sizes.get(_file(item), 0) + 1

    def key(item):
        f = _file(item)
        if f in _FIRST:
            return (_FIRST.index(f), 0)
        return (len(_FIRST), -sizes[f])

    items.sort(key=key)  # 稳定排序：同一文件里的顺序不变


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    """只在主进程里、worker 启动之前：把以前各进程留下的验证记录合并
    （见 devtools/records.py 的 compact）。"""
    if not hasattr(session.config, "workerinput"):
        from devtools import records

        records.compact()
