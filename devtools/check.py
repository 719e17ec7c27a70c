"""贡献者的检查命令：只检查改动过的（或指定的）页面，也可以检查全站。

    scripts/check.sh                    # 相对 main 改动过的页面（含未提交、未跟踪的文件）
    scripts/check.sh docs/x.md ...      # 指定页面
    scripts/check.sh --all              # 全站（CI 的测试命令也运行同样的检查）
    scripts/check.sh --no-run docs/x.md # 只做静态检查，不运行代码（几秒钟）

一次运行报告全部问题，每个问题一行：``文件:行号: 规则: 说明``。规则见 devtools/doccheck.py，
另外两条来自真正运行代码：

- ``code-failed``：代码块（或笔记本）运行失败、超时或访问网络；行号指向出错的那一行
  （可能在 snippets/ 的片段文件里）；
- ``code-slow``：代码块运行超过 ``--slow`` 秒（默认 20 秒）。

退出码：0 没有问题；1 发现问题；2 用法错误（路径不存在、不是文档页面、git 不可用等）。
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from devtools import doccheck
from devtools.codeblocks import iter_includes
from devtools.doccheck import DOCS, ROOT, Problem, rel

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    pass


def _git(*args: str) -> list[str]:
    proc = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise UsageError(f"git {' '.join(args)} 失败：{proc.stderr.strip()}")
    return [ln for ln in proc.stdout.splitlines() if ln.strip()]


def default_base() -> str:
    for ref in ("origin/main", "main"):
        try:
            return _git("merge-base", "HEAD", ref)[0]
        except (UsageError, IndexError):
            continue
    return "HEAD"


def changed_pages(base: str) -> list[Path]:
    """相对 base 改动过的页面；改动过的片段文件映射到嵌入它的页面。"""
    files = set(_git("diff", "--name-only", base, "--"))
    files |= set(_git("ls-files", "--others", "--exclude-standard"))
    files |= set(_git("diff", "--name-only", "--"))
    pages: set[Path] = set()
    snippets: set[Path] = set()
    for name in files:
        path = (ROOT / name).resolve()
        if not path.exists():
            continue
        if path.is_relative_to(DOCS.resolve()) and path.suffix in (".md", ".py"):
            pages.add(path)
        elif path.is_relative_to((ROOT / "snippets").resolve()):
            snippets.add(path)
    if snippets:
        for page in doccheck.doc_pages():
            if page.suffix == ".md":
                incs = {(ROOT / i.path).resolve() for i in iter_includes(page.read_text(encoding="utf-8"))}
                if incs & snippets:
                    pages.add(page.resolve())
    return sorted(pages)


# ---------------------------------------------------------------- 运行代码


def _location_of_failure(entry: dict, fallback: tuple[str, int], docs_dir: Path = DOCS) -> tuple[str, int]:
    """在 traceback 里找最后一个位于文档目录或 snippets/ 的帧，作为出错位置。"""
    prefixes = (rel(docs_dir) + "/", "snippets/")
    for path, line in reversed(entry.get("frames", [])):
        rp = rel(Path(path)) if os.path.isabs(path) else path
        if rp.startswith(prefixes):
            return rp, line
    return fallback


def run_blocks(pages: list[Path], slow: float, docs_dir: Path = DOCS) -> list[Problem]:
    md = [p for p in pages if p.suffix == ".md"]
    notebooks = [p for p in pages if p.suffix == ".py"]
    problems: list[Problem] = []
    if md:
        with tempfile.TemporaryDirectory() as tmp:
            report = Path(tmp) / "report.json"
            env = {**os.environ, "KB_REPORT": str(report), "MPLBACKEND": "Agg", "KB_DOCS": str(docs_dir)}
            args = [sys.executable, "-m", "pytest", *map(str, md), "-q", "-p", "devtools.pytest_report",
                    "-p", "no:cacheprovider", "--durations=0"]
            if len(md) > 1:
                args += ["-n", os.environ.get("KB_WORKERS", "2"), "--dist", "loadfile"]
            proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
            if not report.exists():
                raise UsageError(f"pytest 没有产生报告：\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
            for entry in json.loads(report.read_text()):
                path, line = entry["path"], entry["line"]
                if entry["outcome"] == "failed":
                    if entry["message"].startswith("devtools.sybil_blocks.DocBlockError"):
                        continue  # 写法错误（缺失的嵌入等）已由静态规则报告，不重复
                    fpath, fline = _location_of_failure(entry, (path, line), docs_dir)
                    where = "" if (fpath, fline) == (path, line) else f"（代码块在 {path}:{line}）"
                    problems.append(Problem(fpath, fline, "code-failed", entry["message"] + where))
                elif entry["outcome"] == "passed" and entry["duration"] > slow:
                    problems.append(Problem(path, line, "code-slow",
                                            f"代码块运行了 {entry['duration']:.1f} 秒，超过 {slow:g} 秒的上限"))
    for nb in notebooks:
        proc = subprocess.run([sys.executable, str(nb)], cwd=tempfile.gettempdir(), capture_output=True, text=True,
                              env={**os.environ, "MPLBACKEND": "Agg"})
        if proc.returncode != 0:
            frames = re.findall(r'File "([^"]+)", line (\d+)', proc.stderr)
            last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "运行失败"
            entry = {"frames": [(f, int(n)) for f, n in frames]}
            fpath, fline = _location_of_failure(entry, (rel(nb), 1), docs_dir)
            problems.append(Problem(fpath, fline, "code-failed", f"笔记本运行失败：{last}"))
    return problems


# ---------------------------------------------------------------- 命令行


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/check.sh", description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", help="要检查的页面（docs/ 下的 .md 或笔记本 .py）；不给则检查改动过的页面")
    parser.add_argument("--all", action="store_true", help="检查全站")
    parser.add_argument("--base", help="与哪个提交比较改动（默认：与 main 的分叉点）")
    parser.add_argument("--docs-dir", default=str(DOCS), help=argparse.SUPPRESS)  # 测试夹具用
    parser.add_argument("--config", help=argparse.SUPPRESS)  # 测试夹具用：读取 nav 的 mkdocs.yml
    parser.add_argument("--no-run", action="store_true", help="只做静态检查，不运行代码")
    parser.add_argument("--slow", type=float, default=float(os.environ.get("KB_SLOW_BLOCK", "20")),
                        help="代码块运行超过多少秒算过慢（默认 20）")
    args = parser.parse_args(argv)
    docs_dir = Path(args.docs_dir).resolve()
    try:
        if args.all:
            pages = doccheck.doc_pages(docs_dir)
        elif args.paths:
            pages = []
            for p in args.paths:
                path = Path(p).resolve()
                if not path.is_file():
                    raise UsageError(f"路径不存在：{p}")
                if not path.is_relative_to(docs_dir) or path.suffix not in (".md", ".py"):
                    raise UsageError(f"不是 docs/ 下的页面：{p}")
                pages.append(path)
        else:
            pages = changed_pages(args.base or default_base())
            if not pages:
                print("没有改动过的页面；用 --all 检查全站", file=sys.stderr)
                return EXIT_OK
        print(f"检查 {len(pages)} 个页面……", file=sys.stderr)
        config = Path(args.config).resolve() if args.config else None
        problems = doccheck.check(pages, docs_dir, site_wide=args.all, config=config)
        if not args.no_run:
            problems += run_blocks(pages, args.slow, docs_dir)
    except UsageError as err:
        print(f"用法错误：{err}", file=sys.stderr)
        return EXIT_USAGE
    problems = sorted(set(problems))
    for p in problems:
        print(p)
    print(f"{len(problems)} 个问题" if problems else "没有发现问题", file=sys.stderr)
    return EXIT_PROBLEMS if problems else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
