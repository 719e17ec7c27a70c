"""Sybil 解析器与执行器：把 docs/ 里每个 Python 代码块变成一个 pytest 测试项。

与 Sybil 自带的 PythonCodeBlockParser 不同：

- 认得 ```py、带属性或标题的代码块（自带解析器只认恰好写成 ```python 的）；
- 每个代码块在全新的命名空间里运行（自带的是整页共用一个命名空间）；
- ``--8<--`` 嵌入块按被嵌入文件的真实路径运行，出错时 traceback 指向 ``snippets/x.py:行号``；
- 跳过必须写理由，并显示为 SKIPPED；
- 每个代码块有时间上限，超时报告代码块的位置，而不是让 CI 卡住。
"""

from __future__ import annotations

import os
import signal
import tempfile
import time
from pathlib import Path

import pytest
from sybil import Region

from devtools.codeblocks import CodeBlock, iter_code_blocks

ROOT = Path(__file__).resolve().parent.parent
#: 单个代码块的时间上限（秒），可用环境变量 KB_BLOCK_TIMEOUT 调整。
BLOCK_TIMEOUT = float(os.environ.get("KB_BLOCK_TIMEOUT", "120"))


class BlockTimeout(Exception):
    """代码块运行超过时间上限。"""


class DocBlockError(Exception):
    """代码块本身写法有误（例如续写标记前面没有代码块、嵌入了不存在的文件）。"""


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


class _Timer:
    """用 SIGALRM 给代码块计时；超时时在代码块内部抛出 BlockTimeout。"""

    def __init__(self, seconds: float, where: str):
        self.seconds, self.where = seconds, where
        self.usable = hasattr(signal, "setitimer") and seconds > 0

    def _fire(self, signum, frame):
        raise BlockTimeout(f"{self.where}: 代码块运行超过 {self.seconds:g} 秒的上限（KB_BLOCK_TIMEOUT）")

    def __enter__(self):
        if self.usable:
            self._old = signal.signal(signal.SIGALRM, self._fire)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc):
        if self.usable:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._old)
        return False


class NetworkAccessError(RuntimeError):
    """代码块试图访问网络。"""


class _NoNetwork:
    """代码块运行期间禁止连接本机以外的地址：本站的代码不能依赖网络（数据随包附带或由代码生成）。"""

    def __init__(self, where: str):
        self.where = where

    def __enter__(self):
        import socket

        self._connect, self._connect_ex = socket.socket.connect, socket.socket.connect_ex
        where = self.where

        def guard(original):
            def connect(sock, address, *args):
                host = address[0] if isinstance(address, tuple) else address
                if sock.family in (socket.AF_INET, socket.AF_INET6) and host not in ("127.0.0.1", "::1", "localhost"):
                    raise NetworkAccessError(f"{where}: 代码块试图访问网络（{address}）；本站代码不能联网")
                return original(sock, address, *args)

            return connect

        socket.socket.connect = guard(self._connect)
        socket.socket.connect_ex = guard(self._connect_ex)
        return self

    def __exit__(self, *exc):
        import socket

        socket.socket.connect, socket.socket.connect_ex = self._connect, self._connect_ex
        return False


def _run_source(source: str, filename: str, namespace: dict) -> None:
    __tracebackhide__ = True  # pytest 的 traceback 只显示文档/片段里的行
    code = compile(source, filename, "exec", dont_inherit=True)
    exec(code, namespace)  # noqa: S102 - 运行文档里的代码正是这个测试的目的


class BlockEvaluator:
    """执行一个代码块。作为 Sybil Region 的 evaluator。"""

    def __init__(self, block: CodeBlock, index: int, previous: int | None):
        self.block, self.index, self.previous = block, index, previous

    def __repr__(self) -> str:
        return f"<代码块 {_rel(self.block.path)}:{self.block.line}>"

    def __call__(self, example) -> None:
        __tracebackhide__ = True
        block = self.block
        where = f"{_rel(block.path)}:{block.line}"
        self._started = time.perf_counter()
        if block.skip_reason is not None:
            if not block.skip_reason:
                raise DocBlockError(f"{where}: skip 注释必须写明理由：<!-- skip: next \"理由\" -->")
            _record(block, "skipped", 0.0, block.skip_reason)
            pytest.skip(f"{where}: {block.skip_reason}")

        try:
            self._execute(example, where)
        except BaseException as err:
            _record(block, "failed", time.perf_counter() - self._started, f"{type(err).__name__}: {err}")
            raise
        else:
            _record(block, "passed", time.perf_counter() - self._started, "")

    def _execute(self, example, where: str) -> None:
        __tracebackhide__ = True
        block = self.block
        store = example.document.namespace.setdefault("__kb_blocks__", {})
        if block.continues_previous:
            if self.previous is None or self.previous not in store:
                raise DocBlockError(f"{where}: 代码块以“# 接上一段代码”开头，但前面没有成功运行的 Python 代码块")
            namespace = store[self.previous]
        else:
            namespace = {"__name__": "__main__"}

        # 在临时目录里运行：代码块写出的文件（检查点、图片）不会弄脏仓库。
        old_cwd = os.getcwd()
        with tempfile.TemporaryDirectory(prefix="kb-block-") as tmp:
            os.chdir(tmp)
            try:
                with _Timer(BLOCK_TIMEOUT, where), _NoNetwork(where):
                    if block.is_include_block:
                        for inc in block.includes:
                            self._run_include(inc, where, namespace)
                    elif block.includes:
                        raise DocBlockError(
                            f"{where}: 代码块里混用了 --8<-- 嵌入和普通代码；"
                            "请把代码都放进片段文件，或拆成两个代码块"
                        )
                    else:
                        # 在代码前补空行，使 traceback 中的行号就是 Markdown 文件里的行号。
                        source = "\n" * block.line + block.code
                        _run_source(source, str(block.path), namespace)
            finally:
                os.chdir(old_cwd)
        store[self.index] = namespace

    def _run_include(self, inc, where: str, namespace: dict) -> None:
        __tracebackhide__ = True
        if not inc.whole_file:
            raise DocBlockError(
                f"{where}: 嵌入 {inc.spec!r} 只取了文件的一部分，无法单独运行；"
                "请嵌入整个文件，或给代码块加上 <!-- skip: next \"理由\" -->"
            )
        path = ROOT / inc.path
        if not path.is_file():
            raise DocBlockError(f"{_rel(self.block.path)}:{inc.line}: 嵌入的文件不存在：{inc.path}")
        namespace.setdefault("__file__", str(path))
        _run_source(path.read_text(encoding="utf-8"), str(path), namespace)


def _record(block: CodeBlock, result: str, duration: float, reason: str) -> None:
    """把结果写进验证记录（只记录真正的 docs/ 页面；KB_RECORD=0 时不记录）。"""
    if os.environ.get("KB_RECORD", "1") == "0":
        return
    docs = ROOT / "docs"
    path = Path(block.path).resolve()
    if not path.is_relative_to(docs):
        return
    from devtools import records

    page = _rel(path)
    records.write({
        "id": records.block_id(page, block.executed_source(ROOT)),
        "page": page, "line": block.line, "result": result, "reason": reason[:300],
        "duration": round(duration, 3), "backend": records.current_backend(), **records.versions(),
    })


def parse_python_blocks(document):
    """Sybil 解析器：为文档中每个 Python 代码块产出一个 Region。"""
    previous = None
    for index, block in enumerate(iter_code_blocks(document.text, document.path)):
        if not block.is_python:
            continue
        yield Region(block.start, block.end, parsed=block, evaluator=BlockEvaluator(block, index, previous))
        previous = index
