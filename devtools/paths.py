"""仓库里的位置，以及“要么完整写入、要么不写”的文件写入。

devtools、scripts/ 下的 Python 脚本、benchmarks/ 与 tests/site/ 都从这里取
``ROOT``，不再各自计算。只用标准库：按文件路径加载的脚本（MkDocs 钩子、
``scripts/build_corpus.py``）把仓库根目录加进 ``sys.path`` 后就能导入。
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

#: 仓库根目录
ROOT = Path(__file__).resolve().parent.parent
#: 文章（Markdown 与 jupytext 笔记本）
DOCS = ROOT / "docs"
#: 文章整文件嵌入的代码片段
SNIPPETS = ROOT / "snippets"


def rel(path: Path | str) -> str:
    """相对仓库根目录的路径（用于报告里的 ``文件:行号``）。

    仓库外的文件返回绝对路径。
    """
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(ROOT).as_posix()
    except ValueError:
        return str(resolved)


def doc_pages(docs_dir: Path = DOCS) -> list[Path]:
    """文档目录下的全部页面：Markdown 文章与 jupytext 笔记本（.py）。"""
    return sorted(
        p
        for p in Path(docs_dir).rglob("*")
        if p.suffix in (".md", ".py") and p.is_file()
    )


def write_atomic(path: Path | str, data: str | bytes) -> Path:
    """原子地写入文件：先写同目录下的临时文件，再 ``os.replace``。

    读者（另一个进程、下一次构建）要么看到旧文件，要么看到完整的新文件，
    写到一半失败不会留下半个文件。文本按 UTF-8 写；缺的上级目录会创建。
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # 临时文件名带进程号和随机数：并行的进程互不覆盖；"x" 模式按 umask 定权限
    tmp = path.with_name(
        f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    )
    try:
        with open(tmp, "xb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
