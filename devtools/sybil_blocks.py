"""Sybil 解析器与执行器：把 docs/ 里每个 Python 代码块变成一个 pytest 测试项。

与 Sybil 自带的 PythonCodeBlockParser 不同：

- 认得 ```py、带属性或标题的代码块（自带解析器只认恰好写成 ```python 的）；
- 每个代码块在沙箱里的全新进程中运行（自带的是整页共用一个命名空间），
  运行方式见 devtools/runner.py，检查命令和计时脚本用的是同一个函数；
- 失败的第一行与检查命令的报告相同：``文件:行号: 规则: 说明``；
- ``--8<--`` 嵌入块按被嵌入文件的真实路径运行，出错时 traceback 指向
  ``snippets/x.py:行号``；
- 跳过必须写理由，并显示为 SKIPPED；
- 每个代码块有时间上限，超时报告代码块的位置，而不是让 CI 卡住；
- 代码块的标准输出与紧跟其后的 ```output 块核对（devtools/outputs.py）：
  不符报告 ``output-changed`` 和 diff，打印了却没有输出块报告
  ``output-missing``。
"""

from __future__ import annotations

import pytest
from sybil import Region

from devtools import outputs, records, runner, sandbox
from devtools.codeblocks import CodeBlock, iter_code_blocks
from devtools.paths import rel

#: 兼容旧名字：写法错误
DocBlockError = runner.DocBlockError


class BlockEvaluator:
    """执行一个代码块。作为 Sybil Region 的 evaluator。"""

    def __init__(
        self,
        block: CodeBlock,
        index: int,
        previous: int | None,
        expected: CodeBlock | None = None,
    ):
        self.block, self.index, self.previous = block, index, previous
        self.expected = expected  # 紧跟其后的 ```output 块

    def __repr__(self) -> str:
        return f"<代码块 {rel(self.block.path)}:{self.block.line}>"

    def __call__(self, example) -> None:
        __tracebackhide__ = True  # pytest 的 traceback 只显示代码块里的行
        store = example.document.namespace.setdefault("__kb_blocks__", {})
        try:
            result = runner.run_doc_block(
                self.block, store.get(self.previous)
            )
        except sandbox.SandboxUnavailable as err:
            pytest.fail(str(err), pytrace=False)
        if not result.ok:  # 通过的代码块等比过输出再记录
            records.record_block(self.block, result)
        if result.outcome == "skipped":
            pytest.skip(f"{result.where}: {result.message}")
        if result.outcome == "invalid":
            pytest.fail(result.message, pytrace=False)
        if not result.ok:
            pytest.fail(
                result.failure_line() + "\n" + result.report(),
                pytrace=False,
            )
        store[self.index] = result.units
        stdouts = example.document.namespace.setdefault("__kb_stdout__", {})
        stdouts[self.index] = result.stdout
        stdout = outputs.own_stdout(
            result.stdout,
            stdouts.get(self.previous)
            if self.block.continues_previous
            else None,
        )
        found = outputs.problem_for(self.block, stdout, self.expected)
        records.record_block(self.block, result, found and found[0])
        if found:
            problem, diff = found
            pytest.fail(f"{problem}\n{diff}".rstrip(), pytrace=False)


def parse_python_blocks(document):
    """Sybil 解析器：为文档中每个 Python 代码块产出一个 Region。"""
    previous = None
    blocks = iter_code_blocks(document.text, document.path)
    expected = outputs.output_blocks(document.text, blocks)
    for index, block in enumerate(blocks):
        if not block.is_python:
            continue
        evaluator = BlockEvaluator(
            block, index, previous, expected.get(index)
        )
        yield Region(
            block.start, block.end, parsed=block, evaluator=evaluator
        )
        previous = index
