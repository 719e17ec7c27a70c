"""新文章脚手架：一条命令生成文章页面、代码片段、导航条目和术语表条目。

    scripts/new-article.sh basics/softmax --title "Softmax 与交叉熵" \\
        --section 基础 --term "数值稳定性=numerical stability"

生成的页面结构、公式和代码块原样就能通过全部检查（scripts/check.sh）；
“（……）”这样的占位文字会被 placeholder 规则报告，直到换成真正的内容。
``--section`` 必须是 nav 里已有的栏目（写错时报错并列出现有栏目），新建栏目
要加 ``--new-section``。已存在的文件不会被覆盖。退出码：0 成功；2 用法错误
（名字不合法、栏目不存在、文件已存在等）。
"""

from __future__ import annotations

import argparse
import re
import sys

from devtools.paths import DOCS, ROOT, SNIPPETS, rel

MKDOCS_YML = ROOT / "mkdocs.yml"
GLOSSARY = DOCS / "glossary.md"

PAGE_TEMPLATE = """---
title: {title}
description: （一句话说明读者读完这一页能做什么。）
---

# {title}

（引言：这一页讲什么、为什么重要。）读完后你将能够：

- 说出本页的核心概念；
- 用公式写出它，并用代码验证公式。

## 核心概念

（正文。第一次出现的术语要给出中文解释和英文原名，并加入[术语表](../glossary.md)。）

设向量 $x \\in \\mathbb{{R}}^{{n}}$，它的平方和为

$$
s = \\sum_{{i=1}}^{{n}} x_i^2 .
$$

下面的代码块用 tinygrad 计算 $s$，并与 NumPy 的结果比较：

```python
import numpy as np
from tinygrad import Tensor

rng = np.random.default_rng(0)
x_np = rng.standard_normal(5).astype(np.float32)
s = (Tensor(x_np) ** 2).sum().item()
assert np.isclose(s, np.sum(x_np**2), rtol=1e-5)
```

## 完整示例

较长的代码放在片段文件里，整文件嵌入：

```python title="{snippet_rel}"
--8<-- "{snippet_rel}"
```

```output
示例运行成功
```

<!-- 上面的 output 块写出代码块打印了什么，测试每次都核对；改了代码后用
python -m devtools.outputs --update 页面 刷新（见 CONTRIBUTING.md）。 -->

## 小结

- （要点一。）
- （要点二。）

## 练习

1. （练习一。）

    ??? note "参考答案"

        （推理过程。能算的就用代码算一遍，并以断言结尾：）

        ```python
        import numpy as np

        x = np.arange(1, 4, dtype=np.float32)
        assert np.sum(x**2) == 14.0
        ```

2. （练习二。）

    ??? note "参考答案"

        （答案。）

## 参考文献

- （作者，年份，标题。）
"""

SNIPPET_TEMPLATE = """# {title}：完整示例（请替换成本页真正的例子）。
# 要求：单独可运行（自带 import、随机种子、数据），以断言结尾，
# 冷启动不超过 20 秒。
import numpy as np
from tinygrad import Tensor

Tensor.manual_seed(0)  # 固定随机种子，结果可复现
x = Tensor.randn(4, 3)
# 矩阵与自身转置的乘积是对称矩阵
gram = (x @ x.T).numpy()
assert gram.shape == (4, 4)
assert np.allclose(gram, gram.T, atol=1e-5)
print("示例运行成功")
"""


GLOSSARY_DEFINITION = "（一句话定义。）"

#: 脚手架留下的占位文字：页面模板里全部的“（……）”、术语表的定义和片段的
#: 说明。检查命令的 placeholder 规则报告留在页面、术语表或片段里的它们。
PLACEHOLDERS = tuple(
    sorted(
        {
            *re.findall(r"（[^（）\n]+）", PAGE_TEMPLATE),
            GLOSSARY_DEFINITION,
            "（请替换成本页真正的例子）",
        }
    )
)


class UsageError(Exception):
    pass


def nav_sections(yml: str) -> list[str]:
    """nav 里现有的栏目名（“  - 栏目:”这样的行）。"""
    nav = yml.split("\nnav:\n", 1)[1] if "\nnav:\n" in yml else ""
    sections = []
    for line in nav.splitlines():
        if line and not line.startswith(" "):
            break
        if m := re.match(r"^  - ([^:]+):\s*$", line):
            sections.append(m.group(1).strip())
    return sections


def add_nav_entry(yml: str, section: str, title: str, page: str) -> str:
    """在 nav 的某个栏目末尾加一行；栏目不存在时在 nav 末尾新建。"""
    lines = yml.splitlines()
    try:
        nav_start = next(
            i for i, ln in enumerate(lines) if ln.rstrip() == "nav:"
        )
    except StopIteration as err:
        raise UsageError("mkdocs.yml 里没有 nav:") from err
    nav_end = next(
        (
            i
            for i in range(nav_start + 1, len(lines))
            if lines[i] and not lines[i].startswith(" ")
        ),
        len(lines),
    )
    entry_line = None
    for i in range(nav_start + 1, nav_end):
        if re.match(rf"^  - {re.escape(section)}:\s*$", lines[i]):
            j = i + 1
            while j < nav_end and (
                lines[j].startswith("      ") or not lines[j].strip()
            ):
                j += 1
            while j > i + 1 and not lines[j - 1].strip():
                j -= 1
            entry_line = j
            break
    new = f"      - {title}: {page}"
    if entry_line is None:
        insert_at = nav_end
        while insert_at > nav_start + 1 and not lines[insert_at - 1].strip():
            insert_at -= 1
        lines[insert_at:insert_at] = [f"  - {section}:", new]
    else:
        lines[entry_line:entry_line] = [new]
    return "\n".join(lines) + "\n"


def add_glossary_rows(
    text: str, terms: list[tuple[str, str]], title: str, page_from_docs: str
) -> str:
    rows = [
        f"| {zh} | {en} | {GLOSSARY_DEFINITION} "
        f"| [{title}]({page_from_docs}) |"
        for zh, en in terms
    ]
    return text.rstrip("\n") + "\n" + "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/new-article.sh", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "name",
        help="栏目/文件名，例如 basics/softmax（只用小写字母、数字和连字符）",
    )
    parser.add_argument("--title", required=True, help="文章标题")
    parser.add_argument(
        "--section", required=True, help="nav 中的栏目名，例如 基础"
    )
    parser.add_argument(
        "--new-section",
        action="store_true",
        help="--section 是新栏目：在 nav 末尾新建它（否则栏目必须已存在）",
    )
    parser.add_argument(
        "--term",
        action="append",
        default=[],
        metavar="中文=English",
        help="加入术语表的术语，可重复",
    )
    args = parser.parse_args(argv)
    try:
        if not re.fullmatch(r"[a-z0-9-]+/[a-z0-9-]+", args.name):
            raise UsageError(
                "名字必须形如 栏目/文件名（小写字母、数字、连字符）："
                + args.name
            )
        terms = []
        for t in args.term:
            zh, sep, en = t.partition("=")
            if not sep or not zh.strip() or not en.strip():
                raise UsageError(f"术语必须写成 中文=English：{t}")
            terms.append((zh.strip(), en.strip()))
        sections = nav_sections(MKDOCS_YML.read_text(encoding="utf-8"))
        if args.section not in sections and not args.new_section:
            raise UsageError(
                f"nav 里没有“{args.section}”栏目；现有栏目："
                + "、".join(sections)
                + "。要新建栏目请加 --new-section"
            )
        folder, stem = args.name.split("/")
        page = DOCS / folder / f"{stem}.md"
        snippet = SNIPPETS / folder / f"{stem.replace('-', '_')}.py"
        for f in (page, snippet):
            if f.exists():
                raise UsageError(f"文件已存在，不覆盖：{rel(f)}")
        snippet_rel = rel(snippet)
        page.parent.mkdir(parents=True, exist_ok=True)
        snippet.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(
            PAGE_TEMPLATE.format(title=args.title, snippet_rel=snippet_rel),
            encoding="utf-8",
        )
        snippet.write_text(
            SNIPPET_TEMPLATE.format(title=args.title), encoding="utf-8"
        )
        MKDOCS_YML.write_text(
            add_nav_entry(
                MKDOCS_YML.read_text(encoding="utf-8"),
                args.section,
                args.title,
                f"{folder}/{stem}.md",
            ),
            encoding="utf-8",
        )
        if terms:
            GLOSSARY.write_text(
                add_glossary_rows(
                    GLOSSARY.read_text(encoding="utf-8"),
                    terms,
                    args.title,
                    f"{folder}/{stem}.md",
                ),
                encoding="utf-8",
            )
    except UsageError as err:
        print(f"用法错误：{err}", file=sys.stderr)
        return 2
    print(
        f"已创建 {rel(page)} 和 {snippet_rel}，"
        f"并加入了 nav 的“{args.section}”栏目。"
    )
    print(
        "下一步：bash scripts/serve.sh 预览，"
        f"bash scripts/check.sh {rel(page)} 检查。"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
