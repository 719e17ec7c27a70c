"""验证速度基准：打印 issue #8 的各项速度目标，以及每个代码块的冷启动与测试内
耗时。

    # 代码块、构建、热重载（约 15 分钟）
    python benchmarks/bench_speed.py
    # 再加测试命令的冷、热两次完整运行（再约 12 分钟）
    python benchmarks/bench_speed.py --suite
    # 只测一部分：blocks、build、serve、suite、check
    python benchmarks/bench_speed.py --only blocks
    # 输出就是 Markdown
    python benchmarks/bench_speed.py --all > benchmarks/SPEED.md

各项的测法（与 README 的命令一致，不计已经完成的软件包安装）：

- **代码块冷启动**：每个代码块写进临时文件，在全新的 Python 进程里运行，
  tinygrad 内核缓存为空（``CACHEDB`` 指向临时文件）——读者复制粘贴后第一次运行
  的情形。续写块连同前文一起运行；笔记本页面整个运行一次。目标：每个 ≤ 20 秒，
  中位数 ≤ 5 秒。
- **测试内耗时**：最近一次测试运行里该代码块（按验证记录的 id 对应）的耗时，进
  程与缓存都是热的。
- **测试命令**：``bash scripts/test.sh``，先用空的内核缓存和空的笔记本缓存
  （冷），再原样运行一次（热）。目标：冷 ≤ 10 分钟，热 ≤ 5 分钟。
- **构建**：``scripts/build.sh``（``mkdocs build --strict``，含笔记本），依次
  测三种情形：全新克隆（内核缓存、笔记本缓存都为空）、只清空笔记本缓存（改了
  tinymodels 之后）、全部命中缓存。目标都是 ≤ 60 秒。
- **热重载**：``scripts/serve.sh`` 启动后，给一个页面追加一行，计时到浏览器能
  取到新内容为止。目标 ≤ 5 秒。
- **贡献者检查**：``scripts/check.sh --no-run`` 检查一个页面的静态规则（公式、
  链接、排版）所用时间。

这不是测试：它不做断言，只打印数字；机器繁忙时数字会偏大（开头和结尾都打印系统负载）。
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devtools import blocktime, records  # noqa: E402
from devtools.paths import ROOT, write_atomic  # noqa: E402

PY = (
    str(ROOT / ".venv" / "bin" / "python")
    if (ROOT / ".venv" / "bin" / "python").exists()
    else sys.executable
)
TARGETS = {
    "block_max": 20.0,
    "block_median": 5.0,
    "suite_cold": 600.0,
    "suite_warm": 300.0,
    "build": 60.0,
    "reload": 5.0,
}
PROBE_PAGE = ROOT / "docs" / "guide" / "index.md"
PROBE_URL = "guide/"


def _site_path() -> str:
    """scripts/serve.sh 把站点挂在根路径（见脚本里的说明）。"""
    return "/"


def log(msg: str) -> None:
    print(
        f"[bench {time.strftime('%H:%M:%S')}] {msg}",
        file=sys.stderr,
        flush=True,
    )


def load_avg() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def row(*cells: str) -> str:
    """Markdown 表格的一行。"""
    return "| " + " | ".join(cells) + " |"


def all_pages() -> list[Path]:
    docs = ROOT / "docs"
    return sorted(docs.rglob("*.md")) + sorted(docs.rglob("*.py"))


# ---------------------------------------------------------------- 代码块


def bench_blocks(pages: list[Path]) -> tuple[list[str], dict]:
    suite = {}  # 代码块 id → 最近一次 CPU 测试运行里的耗时
    for (bid, backend), r in records.load([records.LOCAL_DIR]).items():
        if backend == "CPU" and r["result"] == "passed":
            suite[bid] = r["duration"]
    rows = blocktime.measure(
        pages,
        cold_cache=True,
        progress=lambda rows: log(f"代码块：已测 {len(rows)} 个"),
    )
    cold = [r.seconds for r in rows]
    lines = [
        "| 代码块 | 冷启动（秒） | 测试内（秒） | 结果 |",
        "|---|---:|---:|---|",
    ]
    for r in sorted(rows, key=lambda r: -r.seconds):
        warm = suite.get(r.block_id) if r.block_id else None
        warm_s = f"{warm:.1f}" if warm is not None else "—"
        flag = "" if r.seconds <= TARGETS["block_max"] else " ✗"
        outcome = "通过" if r.ok else "失败：" + r.result.summary
        lines.append(
            row(f"`{r.label}`", f"{r.seconds:.1f}{flag}", warm_s, outcome)
        )
    md_rows = [r for r in rows if r.block_id]
    nb_rows = [r for r in rows if not r.block_id]
    if nb_rows and len(nb_rows) == len(
        list((ROOT / "docs").rglob("*.py"))
    ):  # 只在测了全部笔记本时更新
        write_notebook_hints(
            {r.label: round(r.seconds, 1) for r in nb_rows if r.ok}
        )
    stats = {
        "blocks": len(md_rows),
        "notebooks": len(nb_rows),
        "block_max": max((r.seconds for r in md_rows), default=0.0),
        "block_median": statistics.median([r.seconds for r in md_rows])
        if md_rows
        else 0.0,
        "notebook_max": max((r.seconds for r in nb_rows), default=0.0),
        "over_20": [
            r.label for r in rows if r.seconds > TARGETS["block_max"]
        ],
        "failed": [r.label for r in rows if not r.ok],
        "cold_total": sum(cold),
        "suite_total": sum(suite.get(r.block_id, 0.0) for r in md_rows),
    }
    return lines, stats


def write_notebook_hints(seconds: dict[str, float]) -> None:
    """记下每本笔记本的冷启动秒数：全新克隆第一次构建时，
    devtools/notebook_exec.py 按它把长的先排上。"""
    from devtools.notebook_exec import HINTS_FILE

    write_atomic(
        HINTS_FILE,
        json.dumps(
            dict(sorted(seconds.items())), ensure_ascii=False, indent=2
        )
        + "\n",
    )


# ---------------------------------------------------------------- 测试命令


def bench_suite(cache_root: Path) -> dict:
    # 自己的空缓存（不与构建、热重载共用）：第一次运行就是全新克隆后的情形
    cache_root = cache_root / "suite"
    cache_root.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "CACHEDB": str(cache_root / "tinygrad-cache.db"),
        "KB_NOTEBOOK_CACHE": str(cache_root / "notebooks"),
    }
    out = {}
    for label in ("cold", "warm"):
        log(f"测试命令（{label}）：bash scripts/test.sh")
        start = time.perf_counter()
        proc = subprocess.run(
            ["bash", "scripts/test.sh", "-q", "-p", "no:cacheprovider"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        out[label] = time.perf_counter() - start
        tail = [
            ln
            for ln in proc.stdout.splitlines()
            if " passed" in ln or " failed" in ln
        ]
        out[f"{label}_result"] = (
            tail[-1].strip("= ") if tail else f"退出码 {proc.returncode}"
        )
        log(f"  {out[label]:.0f} 秒：{out[f'{label}_result']}")
    return out


# --------------------------------------------------------------- 构建与热重载


def bench_build(cache_root: Path) -> dict:
    """三种情形依次构建（同一组临时缓存）：

    - ``fresh``：内核缓存和笔记本缓存都为空，全新克隆后的第一次构建；
    - ``rerun``：笔记本缓存清空、内核缓存保留，改了 tinymodels 之后的情形（笔
      记本全部重新执行）；
    - ``warm``：什么都没改，笔记本全部命中缓存。
    """
    nb_cache = cache_root / "build-notebooks"
    env = {
        **os.environ,
        "KB_NOTEBOOK_CACHE": str(nb_cache),
        "CACHEDB": str(cache_root / "build-tinygrad.db"),
    }
    env.pop("PARALLEL", None)  # 与读者、贡献者的构建相同
    out = {}
    with tempfile.TemporaryDirectory() as site:
        for label in ("fresh", "rerun", "warm"):
            # rerun 只删执行结果（按指纹分的目录），留下上次的耗时记录，
            # 与真实的重新构建一样
            if label == "rerun":
                for d in nb_cache.iterdir():
                    if d.is_dir():
                        shutil.rmtree(d)
            log(f"构建（{label}）：scripts/build.sh（mkdocs build --strict）")
            start = time.perf_counter()
            proc = subprocess.run(
                ["bash", "scripts/build.sh", "--site-dir", site],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
            )
            out[label] = time.perf_counter() - start
            out[f"{label}_ok"] = proc.returncode == 0
            if proc.returncode:
                log(proc.stderr[-2000:])
            log(f"  {out[label]:.1f} 秒")
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.read().decode("utf-8", "replace")
    except OSError:
        return None


def bench_serve(cache_root: Path, timeout: float = 600) -> dict:
    port = _free_port()
    base = f"http://127.0.0.1:{port}{_site_path()}"
    # 与 bench_build 共用缓存：先测了构建时，serve 启动时笔记本已经执行过
    env = {
        **os.environ,
        "KB_NOTEBOOK_CACHE": str(cache_root / "build-notebooks"),
        "CACHEDB": str(cache_root / "build-tinygrad.db"),
    }
    original = PROBE_PAGE.read_bytes()
    log(f"热重载：scripts/serve.sh -a 127.0.0.1:{port}")
    start = time.perf_counter()
    proc = subprocess.Popen(
        ["bash", "scripts/serve.sh", "-a", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    out: dict = {}
    try:
        while _fetch(base + PROBE_URL) is None:
            if (
                proc.poll() is not None
                or time.perf_counter() - start > timeout
            ):
                raise RuntimeError("mkdocs serve 没有启动")
            time.sleep(0.2)
        out["startup"] = time.perf_counter() - start
        times = []
        for n in range(3):
            marker = f"kb-reload-probe-{os.getpid()}-{n}"
            time.sleep(1.5)  # 让上一次重建彻底结束
            edit = time.perf_counter()
            PROBE_PAGE.write_bytes(original + f"\n\n{marker}\n".encode())
            while marker not in (_fetch(base + PROBE_URL) or ""):
                if time.perf_counter() - edit > 120:
                    raise RuntimeError("两分钟内没有重建")
                time.sleep(0.1)
            times.append(time.perf_counter() - edit)
            log(f"  第 {n + 1} 次：{times[-1]:.1f} 秒")
        out["reload"] = statistics.median(times)
        out["reloads"] = times
    finally:
        PROBE_PAGE.write_bytes(original)
        os.killpg(proc.pid, 15)
        proc.wait()
    return out


def bench_check() -> dict:
    page = ROOT / "docs" / "architectures" / "cnn" / "index.md"
    log(f"贡献者检查：scripts/check.sh --no-run {page.relative_to(ROOT)}")
    start = time.perf_counter()
    proc = subprocess.run(
        [PY, "-m", "devtools.check", "--no-run", str(page)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return {
        "seconds": time.perf_counter() - start,
        "ok": proc.returncode == 0,
    }


# ---------------------------------------------------------------- 输出


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only", help="逗号分隔：blocks,build,serve,suite,check"
    )
    parser.add_argument(
        "--suite",
        action="store_true",
        help="另外完整运行两次测试命令（冷、热）",
    )
    parser.add_argument("--all", action="store_true", help="全部项目")
    parser.add_argument(
        "pages", nargs="*", help="只测这些页面的代码块（默认全部页面）"
    )
    args = parser.parse_args(argv)
    parts = (
        set(args.only.split(","))
        if args.only
        else {"blocks", "build", "serve", "check"}
    )
    if args.suite or args.all:
        parts.add("suite")

    started = load_avg()
    command = argv if argv is not None else sys.argv[1:]
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    head = [
        f"# 验证速度（{date.today().isoformat()}）",
        "",
        f"由 `python benchmarks/bench_speed.py {' '.join(command)}` 生成；"
        f"提交 `{commit}`，{os.cpu_count()} 核（{cpu}），"
        f"后端 {os.environ.get('DEV', 'CPU')}，开始时负载 {started}。",
        "",
    ]
    summary = ["| 项目 | 测得 | 目标 | |", "|---|---:|---:|---|"]
    body: list[str] = []
    cache_root = Path(tempfile.mkdtemp(prefix="kb-bench-"))
    try:
        if "check" in parts:
            c = bench_check()
            what = "贡献者检查一个页面（`check.sh --no-run`）"
            summary.append(row(what, f"{c['seconds']:.1f} 秒", "—", ""))
        if "build" in parts:
            b = bench_build(cache_root)
            for label, what in (
                ("fresh", "全新克隆（内核缓存、笔记本缓存都为空）"),
                ("rerun", "笔记本全部重新执行（内核缓存是热的）"),
                ("warm", "笔记本已缓存"),
            ):
                ok = b[label] <= TARGETS["build"] and b[f"{label}_ok"]
                summary.append(
                    row(
                        f"完整构建，{what}",
                        f"{b[label]:.0f} 秒",
                        "≤ 60 秒",
                        mark(ok),
                    )
                )
        if "serve" in parts:
            s = bench_serve(cache_root)
            summary.append(
                row(
                    "`serve.sh` 启动到可访问",
                    f"{s['startup']:.0f} 秒",
                    "—",
                    "",
                )
            )
            summary.append(
                row(
                    "改一个页面后热重载（3 次中位数）",
                    f"{s['reload']:.1f} 秒",
                    "≤ 5 秒",
                    mark(s["reload"] <= TARGETS["reload"]),
                )
            )
        if "suite" in parts:
            t = bench_suite(cache_root)
            for label, what, target in (
                ("cold", "测试命令，空内核缓存", "≤ 10 分钟"),
                ("warm", "测试命令，热缓存", "≤ 5 分钟"),
            ):
                measured = (
                    f"{t[label] / 60:.1f} 分钟（{t[f'{label}_result']}）"
                )
                ok = t[label] <= TARGETS[f"suite_{label}"]
                summary.append(row(what, measured, target, mark(ok)))
        if "blocks" in parts:
            pages = [Path(p).resolve() for p in args.pages] or all_pages()
            lines, st = bench_blocks(pages)
            for key, what, target in (
                ("block_max", f"代码块冷启动，最慢（{st['blocks']} 个）", 20),
                ("block_median", "代码块冷启动，中位数", 5),
            ):
                ok = st[key] <= TARGETS[key]
                summary.append(
                    row(what, f"{st[key]:.1f} 秒", f"≤ {target} 秒", mark(ok))
                )
            what = f"笔记本整本冷启动，最慢（{st['notebooks']} 本）"
            summary.append(row(what, f"{st['notebook_max']:.1f} 秒", "—", ""))
            totals = f"{st['cold_total']:.0f} 秒 / {st['suite_total']:.0f} 秒"
            summary.append(
                row("代码块冷启动合计 / 测试内合计", totals, "—", "")
            )
            body += [
                "",
                "## 每个代码块",
                "",
                "冷启动：全新进程、空内核缓存；测试内：最近一次测试运行（热进程、热缓存）里的耗时，"
                "“—”表示没有对应的记录（笔记本、或代码改过后还没跑过测试）。",
                "",
                *lines,
            ]
            if st["failed"]:
                body += ["", "失败：" + "、".join(st["failed"])]
    finally:
        shutil.rmtree(cache_root, ignore_errors=True)
    text = "\n".join(
        head + summary + body + ["", f"结束时负载 {load_avg()}。", ""]
    )
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
