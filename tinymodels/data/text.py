"""字符级文本数据：分词器、随包附带的中文语料、语言模型训练窗口。

语料 ``corpus_zh.txt`` 由 ``scripts/build_corpus.py`` 从本站的中文文章
（``docs/**/*.md``）生成：去掉 YAML 头、代码块、公式、HTML 与链接地址。
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from tinymodels._contract import fmt, is_int, require

__all__ = [
    "CORPUS_PATH",
    "CharTokenizer",
    "load_corpus",
    "next_token_windows",
]

#: 随包附带的中文语料文件路径。
CORPUS_PATH = Path(__file__).with_name("corpus_zh.txt")


class CharTokenizer:
    """字符级分词器：每个字符（Unicode 码位）对应一个整数编号。

    词表是 ``text`` 里出现过的字符，按码位排序，同一文本总得到同一词表。
    ``unk=None`` 时编码词表外的字符报错；给出 ``unk``（如 ``"<unk>"``）时
    编号 0 留给未知字符，``decode`` 还原成 ``unk``。

    Args:
        text: 用来建立词表的非空文本。
        unk: 未知字符的占位符；``None`` 表示遇到未知字符时报错。

    Examples:
        >>> tok = CharTokenizer("你好，世界")
        >>> tok.decode(tok.encode("世界你好"))
        '世界你好'
    """

    def __init__(self, text: str, *, unk: str | None = None):
        require(
            isinstance(text, str) and text != "",
            f"CharTokenizer: text 应为非空字符串，实际为 {text!r:.40}",
        )
        self._init_vocab(sorted(set(text)), unk)

    def _init_vocab(self, chars: list[str], unk: str | None) -> None:
        require(
            unk is None or (isinstance(unk, str) and unk != ""),
            f"CharTokenizer: unk 应为非空字符串或 None，实际为 {unk!r}",
        )
        self.unk = unk
        # 有 unk 时编号 0 给未知字符，真实字符从 1 开始
        self.itos: list[str] = ([] if unk is None else [unk]) + list(chars)
        offset = 0 if unk is None else 1
        self.stoi = {ch: i + offset for i, ch in enumerate(chars)}

    @classmethod
    def from_vocab(
        cls, chars: Iterable[str], *, unk: str | None = None
    ) -> CharTokenizer:
        """按给定字符顺序建立分词器（从检查点元数据恢复同一词表）。

        Args:
            chars: 互不重复的单个字符，顺序即编号顺序。
            unk: 同构造函数。

        Returns:
            CharTokenizer: 新的分词器。
        """
        chars = list(chars)
        single = all(isinstance(c, str) and len(c) == 1 for c in chars)
        require(
            chars != [] and single and len(set(chars)) == len(chars),
            "CharTokenizer.from_vocab: chars 应为互不重复的单个字符，"
            f"实际为 {chars[:5]!r}（共 {len(chars)} 个）",
        )
        tok = cls.__new__(cls)
        tok._init_vocab(chars, unk)
        return tok

    @property
    def chars(self) -> list[str]:
        """词表中的真实字符（不含 unk 占位符），按编号顺序。"""
        return self.itos[1:] if self.unk is not None else list(self.itos)

    @property
    def vocab_size(self) -> int:
        """词表大小（含 unk 占位符），即模型输出的类别数。"""
        return len(self.itos)

    def __len__(self) -> int:
        return self.vocab_size

    def __repr__(self) -> str:
        return (
            f"CharTokenizer(vocab_size={self.vocab_size}, unk={self.unk!r})"
        )

    def encode(self, text: str) -> list[int]:
        """把字符串编码成整数列表（要数组时用 ``np.array(tok.encode(s))``）。

        Args:
            text: 任意字符串，可以为空。

        Returns:
            list[int]: 长度为 ``len(text)`` 的编号。
        """
        require(
            isinstance(text, str),
            "CharTokenizer.encode: text 应为字符串，"
            f"实际为 {type(text).__name__}",
        )
        if self.unk is not None:
            return [self.stoi.get(ch, 0) for ch in text]
        try:
            return [self.stoi[ch] for ch in text]
        except KeyError as e:
            ch = e.args[0]
            raise ValueError(
                f"CharTokenizer.encode: 字符 {ch!r}（位置 {text.index(ch)}）"
                "不在词表中；构造时传 unk='<unk>' 可把未知字符编为 0"
            ) from None

    def decode(self, ids) -> str:
        """把整数序列解码回字符串。

        Args:
            ids: 一维整数序列：list、NumPy 数组或 tinygrad Tensor。

        Returns:
            str: 解码结果。
        """
        if hasattr(ids, "numpy") and not isinstance(ids, np.ndarray):
            ids = ids.numpy()  # tinygrad Tensor
        arr = np.asarray(ids)
        ok = arr.ndim == 1 and (
            arr.size == 0 or np.issubdtype(arr.dtype, np.integer)
        )
        require(
            ok and ((arr >= 0) & (arr < self.vocab_size)).all(),
            f"CharTokenizer.decode: ids 应为 [0, {self.vocab_size}) 内的一维"
            f"整数序列，实际形状 {fmt(arr.shape)}、dtype {arr.dtype}",
        )
        return "".join(self.itos[i] for i in arr.tolist())


def load_corpus(path: str | Path | None = None) -> str:
    """读取中文语料文本。

    Args:
        path: 语料文件路径；``None`` 表示随包附带的 ``corpus_zh.txt``。

    Returns:
        str: 整个文件的内容。
    """
    p = CORPUS_PATH if path is None else Path(path)
    if not p.is_file():
        raise FileNotFoundError(
            f"load_corpus: 找不到语料文件 {p}；"
            "可运行 python scripts/build_corpus.py 重新生成"
        )
    text = p.read_text(encoding="utf-8")
    require(text.strip() != "", f"load_corpus: 语料文件 {p} 为空")
    return text


def next_token_windows(
    ids, block_size: int, stride: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """把一长串编号切成语言模型的训练窗口：输入与右移一位的目标。

    第 i 个窗口从 ``s = i*stride`` 开始：``X[i] = ids[s : s+block_size]``，
    ``Y[i] = ids[s+1 : s+block_size+1]``，即每个位置的目标是下一个字符。

    Args:
        ids: 一维整数序列（如 ``tok.encode(text)``），长于 ``block_size``。
        block_size: 窗口长度（上下文长度）。
        stride: 相邻窗口起点的间隔，默认等于 ``block_size``（互不重叠）。

    Returns:
        ``(X, Y)``：都是 (N, block_size) 的 int64。
    """
    stride = block_size if stride is None else stride
    require(
        is_int(block_size, 1) and is_int(stride, 1),
        "next_token_windows: block_size、stride 应为正整数，"
        f"实际为 {block_size!r}、{stride!r}",
    )
    arr = np.asarray(ids)
    require(
        arr.ndim == 1
        and arr.size > block_size
        and np.issubdtype(arr.dtype, np.integer),
        f"next_token_windows: ids 应为长度 > block_size={block_size} 的"
        f"一维整数序列，实际形状 {fmt(arr.shape)}、dtype {arr.dtype}",
    )
    starts = np.arange(0, arr.size - block_size, stride)  # (N,)
    offsets = np.arange(block_size)  # (block_size,)
    X = arr[starts[:, None] + offsets].astype(np.int64)
    Y = arr[starts[:, None] + offsets + 1].astype(np.int64)
    return X, Y
