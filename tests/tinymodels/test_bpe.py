"""BPETokenizer 的测试：往返、对照暴力实现、手算例子、保存与错误消息。"""

from __future__ import annotations

import json
import random
from collections import Counter

import numpy as np
import pytest
from tinygrad import Tensor

from tinymodels import BPETokenizer, load_corpus

SPECIALS = ["<|endoftext|>", "<|user|>", "<|assistant|>"]


# ---------------------------------------------------------------- 暴力参照
# 每次合并都从头重新统计全部相邻对：慢，但一眼能看出是对的。


def naive_train(text: str, num_merges: int) -> list[tuple[int, int]]:
    counts = Counter(BPETokenizer.pretokenize(text))
    words = [list(w.encode("utf-8")) for w in counts]
    freqs = list(counts.values())
    merges = []
    for _ in range(num_merges):
        stats = Counter()
        for w, f in zip(words, freqs):
            for pair in zip(w, w[1:]):
                stats[pair] += f
        if not stats:
            break
        # 次数最多；相同时取编号最小的一对
        best = min(stats, key=lambda p: (-stats[p], p))
        new_id = 256 + len(merges)
        merges.append(best)
        words = [naive_merge(w, best, new_id) for w in words]
    return merges


def naive_merge(ids, pair, new_id):
    out, i = [], 0
    while i < len(ids):
        if ids[i : i + 2] == list(pair):
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def naive_encode(text: str, merges) -> list[int]:
    """按学到的先后，把每条合并规则依次用在每一段上。"""
    ids = []
    for chunk in BPETokenizer.pretokenize(text):
        w = list(chunk.encode("utf-8"))
        for r, pair in enumerate(merges):
            w = naive_merge(w, pair, 256 + r)
        ids += w
    return ids


# ---------------------------------------------------------------- 随机文本

_POOLS = [
    "abcdefg xyz",  # 字母少：常有并列的对，考验确定的并列规则
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出",
    "".join(chr(c) for c in range(0x20000, 0x20010)),  # 扩展 B（4 字节）
    "😀😂👍🏽👨‍👩‍👧🇨🇳",  # emoji、肤色修饰、零宽连接符、旗帜
    "e\u0301a\u0308n\u0303",  # 组合附加符号
    "αβγ абв مرحبا שלום",  # 其他文字
    " \t\n\r\u3000\u00a0  ",  # 各种空白，含全角空格
    "0123456789",
    "，。！？：；（）“”、_-+=*/\\'\"",
]


def random_text(rng: random.Random, specials=()) -> str:
    parts = []
    for _ in range(rng.randint(0, 12)):
        if specials and rng.random() < 0.1:
            parts.append(rng.choice(specials))
            continue
        pool = rng.choice(_POOLS)
        parts.append("".join(rng.choices(pool, k=rng.randint(1, 8))))
    if rng.random() < 0.2:  # 任意码位（不含代理项）
        cps = [rng.randrange(0x110000) for _ in range(5)]
        parts.append("".join(chr(c) for c in cps if not 0xD800 <= c < 0xE000))
    return "".join(parts)


@pytest.fixture(scope="module")
def tok() -> BPETokenizer:
    return BPETokenizer.train(load_corpus()[:6000], 400, SPECIALS)


# ---------------------------------------------------------------- 往返


def test_pretokenize_covers_every_character():
    rng = random.Random(0)
    for _ in range(500):
        s = random_text(rng)
        assert "".join(BPETokenizer.pretokenize(s)) == s


def test_decode_encode_round_trip_on_random_unicode(tok):
    rng = random.Random(1)
    for _ in range(500):
        s = random_text(rng, SPECIALS)
        for special in ("all", "none"):
            ids = tok.encode(s, special=special)
            assert all(0 <= i < tok.vocab_size for i in ids)
            assert tok.decode(ids) == s, (s, special)


def test_round_trip_on_the_corpus_and_edge_cases(tok):
    text = load_corpus()
    assert tok.decode(tok.encode(text)) == text
    for s in ["", " ", "\n\n\n", "   x", "𠀀𠀁", "a" * 1000, "<|user", "|>"]:
        assert tok.decode(tok.encode(s)) == s


def test_special_tokens_are_single_ids_only_when_allowed(tok):
    s = "<|user|>你好<|assistant|>模型<|endoftext|>"
    ids = tok.encode(s)
    specials = [i for i in ids if i >= tok.vocab_size - 3]
    assert specials == [
        tok.special_tokens[t] for t in SPECIALS[1:] + [SPECIALS[0]]
    ]
    only_user = tok.encode(s, special={"<|user|>"})
    assert tok.special_tokens["<|user|>"] in only_user
    assert tok.special_tokens["<|assistant|>"] not in only_user
    plain = tok.encode(s, special="none")
    assert max(plain) < 256 + len(tok.merges)  # 全是普通词元
    assert tok.decode(plain) == tok.decode(ids) == s


def test_training_ignores_special_tokens():
    text = "<|endoftext|>ab ab<|endoftext|>" * 50
    tok = BPETokenizer.train(text, 300, ["<|endoftext|>"])
    learned = tok.vocab[256 : 256 + len(tok.merges)]
    assert all(b"<|" not in t and b"|>" not in t for t in learned)
    assert len(tok.merges) == 2  # 只有 "ab" 与 " ab" 两段可学：a+b、␣+ab
    assert tok.vocab_size == 256 + 2 + 1  # 对用完了，提前停止


# ------------------------------------------------------------ 对照暴力实现


@pytest.mark.parametrize("seed", range(8))
def test_merges_and_encodings_match_the_brute_force_reference(seed):
    rng = random.Random(seed)
    text = "".join(random_text(rng) for _ in range(30))
    tok = BPETokenizer.train(text, 256 + 40)
    assert tok.merges == naive_train(text, 40)
    for _ in range(20):
        s = random_text(rng)
        assert tok.encode(s) == naive_encode(s, tok.merges)


def test_merges_match_the_reference_on_a_corpus_slice():
    text = load_corpus()[:2000]
    tok = BPETokenizer.train(text, 256 + 60)
    assert tok.merges == naive_train(text, 60)
    assert tok.encode(text) == naive_encode(text, tok.merges)


def test_training_is_deterministic():
    text = load_corpus()[:3000]
    a = BPETokenizer.train(text, 350)
    b = BPETokenizer.train(text, 350)
    assert a.merges == b.merges


# ------------------------------------------------------------ 页面的手算例子


def test_hand_worked_example_from_the_page():
    # docs/llm/tokenization.md：data×6、date×4、gate×3、later×2，每行一个词
    words = ["data"] * 6 + ["date"] * 4 + ["gate"] * 3 + ["later"] * 2
    tok = BPETokenizer.train("\n".join(words), 256 + 5)
    got = [tok.vocab[256 + r].decode() for r in range(5)]
    assert got == ["at", "dat", "data", "ate", "date"]
    a, t, d, e = b"a"[0], b"t"[0], b"d"[0], b"e"[0]
    assert tok.merges == [(a, t), (d, 256), (257, a), (256, e), (257, e)]
    # “date” 是 dat + e，不是 d + ate：先学到的合并先用
    assert tok.encode("date") == [260]
    assert [tok.vocab[i] for i in tok.encode("gate")] == [b"g", b"ate"]


# ---------------------------------------------------------------- 保存与读取


def test_save_load_round_trip(tok, tmp_path):
    path = tok.save(tmp_path / "tok.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["special_tokens"] == SPECIALS
    assert [p.name for p in tmp_path.iterdir()] == ["tok.json"]  # 无临时文件
    back = BPETokenizer.load(path)
    assert back.merges == tok.merges
    assert back.special_tokens == tok.special_tokens
    rng = random.Random(2)
    for _ in range(50):
        s = random_text(rng, SPECIALS)
        assert back.encode(s) == tok.encode(s)


def test_decode_accepts_arrays_and_tensors(tok):
    ids = tok.encode("分词器")
    assert tok.decode(np.array(ids)) == "分词器"
    assert tok.decode(Tensor(ids)) == "分词器"
    # 单独解码半个汉字：替换字符，不报错
    assert tok.decode([0xE5]) == "\ufffd"


# ---------------------------------------------------------------- 错误消息


def test_errors_name_the_argument(tok, tmp_path):
    with pytest.raises(ValueError, match="vocab_size.*259.*258"):
        BPETokenizer.train("abc", 258, ["<a>", "<b>", "<c>"])
    with pytest.raises(ValueError, match="special_tokens"):
        BPETokenizer.train("abc", 300, ["<a>", "<a>"])
    with pytest.raises(ValueError, match="special_tokens"):
        BPETokenizer([], "<|endoftext|>")
    with pytest.raises(ValueError, match="special.*<\\|system\\|>"):
        tok.encode("hi", special={"<|system|>"})
    with pytest.raises(ValueError, match="special"):
        tok.encode("hi", special="some")
    with pytest.raises(ValueError, match="text"):
        tok.encode(b"bytes")
    with pytest.raises(ValueError, match=f"ids.*{tok.vocab_size}"):
        tok.decode([1, tok.vocab_size])
    with pytest.raises(ValueError, match="ids"):
        tok.decode([-1])
    with pytest.raises(ValueError, match="ids"):
        tok.decode([[1, 2]])
    with pytest.raises(ValueError, match="merges"):
        BPETokenizer([(97, 300)])
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "other"}', encoding="utf-8")
    with pytest.raises(ValueError, match="format"):
        BPETokenizer.load(bad)
    with pytest.raises(ValueError, match="path"):
        BPETokenizer.load(tmp_path / "missing.json")
