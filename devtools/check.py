"""贡献者的检查命令：只检查改动过的（或指定的）页面，也可以检查全站。

    scripts/check.sh                    # 相对 main 改动过的页面（含未提交、
                                        # 未跟踪的文件）
    scripts/check.sh docs/x.md ...      # 指定页面
    scripts/check.sh --all              # 全站（CI 的测试命令也做同样的检查）
    scripts/check.sh --no-run docs/x.md # 只做静态检查，不运行代码（几秒）

一次运行报告全部问题，每个问题一行：``文件:行号: 规则: 说明``。规则见
devtools/doccheck.py，另外两条来自真正运行代码：

- ``code-failed``：代码块（或笔记本）运行失败；行号指向出错的那一行（可能在
  snippets/ 的片段文件里）；
- ``sandbox``：代码块越出了沙箱（devtools/sandbox.py）：写入或删除自己临时
  目录以外的文件、访问网络（包括它启动的进程）、超过内存、磁盘或时间上限；
- ``code-slow``：代码块运行超过 ``--slow`` 秒（默认 20 秒）；
- ``output-changed`` / ``output-missing``：代码块的输出与紧跟其后的
  ```output 块不符 / 打印了输出却没有输出块（devtools/outputs.py）。

代码块只在沙箱里运行：bubblewrap 不能启动时打印一行原因和安装方法，退出码 2，
绝不退回到不加沙箱运行。

退出码：0 没有问题；1 发现问题；2 用法错误（路径不存在、不是文档页面、git 不可
用等）或沙箱无法启动。
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from devtools import doccheck, outputs, records, runner, sandbox
from devtools.codeblocks import iter_code_blocks, iter_includes
from devtools.paths import DOCS, ROOT, rel
from devtools.problems import Problem

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    pass


def _git(*args: str) -> list[str]:
    proc = subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True
    )
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
        if path.is_relative_to(DOCS.resolve()) and path.suffix in (
            ".md",
            ".py",
        ):
            pages.add(path)
        elif path.is_relative_to((ROOT / "snippets").resolve()):
            snippets.add(path)
    if snippets:
        for page in doccheck.doc_pages():
            if page.suffix == ".md":
                incs = {
                    (ROOT / i.path).resolve()
                    for i in iter_includes(page.read_text(encoding="utf-8"))
                }
                if incs & snippets:
                    pages.add(page.resolve())
    return sorted(pages)


# ---------------------------------------------------------------- 运行代码


def _explained(block, result: runner.BlockResult) -> bool:
    """运行失败已由静态规则解释（一个问题只报一行）：代码块联网且静态规则
    network 已报告，或导入别的框架失败且 foreign-import 已报告。"""
    rules = {
        p.rule
        for code, path, first in doccheck.block_code(block)
        for p in doccheck.executed_code_problems(code, path, first)
    }
    if result.limit == "network":
        return "network" in rules
    return "foreign-import" in rules and result.message.startswith(
        "ModuleNotFoundError"
    )


def _page_problems(page: Path, slow: float, docs_dir: Path) -> list[Problem]:
    """运行一个页面的代码块（笔记本整本运行），把失败、过慢转成问题。"""
    prefixes = (rel(docs_dir) + "/", "snippets/")
    if page.suffix == ".py":
        result = runner.run_file(page)
        if result.ok:
            return []
        fpath, fline = result.location(prefixes)
        kind = "越出沙箱" if result.limit else "运行失败"
        return [
            Problem(
                fpath, fline, result.rule, f"笔记本{kind}：{result.summary}"
            )
        ]
    problems = []
    text = page.read_text(encoding="utf-8")
    blocks = iter_code_blocks(text, page)
    expected = outputs.output_blocks(text, blocks)
    index_of = {b.start: i for i, b in enumerate(blocks)}
    previous = None  # 上一个通过的代码块的标准输出（续写块要去掉它）
    for block, result in runner.run_page(page):
        found = None
        if result.ok:
            found = outputs.problem_for(
                block,
                outputs.own_stdout(
                    result.stdout,
                    previous if block.continues_previous else None,
                ),
                expected.get(index_of[block.start]),
            )
            if found:
                problems.append(found[0])
        records.record_block(block, result, found and found[0])
        previous = result.stdout if result.ok else None
        if result.outcome == "failed":
            if _explained(block, result):
                continue
            problems.append(Problem(*result.failure(prefixes)))
        elif result.ok and result.seconds > slow:
            problems.append(
                Problem(
                    result.path,
                    result.line,
                    "code-slow",
                    f"代码块运行了 {result.seconds:.1f} 秒，"
                    f"超过 {slow:g} 秒的上限",
                )
            )
        # skipped / invalid（写法错误）：静态规则已经报告，不重复
    return problems


def style_problems(pages: list[Path]) -> list[Problem]:
    """ruff（devtools/lint.py）对这些页面的代码块、笔记本页面和它们嵌入的
    片段报告的问题：与 CI 的风格检查相同。"""
    from devtools import lint

    files = {rel(p) for p in pages if p.suffix == ".py"}
    for page in pages:
        if page.suffix == ".md":
            files |= {
                inc.path
                for inc in iter_includes(page.read_text(encoding="utf-8"))
                # 只查嵌入的 Python 片段；内联进页面的 SVG 图不是代码
                if inc.path.endswith(".py") and (ROOT / inc.path).is_file()
            }
    md = [p for p in pages if p.suffix == ".md"]
    found = lint.lint_sources(lint.block_sources(md))
    if files:
        found += lint.lint_files(sorted(files))
    return found


def run_blocks(
    pages: list[Path], slow: float, docs_dir: Path = DOCS
) -> list[Problem]:
    """每个页面的代码块按顺序运行；页面之间并行（KB_WORKERS 个，默认 2）。"""
    workers = max(1, int(os.environ.get("KB_WORKERS", "2")))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        found = pool.map(
            lambda page: _page_problems(page, slow, docs_dir), pages
        )
        return [p for problems in found for p in problems]


# ---------------------------------------------------------------- 命令行


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/check.sh", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "paths",
        nargs="*",
        help="要检查的页面（docs/ 下的 .md 或笔记本 .py）；"
        "不给则检查改动过的页面",
    )
    parser.add_argument("--all", action="store_true", help="检查全站")
    parser.add_argument(
        "--base", help="与哪个提交比较改动（默认：与 main 的分叉点）"
    )
    parser.add_argument(
        "--docs-dir", default=str(DOCS), help=argparse.SUPPRESS
    )  # 测试夹具用
    parser.add_argument(
        "--config", help=argparse.SUPPRESS
    )  # 测试夹具用：读取 nav 的 mkdocs.yml
    parser.add_argument(
        "--no-run", action="store_true", help="只做静态检查，不运行代码"
    )
    parser.add_argument(
        "--slow",
        type=float,
        default=float(os.environ.get("KB_SLOW_BLOCK", "20")),
        help="代码块运行超过多少秒算过慢（默认 20）",
    )
    args = parser.parse_args(argv)
    docs_dir = Path(args.docs_dir).resolve()
    problems: list[Problem] = []
    try:
        if args.all:
            pages = doccheck.doc_pages(docs_dir)
        elif args.paths:
            pages = []
            for p in args.paths:
                path = Path(p).resolve()
                if not path.is_file():
                    raise UsageError(f"路径不存在：{p}")
                if not path.is_relative_to(docs_dir) or path.suffix not in (
                    ".md",
                    ".py",
                ):
                    raise UsageError(f"不是 docs/ 下的页面：{p}")
                pages.append(path)
        else:
            pages = changed_pages(args.base or default_base())
            if not pages:
                print("没有改动过的页面；用 --all 检查全站", file=sys.stderr)
                return EXIT_OK
        print(f"检查 {len(pages)} 个页面……", file=sys.stderr)
        config = Path(args.config).resolve() if args.config else None
        problems = doccheck.check(
            pages, docs_dir, site_wide=args.all, config=config
        )
        if docs_dir == DOCS.resolve():  # CI 的风格检查只查 docs/
            try:
                problems += style_problems(pages)
            except RuntimeError as err:  # 没有安装 ruff
                raise UsageError(
                    f"{err}（或 bash scripts/bootstrap.sh docs）"
                )
        if not args.no_run:
            if sandbox.disabled():
                print(sandbox.DISABLED_WARNING, file=sys.stderr)
            else:
                sandbox.check_available()
            if any(p.suffix == ".md" for p in pages):
                sandbox.blocks_python()
            problems += run_blocks(pages, args.slow, docs_dir)
    except UsageError as err:
        print(f"用法错误：{err}", file=sys.stderr)
        return EXIT_USAGE
    except sandbox.SandboxUnavailable as err:
        for p in sorted(set(problems)):
            print(p)
        print(err, file=sys.stderr)
        return EXIT_USAGE
    problems = sorted(set(problems))
    for p in problems:
        print(p)
    print(
        f"{len(problems)} 个问题" if problems else "没有发现问题",
        file=sys.stderr,
    )
    return EXIT_PROBLEMS if problems else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
