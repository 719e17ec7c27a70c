"""字符级文本数据：分词器、随包附带的中文语料，以及语言模型训练窗口。

语料 ``corpus_zh.txt`` 由 ``scripts/build_corpus.py`` 从本站自己的中文文章
（``docs/**/*.md``）生成：去掉 YAML 头、代码块、公式、HTML 与链接地址，只保留中文正文。
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np

from .._checks import check_positive_int

__all__ = ["CharTokenizer", "load_corpus", "next_token_windows", "CORPUS_PATH"]

#: 随包附带的中文语料文件路径。
CORPUS_PATH = Path(__file__).with_name("corpus_zh.txt")


class CharTokenizer:
    """字符级分词器：每个字符（Unicode 码位）对应一个整数编号。

    词表由构造时给定文本中出现过的字符组成，按码位排序，因此同一文本总得到同一词表。

    遇到词表之外的字符时有两种策略（构造时选定）：

    * ``unk=None``（默认）：``encode`` 抛出 ValueError，指出是哪个字符、在第几个位置；
    * ``unk="<unk>"``（或任意字符串）：编号 0 保留给未知字符，未知字符一律编码为 0，
      ``decode`` 时还原成 ``unk`` 字符串。

    Args:
        text: 用来建立词表的文本，至少含一个字符。
        unk: 未知字符的占位符；为 None 时遇到未知字符报错。

    Raises:
        ValueError: ``text`` 不是非空字符串，或 ``unk`` 不是非空字符串/None。

    Examples:
        >>> tok = CharTokenizer("你好，世界")
        >>> tok.decode(tok.encode("世界你好")) == "世界你好"
        True
    """

    def __init__(self, text: str, *, unk: str | None = None):
        if not isinstance(text, str) or not text:
            raise ValueError(f"text 必须是非空字符串，实际为 {type(text).__name__} 长度 {len(text) if isinstance(text, str) else '-'}")
        self._init_vocab(sorted(set(text)), unk)

    def _init_vocab(self, chars: list[str], unk: str | None) -> None:
        if unk is not None and (not isinstance(unk, str) or not unk):
            raise ValueError(f"unk 必须是非空字符串或 None，实际为 {unk!r}")
        self.unk = unk
        # 有 unk 时编号 0 给未知字符，真实字符从 1 开始编号
        self.itos: list[str] = ([unk] if unk is not None else []) + list(chars)
        offset = 1 if unk is not None else 0
        self.stoi: dict[str, int] = {ch: i + offset for i, ch in enumerate(chars)}

    @classmethod
    def from_vocab(cls, chars: Iterable[str], *, unk: str | None = None) -> "CharTokenizer":
        """按给定字符顺序直接建立分词器（用于从检查点元数据恢复同一词表）。

        Args:
            chars: 字符序列（每个元素是单个字符，不得重复），顺序即编号顺序。
            unk: 同构造函数。

        Returns:
            新的 CharTokenizer。

        Raises:
            ValueError: 元素不是单个字符、有重复，或为空。
        """
        chars = list(chars)
        if not chars:
            raise ValueError("chars 不能为空")
        bad = [c for c in chars if not isinstance(c, str) or len(c) != 1]
        if bad:
            raise ValueError(f"chars 的每个元素必须是单个字符，发现 {bad[:5]!r}")
        if len(set(chars)) != len(chars):
            raise ValueError("chars 中有重复字符")
        tok = cls.__new__(cls)
        tok._init_vocab(chars, unk)
        return tok

    @property
    def chars(self) -> list[str]:
        """词表中的真实字符（不含 unk 占位符），按编号顺序。"""
        return self.itos[1:] if self.unk is not None else list(self.itos)

    @property
    def vocab_size(self) -> int:
        """词表大小（含 unk 占位符时也计入），即模型输出的类别数。"""
        return len(self.itos)

    def __len__(self) -> int:
        return self.vocab_size

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size}, unk={self.unk!r})"

    def encode(self, text: str) -> list[int]:
        """把字符串编码成整数列表。

        Args:
            text: 任意字符串（可以为空）。

        Returns:
            长度等于 ``len(text)`` 的 ``list[int]``；需要数组时用 ``np.array(tok.encode(s))``。

        Raises:
            ValueError: ``text`` 不是字符串；或 ``unk=None`` 时遇到词表外字符。
        """
        if not isinstance(text, str):
            raise ValueError(f"text 必须是字符串，实际为 {type(text).__name__}")
        if self.unk is not None:
            return [self.stoi.get(ch, 0) for ch in text]
        try:
            return [self.stoi[ch] for ch in text]
        except KeyError as exc:
            pos = next(i for i, ch in enumerate(text) if ch not in self.stoi)
            raise ValueError(f"字符 {exc.args[0]!r}（位置 {pos}）不在词表中；"
                             "构造 CharTokenizer 时传入 unk='<unk>' 可把未知字符映射为编号 0") from None

    def decode(self, ids) -> str:
        """把整数序列解码回字符串。

        Args:
            ids: 一维整数序列：list、NumPy 数组或 tinygrad Tensor。

        Returns:
            解码后的字符串。

        Raises:
            ValueError: 不是一维序列，或含有超出 ``[0, vocab_size)`` 的编号。
        """
        if hasattr(ids, "numpy") and not isinstance(ids, np.ndarray):
            ids = ids.numpy()
        arr = np.asarray(ids)
        if arr.ndim != 1:
            raise ValueError(f"ids 必须是一维整数序列，实际形状 {arr.shape}")
        if arr.size == 0:
            return ""
        if not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"ids 必须是整数，实际 dtype 为 {arr.dtype}")
        bad = arr[(arr < 0) | (arr >= self.vocab_size)]
        if bad.size:
            raise ValueError(f"编号 {int(bad[0])} 超出词表范围 [0, {self.vocab_size})")
        return "".join(self.itos[i] for i in arr.tolist())


def load_corpus(path: str | Path | None = None) -> str:
    """读取中文语料文本。

    Args:
        path: 语料文件路径；为 None 时读取随包附带的 ``corpus_zh.txt``
            （由 ``scripts/build_corpus.py`` 从本站文章生成）。

    Returns:
        整个文件的内容（UTF-8 字符串）。

    Raises:
        FileNotFoundError: 文件不存在。
        ValueError: 文件为空。
    """
    p = CORPUS_PATH if path is None else Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"找不到语料文件 {p}；可运行 python scripts/build_corpus.py 重新生成")
    text = p.read_text(encoding="utf-8")
    if not text.strip():
        raise ValueError(f"语料文件 {p} 为空；请先运行 python scripts/build_corpus.py")
    return text


def next_token_windows(ids, block_size: int, stride: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """把一长串编号切成语言模型的训练窗口：输入与"右移一位"的目标。

    第 i 个窗口从 ``i*stride`` 开始：``X[i] = ids[s : s+block_size]``，
    ``Y[i] = ids[s+1 : s+block_size+1]``，即每个位置的目标是下一个字符。

    Args:
        ids: 一维整数序列（如 ``tok.encode(text)``），长度至少 ``block_size + 1``。
        block_size: 窗口长度（上下文长度），正整数。
        stride: 相邻窗口起点的间隔，默认等于 ``block_size``（互不重叠）。

    Returns:
        ``(X, Y)``：形状都是 (N, block_size)，int64。

    Raises:
        ValueError: 参数不合法或序列太短。
    """
    check_positive_int(block_size, "block_size", "next_token_windows")
    stride = block_size if stride is None else check_positive_int(stride, "stride", "next_token_windows")
    arr = np.asarray(ids)
    if arr.ndim != 1 or not (arr.size == 0 or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"ids 必须是一维整数序列，实际形状 {arr.shape}、dtype {arr.dtype}")
    if arr.size < block_size + 1:
        raise ValueError(f"序列长度 {arr.size} 太短：至少需要 block_size+1 = {block_size + 1}")
    starts = np.arange(0, arr.size - block_size, stride)
    offsets = np.arange(block_size)
    X = arr[starts[:, None] + offsets].astype(np.int64)
    Y = arr[starts[:, None] + offsets + 1].astype(np.int64)
    return X, Y
