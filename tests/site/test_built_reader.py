"""像读者一样逐页打开构建好的站点：重量、版式、无障碍、截图与离线包。

测试写在 tests/site/_built_reader.py；这里只把它们收集进来。这个模块与
tests/site/test_built_site.py 分在 xdist 的两个 worker 上同时运行，共用一次
构建（tests/site/_browser.py 的文件锁）。
"""

import pytest
from _browser import *  # noqa: F403
from _built_reader import *  # noqa: F403

# 第一个测试的准备阶段包括等另一个 worker 建完站（2 核上约 3 分钟）和逐页遍历
# 一百多页（另一个 worker 同时在跑测试时约 6–8 分钟）：pytest.ini 里 15 分钟的
# 兜底超时对它太紧（超时会直接结束 worker，报告里只剩“node down”）。
pytestmark = pytest.mark.timeout(1800)
