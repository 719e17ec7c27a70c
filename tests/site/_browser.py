"""两个建站后测试模块共用的东西：一次严格构建、本地服务器、Chromium。

tests/site/test_built_site.py（静态检查与各主题的浏览器测试）和
tests/site/test_built_reader.py（逐页打开整个站点的读者测试）在 xdist 的两个
worker 上同时运行，但整个站点只构建一次：先到的 worker 拿到文件锁并构建，
另一个等它建完再用同一个目录（``_shared_build``）。构建本身会同时执行笔记本，
已经用满两个核，所以等待的 worker 并没有让 CPU 闲着。

两个模块都用 ``from _browser import *`` 取得这些 fixture。
"""

from __future__ import annotations

import fcntl
import functools
import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from devtools.paths import ROOT

__all__ = [
    "CHROMIUM",
    "site_dir",
    "server",
    "browser",
    "_SETTLED_JS",
    "_router",
    "_pages",
    "_page_problems",
]

CHROMIUM = os.environ.get("KB_CHROMIUM", "/usr/bin/chromium")


def _build(out: Path) -> tuple[int, str]:
    """严格模式构建整个站点（含执行笔记本）到 ``out``：（返回码, 输出）。"""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "MPLBACKEND": "Agg"}
    mkdocs = [sys.executable, "-m", "mkdocs", "build", "--strict"]
    proc = subprocess.run(
        [*mkdocs, "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return proc.returncode, f"{proc.stdout}\n{proc.stderr[-6000:]}"


def _shared_build(tmp_path_factory) -> Path:
    """本次测试运行的构建目录；xdist 的各 worker 共用一个（文件锁）。

    不用 xdist 时就是这个进程自己的临时目录。结果（成功或失败的输出）写在
    目录旁边，后来的 worker 不再重建，构建失败时两个模块报告同一个错误。
    """
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # 本次运行各 worker 的临时目录的共同上级
    out, done = base / "site", base / "site.result"
    with (base / "site.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # 另一个 worker 在建时就等它
        if not done.exists():
            code, log = _build(out)
            done.write_text(f"{code}\n{log}", encoding="utf-8")
    code, log = done.read_text(encoding="utf-8").split("\n", 1)
    assert code == "0", f"mkdocs build --strict 失败：\n{log}"
    return out


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory) -> Path:
    """严格模式构建的整个站点；任何警告或笔记本报错都让它失败。"""
    return _shared_build(tmp_path_factory)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(site_dir):
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"找不到 Chromium：{CHROMIUM}"
            "（scripts/test.sh 会用 apt 安装 chromium）"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-default-apps",
                "--disable-extensions",
            ],
        )
        yield b
        b.close()


_SETTLED_JS = """() => {
  const all = (s) => Array.from(document.querySelectorAll(s));
  const article = (s) => all(s).filter((e) => !e.closest('.doc')).length;
  const math = all('.arithmatex').length;
  const done = all('.arithmatex .katex, .arithmatex .katex-error').length;
  const code = article('.md-content pre > code');
  const copy = article('.md-content pre .md-code__button');
  return done >= math && copy >= code;
}"""


def _router(server: str, external: list[str]):
    """放行本地请求；记录并拦截其余一切（拦截后页面不会卡在等待外网上）。"""

    def on_route(route, request):
        url = request.url
        if url.startswith(server) or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            external.append(url)
            route.abort()

    return on_route


def _pages(site_dir: Path) -> list[str]:
    pages = []
    for html in sorted(site_dir.rglob("index.html")):
        rel = html.parent.relative_to(site_dir).as_posix()
        pages.append("" if rel == "." else rel + "/")
    return pages


def _page_problems(page, where: str) -> list[str]:
    """一个已经加载好的页面里文章本身的问题：公式都渲染了、没有 KaTeX 错误、
    笔记本里的公式渲染了、代码块都有复制按钮。每页都检查，由
    tests/site/_built_reader.py 的逐页测试（它同时统计页面重量、版式与无障碍，
    只打开每页一次）调用；控制台错误与外部请求也在那里统计。"""
    problems: list[str] = []
    stats = page.evaluate(
        """() => {
          const all = (s) => Array.from(document.querySelectorAll(s));
          // API 参考页（mkdocstrings 的 .doc 块）里的签名和文档字符串
          // 示例不是文章代码块，不要求复制按钮
          const article = (s) =>
            all(s).filter((e) => !e.closest('.doc')).length;
          const copy = '.md-content pre .md-code__button';
          return {
            math: all('.arithmatex').length,
            rendered: all('.arithmatex .katex').length,
            katexErrors:
              all('.katex-error, .katex-error-source').length,
            notebookMathLeft: all('.jp-RenderedMarkdown').filter(
              (el) => /\\$[^$\\s][^$]*\\$/.test(el.innerText)
            ).length,
            code: article('.md-content pre > code'),
            copy: article(copy + '[data-md-type="copy"]'),
          };
        }"""
    )
    if stats["rendered"] != stats["math"]:
        problems.append(
            f"{where}: {stats['math']} 个公式中"
            f"只有 {stats['rendered']} 个被 KaTeX 渲染"
        )
    if stats["katexErrors"]:
        problems.append(f"{where}: {stats['katexErrors']} 个 KaTeX 错误")
    if stats["notebookMathLeft"]:
        problems.append(
            f"{where}: 笔记本里有 {stats['notebookMathLeft']} 个"
            "单元格的公式未渲染"
        )
    if stats["copy"] < stats["code"]:
        problems.append(
            f"{where}: {stats['code']} 个代码块"
            f"只有 {stats['copy']} 个复制按钮"
        )
    return problems
