"""像读者一样逐页打开构建好的站点：重量、版式、无障碍、截图与离线包。

测试写在 tests/site/_built_reader.py；这里只把它们收集进来。这个模块与
tests/site/test_built_site.py 分在 xdist 的两个 worker 上同时运行，共用一次
构建（tests/site/_browser.py 的文件锁）。
"""

from _browser import *  # noqa: F403
from _built_reader import *  # noqa: F403
