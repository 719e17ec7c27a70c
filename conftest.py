"""根 conftest：用 Sybil 把 docs/ 里的每个 Python 代码块收集成测试。

解析与执行的规则见 devtools/codeblocks.py 和 devtools/sybil_blocks.py，
写作约定见 CONTRIBUTING.md。环境变量 KB_DOCS 可以指向另一个目录（测试用的坏页面夹具就这样检查）。
"""

import os
from pathlib import Path

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
