"""构建后的站点测试：公式在构建时渲染。

这个模块不单独收集：
tests/site/test_built_site.py 用 `from _built_math import *`
把这里的测试导入进去，与那里的其他测试共用一次构建和 fixture（site_dir、
server、browser）。
"""

from __future__ import annotations
