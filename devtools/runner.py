"""运行代码块的唯一入口：每个代码块在沙箱里的全新 Python 进程中运行，返回结
构化的结果。

测试（devtools/sybil_blocks.py）、检查命令（devtools/check.py）和计时脚本
（devtools/blocktime.py）都经过这里，所以“代码块怎样运行”只有一个答案：

- 一个全新的进程（devtools/block_child.py），解释器是只装了 tinymodels 及其
  运行时依赖的 ``.venv-blocks``（就像读者把代码复制进一个只装了 tinymodels 的
  新 Python）；笔记本页面仍用文档环境的解释器（它们要用 matplotlib）；
- 进程在 bubblewrap 沙箱里（devtools/sandbox.py）：系统与仓库只读，工作目录
  是大小有限的私有 tmpfs，没有网络，内存与时间有上限；沙箱不能启动时抛出
  ``sandbox.SandboxUnavailable``，绝不退回到不加沙箱运行；
- 环境按项目约定：``DEV`` 默认 ``CPU``、内核缓存 ``.cache/tinygrad-blocks/``
  （``cold_cache=True`` 时用沙箱里空的临时缓存）、``MPLBACKEND=Agg``；
- 时间上限 ``KB_BLOCK_TIMEOUT``（默认 120 秒），超时报告卡住的那一行；
- 越出沙箱（写只读文件、联网、超过内存、磁盘或时间上限）的失败带有
  ``BlockResult.limit``，报告成一行 ``sandbox`` 问题；
- 捕获标准输出和标准错误（``BlockResult.stdout`` / ``stderr``）。

启动子进程的代码只有 ``run_units`` 一处，命令行由 ``_command`` 给出。
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from devtools import sandbox
from devtools.codeblocks import CodeBlock, iter_code_blocks
from devtools.paths import ROOT, rel

CHILD = Path(__file__).resolve().parent / "block_child.py"
#: 项目的 tinygrad 内核缓存（与 scripts/test.sh、scripts/check.sh 一致）；
#: 沙箱里的代码块用的是它的副本 sandbox.BLOCKS_CACHE
PROJECT_CACHEDB = ROOT / ".cache" / "tinygrad" / "cache.db"
#: 子进程写回结果的上限（字节）
RESULT_LIMIT = 16 * 1024 * 1024
#: 代码块的标准输出、标准错误各留最后这么多字节
OUTPUT_LIMIT = 4 * 1024 * 1024
#: 子进程自己的计时器没能打断代码（卡在 C 代码里）时，再等这么多秒就强行结束
KILL_GRACE = 10.0


class DocBlockError(Exception):
    """代码块本身写法有误（续写标记前没有代码块、嵌入了不存在的文件等），没有运行。"""


def block_timeout() -> float:
    """单个代码块的时间上限（秒）：环境变量 KB_BLOCK_TIMEOUT，默认 120。"""
    return float(os.environ.get("KB_BLOCK_TIMEOUT", "120"))


@dataclass(frozen=True)
class Unit:
    """一段源码；一个代码块的程序是依次在同一命名空间里执行的几段。"""

    filename: str  # traceback 里的文件：页面或片段的绝对路径
    source: str
    first_line: int = 1  # source 第一行在 filename 里的行号
    is_file: bool = False  # 整个文件（嵌入的片段、笔记本）：设置 __file__


@dataclass(frozen=True)
class Frame:
    """traceback 的一帧。"""

    path: str  # 相对仓库根目录（仓库外的文件是绝对路径）
    line: int
    name: str
    text: str


@dataclass
class BlockResult:
    """一个代码块的运行结果。"""

    path: str  # 代码块所在的页面（笔记本、片段）
    line: int  # 代码块开头围栏的行号
    outcome: str  # passed / failed / skipped / invalid（写法错误，没有运行）
    message: str = ""  # 失败：异常（``AssertionError: ...``）；跳过：理由
    seconds: float = 0.0  # 子进程从启动到结束的秒数（冷启动时间）
    frames: list[Frame] = field(default_factory=list)  # 失败时的 traceback
    stdout: str = ""
    stderr: str = ""
    returncode: int | None = None
    timed_out: bool = False
    #: 越出了沙箱：write / disk / memory / network / time；否则 None
    limit: str | None = None
    device: str = "CPU"  # 运行时的 DEV
    units: list[Unit] = field(default_factory=list)  # 运行了的源码

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def ok(self) -> bool:
        return self.outcome == "passed"

    @property
    def summary(self) -> str:
        """一行说明：越出沙箱的说明、异常的第一行，或跳过的理由。"""
        if self.limit:
            return limit_message(self.limit, self.message)
        return (
            self.message.strip().splitlines()[0]
            if self.message.strip()
            else ""
        )

    @property
    def rule(self) -> str:
        """检查命令报告失败时用的规则名。"""
        return "sandbox" if self.limit else "code-failed"

    def location(self, prefixes: tuple[str, ...]) -> tuple[str, int]:
        """出错位置：traceback 里最后一个路径以 prefixes 开头的帧；没有就是代
        码块本身。"""
        for f in reversed(self.frames):
            if f.path.startswith(prefixes):
                return f.path, f.line
        return self.path, self.line

    def failure(
        self, prefixes: tuple[str, ...] = ()
    ) -> tuple[str, int, str, str]:
        """失败的 (文件, 行号, 规则, 说明)，与检查命令的报告一致。"""
        fpath, fline = self.location(prefixes or (self.path, "snippets/"))
        # 出错的行在别的文件（嵌入的片段）里时，再写上代码块在哪：位置只写一次
        where = "" if fpath == self.path else f"（代码块在 {self.where}）"
        return fpath, fline, self.rule, self.summary + where

    def failure_line(self, prefixes: tuple[str, ...] = ()) -> str:
        """失败的一行：``文件:行号: 规则: 说明``。"""
        fpath, fline, rule, message = self.failure(prefixes)
        return f"{fpath}:{fline}: {rule}: {message}"

    def report(self, tail: int = 3000) -> str:
        """像 pytest ``--tb=short`` 那样的失败报告：帧、异常、输出的末尾。"""
        lines = []
        for f in self.frames:
            lines.append(f"{f.path}:{f.line}: in {f.name}")
            if f.text:
                lines.append(f"    {f.text}")
        if self.limit != "time":  # 超时的说明已在第一行（failure_line）
            lines.append(self.message or f"失败（退出码 {self.returncode}）")
        stderr = self.stderr.rsplit("Traceback (most recent call last):", 1)[
            0
        ]
        for name, text in (("标准输出", self.stdout), ("标准错误", stderr)):
            if text.strip():
                lines += [
                    f"---- 代码块的{name}（末尾） ----",
                    text[-tail:].rstrip(),
                ]
        return "\n".join(lines)


# ---------------------------------------------------------------- 启动进程


def block_env(
    cold_cache: bool = False, tmp: str = sandbox.SANDBOX_TMP
) -> dict[str, str]:
    """沙箱里子进程的环境变量（项目约定，见 sandbox.environment）。"""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    env.setdefault("DEV", "CPU")  # 装了 PoCL 时不设 DEV 会默认用 OpenCL
    env.setdefault("PYTHONIOENCODING", "utf-8")
    return sandbox.environment(env, cold_cache, tmp)


def _command(python: Path, result_fd: int, cold_cache: bool) -> list[str]:
    """启动子进程的命令行：bwrap 沙箱里的 block_child.py（明确关掉沙箱时
    不包）。"""
    argv = [str(python), str(CHILD), str(result_fd)]
    if sandbox.disabled():
        if not cold_cache:
            sandbox.prepare_cache()
        return argv
    return sandbox.wrap(argv, cold_cache=cold_cache)


def _drain(stream, out: list[bytes], limit: int, keep_tail: bool) -> None:
    """在后台读完一个管道，最多留 limit 字节（keep_tail 时留最后的部分）：
    代码块输出再多，也不会占满运行测试的进程的内存。"""
    size = 0
    with stream:
        while chunk := stream.read(65536):
            out.append(chunk)
            size += len(chunk)
            while keep_tail and size - len(out[0]) >= limit:
                size -= len(out.pop(0))
            if not keep_tail and size >= limit:
                out[-1] = out[-1][: len(out[-1]) - (size - limit)]
                size = limit
                while stream.read(65536):  # 读完其余的，让子进程不被卡住
                    pass
                return


def _reader(stream, limit: int, keep_tail: bool = True):
    chunks: list[bytes] = []
    thread = threading.Thread(
        target=_drain, args=(stream, chunks, limit, keep_tail), daemon=True
    )
    thread.start()
    return thread, chunks


def _text(chunks: list[bytes]) -> str:
    return b"".join(chunks).decode("utf-8", errors="replace")


def run_units(
    units: list[Unit],
    path: str,
    line: int,
    *,
    timeout: float | None = None,
    cold_cache: bool = False,
    python: Path | None = None,
) -> BlockResult:
    """在沙箱里的全新进程中依次运行 units；path:line 是报告里代码块的位置。

    python 默认是只装了 tinymodels 的 ``.venv-blocks`` 的解释器。
    """
    timeout = block_timeout() if timeout is None else timeout
    where = f"{path}:{line}"
    python = sandbox.blocks_python() if python is None else python
    spec = json.dumps(
        {
            "where": where,
            "timeout": timeout,
            "units": [asdict(u) for u in units],
            "memory": sandbox.memory_limit(),
            "disk": sandbox.disk_limit(),
        }
    )
    with tempfile.TemporaryDirectory(prefix="kb-block-") as tmp:
        # 沙箱里的 /tmp 是私有的 tmpfs，这个目录用不上；KB_SANDBOX=off 时它就
        # 是代码块的临时目录与工作目录
        if sandbox.disabled():
            Path(tmp, "work").mkdir()
            env, cwd = block_env(cold_cache, tmp), Path(tmp, "work")
        else:
            env, cwd = block_env(cold_cache), ROOT
        return _run_process(
            units, path, line, spec, env, cwd, python, timeout, cold_cache
        )


def _run_process(
    units, path, line, spec, env, cwd, python, timeout, cold_cache
) -> BlockResult:
    read_fd, write_fd = os.pipe()  # 子进程写回结果（JSON）的管道
    started = time.perf_counter()
    try:
        proc = subprocess.Popen(
            _command(python, write_fd, cold_cache),
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(write_fd,),
            start_new_session=True,  # 超时时连同它启动的进程一起结束
        )
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)
    readers = [
        _reader(proc.stdout, OUTPUT_LIMIT),
        _reader(proc.stderr, OUTPUT_LIMIT),
        _reader(os.fdopen(read_fd, "rb"), RESULT_LIMIT, keep_tail=False),
    ]
    limit = timeout + KILL_GRACE if timeout > 0 else None
    try:
        try:
            proc.stdin.write(spec.encode("utf-8"))
            proc.stdin.close()
        except BrokenPipeError:
            pass  # 子进程没读规格就退出了：下面按退出码报告
        proc.wait(timeout=limit)
        timed_out = False
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid)
        proc.wait()
        timed_out = True
    except BaseException:  # 例如 Ctrl-C：不留下孤儿进程
        _kill_group(proc.pid)
        raise
    _kill_group(proc.pid)  # 沙箱结束时，代码块留在后台的进程也随之结束
    for thread, _ in readers:
        thread.join(timeout=5)
    seconds = time.perf_counter() - started
    stdout, stderr = _text(readers[0][1]), _text(readers[1][1])
    result_chunks = readers[2][1]
    child = _parse_json(b"".join(result_chunks))
    result = BlockResult(
        path,
        line,
        "failed",
        seconds=seconds,
        stdout=stdout,
        stderr=stderr,
        returncode=proc.returncode,
        device=env["DEV"],
        units=list(units),
    )
    if child is not None:
        result.outcome = "passed" if child["ok"] else "failed"
        result.message = child["message"]
        result.limit = child.get("limit")
        result.frames = [
            Frame(_shown(p), n, name, t) for p, n, name, t in child["frames"]
        ]
    elif timed_out:
        result.timed_out = True
        result.limit = "time"
        result.message = f"超过 {timeout:g} 秒"
    elif proc.returncode == 0:
        result.outcome = "passed"  # 代码块自己 os._exit(0)
    else:  # 进程没能写出结果就死了（崩溃、被杀）：从标准错误里找线索
        lines = stderr.strip().splitlines()
        result.message = (
            lines[-1]
            if lines
            else f"进程异常退出（退出码 {proc.returncode}）"
        )
        result.frames = [
            Frame(_shown(p), int(n), "", "")
            for p, n in re.findall(r'File "([^"]+)", line (\d+)', stderr)
        ]
    if result.outcome == "failed" and result.limit is None:
        result.limit = classify(result.message, stderr)
    return result


#: 沙箱里这些错误只可能来自越界：(limit, 错误信息里的特征)
_SIGNATURES = [
    ("write", r"Read-only file system|\[Errno 30\]"),
    ("disk", r"No space left on device|File too large|\[Errno (28|27)\]"),
    ("memory", r"MemoryError|Cannot allocate memory|\[Errno 12\]"),
    (
        "network",
        r"Network is unreachable|Temporary failure in name resolution"
        r"|Name or service not known|\[Errno (101|113|-2|-3)\]",
    ),
]


def classify(message: str, stderr: str = "") -> str | None:
    """失败是不是越出了沙箱：先看异常本身，再看标准错误（代码块启动的子进程
    的错误只在那里）。"""
    for text in (message, stderr):
        for limit, pattern in _SIGNATURES:
            if re.search(pattern, text):
                return limit
    return None


def limit_message(limit: str, message: str = "") -> str:
    """越出沙箱的一行说明（不含位置）。"""
    if limit == "write":
        m = re.search(r"'(/[^']*)'", message)
        target = f"（{rel(m.group(1))}）" if m else ""
        return (
            f"代码块试图写入或删除自己临时目录以外的文件{target}；"
            "代码块只能写当前目录和 /tmp"
        )
    if limit == "disk":
        mib = sandbox.disk_limit() // (1024 * 1024)
        return (
            f"代码块写入的数据超过了 {mib} MiB 的磁盘上限（KB_BLOCK_DISK_MB）"
        )
    if limit == "memory":
        mib = sandbox.memory_limit() // (1024 * 1024)
        if not mib:  # GPU 后端不限地址空间（见 sandbox.memory_limit）
            return "代码块申请的内存超过了这台机器能给的"
        return f"代码块超过了 {mib} MiB 的内存上限（KB_BLOCK_MEMORY_MB）"
    if limit == "network":
        return (
            "代码块（或它启动的进程）试图访问网络；"
            "本站代码不能联网，数据请随包附带或由代码生成"
        )
    if limit == "time":
        return f"代码块运行{message or '超时'}的上限（KB_BLOCK_TIMEOUT）"
    return message


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _shown(path: str) -> str:
    """帧里的文件名：仓库里的写成相对路径；``<frozen ...>`` 之类原样保留。"""
    return rel(path) if os.path.isabs(path) else path


def _parse_json(data: bytes) -> dict | None:
    try:
        return json.loads(data.decode("utf-8"))
    except ValueError:
        return None


def run_file(path: Path, **kw) -> BlockResult:
    """把整个文件当作一个程序运行（笔记本页面：jupytext 格式的 .py）。

    笔记本用文档环境的解释器（要画图，需要 matplotlib），同样在沙箱里。
    """
    path = Path(path).resolve()
    unit = Unit(str(path), path.read_text(encoding="utf-8"), 1, is_file=True)
    kw.setdefault("python", Path(sys.executable))
    return run_units([unit], rel(path), 1, **kw)


# ------------------------------------------------------------- 文档里的代码块


def block_units(block: CodeBlock, root: Path = ROOT) -> list[Unit]:
    """代码块自己的源码：嵌入块是被嵌入的文件（真实路径），其余是代码块本身。"""
    where = f"{rel(block.path)}:{block.line}"
    if block.is_include_block:
        units = []
        for inc in block.includes:
            if not inc.whole_file:
                raise DocBlockError(
                    f"{where}: 嵌入 {inc.spec!r} 只取了文件的一部分，"
                    "无法单独运行；请嵌入整个文件，或给代码块加上 "
                    '<!-- skip: next "理由" -->'
                )
            path = Path(root) / inc.path
            if not path.is_file():
                raise DocBlockError(
                    f"{rel(block.path)}:{inc.line}: "
                    f"嵌入的文件不存在：{inc.path}"
                )
            source = path.read_text(encoding="utf-8")
            units.append(Unit(str(path.resolve()), source, 1, is_file=True))
        return units
    if block.includes:
        raise DocBlockError(
            f"{where}: 代码块里混用了 --8<-- 嵌入和普通代码；"
            "请把代码都放进片段文件，或拆成两个代码块"
        )
    page = str(Path(block.path).resolve())
    return [Unit(page, block.code, block.first_code_line)]


def run_doc_block(
    block: CodeBlock, previous: list[Unit] | None = None, **kw
) -> BlockResult:
    """运行文档里的一个 Python 代码块。

    previous 是上一个 Python 代码块成功运行的程序（``BlockResult.units``），续
    写块（``# 接上一段代码``）连同它一起运行；上一个没有运行或失败时为 None。
    跳过的代码块返回 ``skipped``（没写理由的是 ``invalid``），写法错误返回
    ``invalid``：这两种都不启动进程。
    """
    path, line = rel(block.path), block.line
    if block.skip_reason:
        return BlockResult(path, line, "skipped", block.skip_reason)
    try:
        if block.skip_reason == "":
            raise DocBlockError(
                f"{path}:{line}: skip 注释必须写明理由："
                '<!-- skip: next "理由" -->'
            )
        units = block_units(block)
        if block.continues_previous:
            if previous is None:
                raise DocBlockError(
                    f"{path}:{line}: 代码块以“# 接上一段代码”开头，"
                    "但前面没有成功运行的 Python 代码块"
                )
            units = [*previous, *units]
    except DocBlockError as err:
        return BlockResult(path, line, "invalid", str(err))
    return run_units(units, path, line, **kw)


def run_page(page: Path, **kw) -> Iterator[tuple[CodeBlock, BlockResult]]:
    """依次运行页面里的每个 Python 代码块（续写块带上前文），逐个产出结果。"""
    previous = None
    for block in iter_code_blocks(page.read_text(encoding="utf-8"), page):
        if not block.is_python:
            continue
        result = run_doc_block(block, previous, **kw)
        previous = result.units if result.ok else None
        yield block, result
