"""字节级 BPE 分词器：从 UTF-8 字节出发，反复合并最常相邻出现的一对。

算法见 Sennrich 等（2016）；从字节而不是字符出发、先用正则把文本切成段
再在段内合并，是 GPT-2（Radford 等，2019）的做法。讲解见本站文章
``docs/llm/tokenization.md``。

词表的编号：0..255 是单个字节，256 起是按学到的先后排列的合并结果，
最后是特殊词元（如 ``<|endoftext|>``）。
"""

from __future__ import annotations

import heapq
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from tinymodels._contract import fmt, is_int, require
from tinymodels.checkpoint import _atomic_write, _path

__all__ = ["BPETokenizer"]

#: 保存文件的格式标识。
FORMAT = "tinymodels-bpe-v1"

# 汉字：基本区、扩展 A、兼容区，以及扩展 B 起的整个第二、三平面
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"

#: 预分词的正则：合并只在一段之内发生，永远不跨段。
PATTERN = (
    rf" ?[{_HAN}]+"  # 连续的汉字：可以学出“模型”“训练”这样的词
    rf"| ?[^\W\d_{_HAN}]+"  # 其他文字的字母（拉丁、希腊……），与汉字分开
    r"| ?\d{1,3}"  # 数字最多 3 位一段，免得学出一大堆具体的数
    r"| ?(?:[^\s\w]|_)+"  # 标点与符号（含全角标点、组合附加符号）
    r"|\s+(?!\S)|\s+"  # 空白：连续空白的最后一个空格留给下一段
)
_SPLIT = re.compile(PATTERN)


def _pairs(ids: list[int]) -> Iterable[tuple[int, int]]:
    return zip(ids, ids[1:])


def _merge(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """把 ``ids`` 里从左到右每一处不重叠的 ``pair`` 换成 ``new_id``。"""
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def _learn_merges(
    words: list[list[int]], freqs: list[int], num_merges: int
) -> list[tuple[int, int]]:
    """在词频表上学 ``num_merges`` 次合并（对用完时提前停止）。

    每次合并只更新含有这一对的词：``stats`` 是每一对的加权次数，
    ``where`` 记着每一对出现在哪些词里，最大的一对用堆找。
    次数相同时取编号最小的一对（先比左边，再比右边），结果确定。
    """
    stats: dict[tuple[int, int], int] = defaultdict(int)
    where: dict[tuple[int, int], set[int]] = defaultdict(set)
    for i, (w, f) in enumerate(zip(words, freqs)):
        for pair in _pairs(w):
            stats[pair] += f
            where[pair].add(i)
    # 堆里是 (−次数, 对)；次数变了就压入新记录，旧记录弹出时发现不符再丢掉
    heap = [(-n, pair) for pair, n in stats.items()]
    heapq.heapify(heap)
    merges: list[tuple[int, int]] = []
    while heap and len(merges) < num_merges:
        neg, pair = heapq.heappop(heap)
        if stats.get(pair, 0) != -neg:
            continue  # 过期的记录
        new_id = 256 + len(merges)
        merges.append(pair)
        changed = set()
        for i in sorted(where.pop(pair)):
            old, f = words[i], freqs[i]
            new = _merge(old, pair, new_id)
            if len(new) == len(old):
                continue  # 这个词里的这一对早已被别的合并拆散
            # 这个词里每一对的个数变了多少：只有合并处两旁的对会变
            delta: dict[tuple[int, int], int] = defaultdict(int)
            for p in _pairs(old):
                delta[p] -= 1
            for p in _pairs(new):
                delta[p] += 1
            for p, d in delta.items():
                if d != 0:
                    stats[p] += d * f
                    changed.add(p)
                    if d > 0:
                        where[p].add(i)
            words[i] = new
        for p in changed:
            if stats[p] > 0:
                heapq.heappush(heap, (-stats[p], p))
            else:
                del stats[p]
    return merges


class BPETokenizer:
    """字节级 BPE 分词器。

    ``BPETokenizer.train(text, vocab_size)`` 从文本学出合并规则；
    构造函数用已有的合并规则（如 ``load`` 读回的）建立分词器。
    任何字符串都能编码（最差退回单个字节），``decode(encode(s)) == s``。

    Args:
        merges: 合并规则，按学到的先后排列：第 r 条 ``(a, b)`` 把相邻的
            词元 a、b 合成新词元 ``256 + r``，a、b 必须是更早的词元。
        special_tokens: 特殊词元的字符串，如 ``"<|endoftext|>"``；它们
            排在词表最后，编码时整体作为一个词元，从不与别的字节合并。

    Examples:
        >>> tok = BPETokenizer.train("低头 低低 头头", 258)
        >>> tok.decode(tok.encode("头低"))
        '头低'
    """

    #: 预分词的正则表达式（字符串），见模块里的 ``PATTERN``。
    PATTERN = PATTERN

    def __init__(
        self,
        merges: Iterable[tuple[int, int]] = (),
        special_tokens: Iterable[str] = (),
    ):
        merges = [tuple(m) for m in merges]
        seen = set()
        for r, m in enumerate(merges):
            ok = len(m) == 2 and all(is_int(t) and t < 256 + r for t in m)
            require(
                ok and m not in seen,
                f"BPETokenizer: merges 的第 {r} 条应为两个早于它的词元编号"
                f"（< {256 + r}）且不重复，实际为 {m!r}",
            )
            seen.add(m)
        self.merges: list[tuple[int, int]] = merges
        self.special_tokens: dict[str, int] = {}
        self._ranks = {m: 256 + r for r, m in enumerate(merges)}
        #: 每个编号对应的字节串
        self.vocab: list[bytes] = [bytes([b]) for b in range(256)]
        for a, b in merges:
            self.vocab.append(self.vocab[a] + self.vocab[b])
        for s in _check_specials(special_tokens, "BPETokenizer"):
            self.special_tokens[s] = len(self.vocab)
            self.vocab.append(s.encode("utf-8"))
        self._cache: dict[str, list[int]] = {}

    # ------------------------------------------------------------ 训练
    @classmethod
    def train(
        cls, text: str, vocab_size: int, special_tokens: Iterable[str] = ()
    ) -> BPETokenizer:
        """在 ``text`` 上学合并规则，直到词表有 ``vocab_size`` 个词元。

        文本先按特殊词元切开（特殊词元本身不参与训练），再预分词，
        统计每一段出现几次（词频表），然后在词频表上反复合并。
        相邻的对用完时提前停止，此时词表小于 ``vocab_size``。

        Args:
            text: 训练文本。
            vocab_size: 词表大小，含 256 个字节和特殊词元。
            special_tokens: 特殊词元的字符串。

        Returns:
            BPETokenizer: 训练好的分词器。
        """
        require(
            isinstance(text, str),
            "BPETokenizer.train: text 应为字符串，"
            f"实际为 {type(text).__name__}",
        )
        specials = _check_specials(special_tokens, "BPETokenizer.train")
        low = 256 + len(specials)
        require(
            is_int(vocab_size) and vocab_size >= low,
            f"BPETokenizer.train: vocab_size 至少为 256 + {len(specials)}"
            f"（字节 + 特殊词元）= {low}，实际为 {vocab_size!r}",
        )
        counts: Counter[str] = Counter()
        for piece in _split_specials(text, specials)[::2]:
            counts.update(_SPLIT.findall(piece))
        words = [list(w.encode("utf-8")) for w in counts]
        merges = _learn_merges(words, list(counts.values()), vocab_size - low)
        return cls(merges, specials)

    # ------------------------------------------------------------ 编码
    @property
    def vocab_size(self) -> int:
        """词表大小：256 个字节 + 合并 + 特殊词元。"""
        return len(self.vocab)

    def __len__(self) -> int:
        return self.vocab_size

    def __repr__(self) -> str:
        return (
            f"BPETokenizer(vocab_size={self.vocab_size}, "
            f"merges={len(self.merges)}, "
            f"special_tokens={list(self.special_tokens)})"
        )

    @staticmethod
    def pretokenize(text: str) -> list[str]:
        """按 ``PATTERN`` 把文本切成段；各段连起来就是原文。"""
        return _SPLIT.findall(text)

    def _encode_chunk(self, chunk: str) -> list[int]:
        """一段文字：从字节出发，每次合并排名最靠前（最早学到）的一对。"""
        ids = list(chunk.encode("utf-8"))
        while len(ids) >= 2:
            pair = min(_pairs(ids), key=lambda p: self._ranks.get(p, 1 << 62))
            if pair not in self._ranks:
                break  # 没有可合并的对了
            ids = _merge(ids, pair, self._ranks[pair])
        return ids

    def encode(self, text: str, special: str | Iterable[str] = "all"):
        """把字符串编码成词元编号。

        Args:
            text: 任意字符串。
            special: 文本里的哪些特殊词元字符串编成特殊词元：``"all"``
                （全部，默认）、``"none"``（都当普通文字逐字节编码），或
                已登记的特殊词元组成的集合。把用户输入的文字编成特殊词元
                会让用户伪造对话格式，这样的文字请用 ``"none"``。

        Returns:
            list[int]: 词元编号。
        """
        require(
            isinstance(text, str),
            "BPETokenizer.encode: text 应为字符串，"
            f"实际为 {type(text).__name__}",
        )
        allowed = self._allowed(special)
        ids: list[int] = []
        pieces = _split_specials(text, allowed)
        for k, piece in enumerate(pieces):
            if k % 2 == 1:  # 奇数位置是切出来的特殊词元
                ids.append(self.special_tokens[piece])
                continue
            for chunk in _SPLIT.findall(piece):
                if chunk not in self._cache:
                    if len(self._cache) >= 100_000:
                        self._cache.clear()
                    self._cache[chunk] = self._encode_chunk(chunk)
                ids.extend(self._cache[chunk])
        return ids

    def _allowed(self, special) -> list[str]:
        if isinstance(special, str) and special in ("all", "none"):
            return list(self.special_tokens) if special == "all" else []
        ok = not isinstance(special, str) and isinstance(special, Iterable)
        require(
            ok,
            "BPETokenizer.encode: special 应为 'all'、'none' 或特殊词元"
            f"字符串的集合，实际为 {special!r}",
        )
        special = list(special)
        for s in special:
            require(
                s in self.special_tokens,
                f"BPETokenizer.encode: special 里的 {s!r} 不是已登记的"
                f"特殊词元（已登记：{list(self.special_tokens)}）",
            )
        return special

    def decode(self, ids) -> str:
        """把词元编号解码回字符串。

        不完整的 UTF-8 字节序列（例如只有半个汉字的词元单独解码）
        显示为替换字符 U+FFFD。

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
        bad = arr[(arr < 0) | (arr >= self.vocab_size)] if ok else arr
        require(
            ok and bad.size == 0,
            f"BPETokenizer.decode: ids 应为 [0, {self.vocab_size}) 内的一维"
            f"整数序列，实际形状 {fmt(arr.shape)}、dtype {arr.dtype}"
            + (f"，越界的编号如 {bad.flat[0]}" if ok and bad.size else ""),
        )
        data = b"".join(self.vocab[i] for i in arr.tolist())
        return data.decode("utf-8", errors="replace")

    # ------------------------------------------------------------ 保存
    def save(self, path) -> Path:
        """把合并规则与特殊词元写成 JSON（原子写入）。

        Args:
            path: 文件路径。

        Returns:
            Path: 写入的路径。
        """
        path = _path(path, "BPETokenizer.save")
        data = {
            "format": FORMAT,
            "pattern": PATTERN,
            "merges": [list(m) for m in self.merges],
            "special_tokens": list(self.special_tokens),
        }
        text = json.dumps(data, ensure_ascii=False, indent=1)
        _atomic_write(path, text.encode("utf-8"))
        return path

    @classmethod
    def load(cls, path) -> BPETokenizer:
        """读回 ``save`` 写的文件。

        Args:
            path: 文件路径。

        Returns:
            BPETokenizer: 与保存时编码完全相同的分词器。
        """
        path = _path(path, "BPETokenizer.load")
        require(path.is_file(), f"BPETokenizer.load: path 文件不存在：{path}")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(
                f"BPETokenizer.load: {path} 不是 JSON：{e}"
            ) from None
        ok = isinstance(data, dict) and data.get("format") == FORMAT
        require(
            ok,
            f"BPETokenizer.load: {path} 不是 BPETokenizer.save 写的文件"
            f"（format 应为 {FORMAT!r}）",
        )
        require(
            data.get("pattern") == PATTERN,
            f"BPETokenizer.load: {path} 的预分词正则与本版本不同，"
            "编码结果会不一致",
        )
        return cls(data["merges"], data["special_tokens"])


def _check_specials(special_tokens, where: str) -> list[str]:
    ok = not isinstance(special_tokens, str) and isinstance(
        special_tokens, Iterable
    )
    specials = list(special_tokens) if ok else []
    ok = ok and all(isinstance(s, str) and s != "" for s in specials)
    require(
        ok and len(set(specials)) == len(specials),
        f"{where}: special_tokens 应为互不重复的非空字符串列表，"
        f"实际为 {special_tokens!r}",
    )
    return specials


def _split_specials(text: str, specials: list[str]) -> list[str]:
    """按特殊词元切开：偶数位置是普通文字，奇数位置是特殊词元。"""
    if not specials:
        return [text]
    # 长的排在前面：一个特殊词元是另一个的前缀时，优先匹配长的
    alts = sorted(specials, key=len, reverse=True)
    return re.split("(" + "|".join(map(re.escape, alts)) + ")", text)
