"""tinymodels.evaluation 对照暴力枚举、math.comb 与照公式写的 NumPy。

* pass@k 等于枚举全部 k 元子集的比例，也等于组合数公式；边界与错误输入；
* 选项的逐词元对数概率等于同一 logits 上的 NumPy log-softmax 取值（逐条、
  不补齐地单独前向），补齐与分批不改变结果；
* 困惑度等于 exp(交叉熵)；三种打分与逐词元对数概率一致；错误消息写出
  参数名。

模型用很小的随机 TinyLlama（V = 23、C = 16、上下文 16），分词器是把
``a..w`` 映射到 ``0..22`` 的桩。
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from tinygrad import Tensor

from tinymodels import TinyLlama, cross_entropy, set_seed
from tinymodels.evaluation import (
    multiple_choice,
    option_logprobs,
    pass_at_k,
    perplexity,
    task_questions,
    token_logprobs,
)

V, BS = 23, 16


class Letters:
    """桩分词器：``a..w`` -> ``0..22``，每个字母一个词元。"""

    def encode(self, text: str) -> list[int]:
        return [ord(ch) - ord("a") for ch in text]


class Merging(Letters):
    """会把相邻的 ``de`` 合并成一个词元（编号 22）的桩分词器。"""

    def encode(self, text: str) -> list[int]:
        return super().encode(text.replace("de", "w"))


@pytest.fixture(scope="module")
def model():
    set_seed(0)
    return TinyLlama(
        V, block_size=BS, d_model=16, num_heads=4, num_kv_heads=2
    )


def log_softmax(z):
    z = np.asarray(z, np.float64)
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def reference_logprobs(model, seq):
    """单独一条、不补齐地前向，NumPy 的 log-softmax 取下一个词元。"""
    z = model(Tensor(np.array([seq], np.int32))).numpy()[0]  # (T, V)
    lp = log_softmax(z[:-1])  # (T-1, V)
    return lp[np.arange(len(seq) - 1), seq[1:]]  # (T-1,)


# ---------------------------------------------------------------- pass@k


def brute_force(n, c, k):
    """枚举 n 个样本（前 c 个正确）的全部 k 元子集，数含正确样本的比例。"""
    subsets = list(itertools.combinations(range(n), k))
    return sum(min(s) < c for s in subsets) / len(subsets)


def by_comb(n, c, k):
    return 1 - math.comb(n - c, k) / math.comb(n, k)


def test_pass_at_k_matches_brute_force():
    for n in range(1, 9):
        for c in range(n + 1):
            for k in range(1, n + 1):
                assert pass_at_k(n, c, k) == pytest.approx(
                    brute_force(n, c, k), abs=1e-12
                ), (n, c, k)


def test_pass_at_k_matches_comb_formula_at_scale():
    # n = 200、k <= 100 是 Chen 等（2021）的设置；math.comb 用精确整数
    rng = np.random.default_rng(0)
    for _ in range(300):
        n = int(rng.integers(1, 201))
        c, k = int(rng.integers(0, n + 1)), int(rng.integers(1, n + 1))
        assert pass_at_k(n, c, k) == pytest.approx(by_comb(n, c, k), abs=1e-9)
    # NumPy 写的同一公式（对数组合数），在大 n 上也一致
    lgam = np.vectorize(math.lgamma)
    n, k = 1000, 50
    c = np.arange(0, 951)
    logr = (
        lgam(n - c + 1) - lgam(n - c - k + 1) - lgam(n + 1) + lgam(n - k + 1)
    )
    want = 1 - np.exp(logr)
    got = np.array([pass_at_k(n, int(ci), k) for ci in c])
    np.testing.assert_allclose(got, want, atol=1e-9)


def test_pass_at_k_edges():
    assert pass_at_k(10, 0, 3) == 0.0  # 没有正确样本
    assert pass_at_k(10, 10, 3) == 1.0  # 全对
    assert pass_at_k(10, 8, 3) == 1.0  # n - c = 2 < k：必然取到正确的
    assert pass_at_k(10, 7, 3) == pytest.approx(1 - 1 / math.comb(10, 3))
    assert pass_at_k(5, 2, 1) == pytest.approx(2 / 5)  # pass@1 = c / n
    assert pass_at_k(1, 1, 1) == 1.0
    # 随 k 单调不减
    vals = [pass_at_k(50, 3, k) for k in range(1, 51)]
    assert all(a <= b + 1e-15 for a, b in zip(vals, vals[1:]))


@pytest.mark.parametrize(
    "n, c, k",
    [(0, 0, 1), (5, 6, 1), (5, 2, 0), (5, 2, 6), (5, -1, 1), (5.0, 2, 1),
     (5, 2, 1.5), (True, 0, 1), ("5", 2, 1)],
)  # fmt: skip
def test_pass_at_k_bad_input(n, c, k):
    with pytest.raises(ValueError, match="pass_at_k"):
        pass_at_k(n, c, k)


# ------------------------------------------------- 对数概率、困惑度、选择题
# 前向的形状尽量都是 (4, 8)（再加一次 (2, 8) 测分批），编译只做一两次。


def test_token_logprobs_and_perplexity(model):
    ids = np.random.default_rng(1).integers(0, V, (4, 8))
    logits = model(Tensor(ids.astype(np.int32)))  # (4, 8, V)
    lp_np = log_softmax(logits.numpy()[:, :-1])  # (4, 7, V)
    want = np.take_along_axis(lp_np, ids[:, 1:, None], -1)[..., 0]
    lp = token_logprobs(model, ids)
    assert lp.shape == (4, 7)
    np.testing.assert_allclose(lp, want, atol=1e-5)
    # 分批（2 + 2）不改变结果
    np.testing.assert_allclose(
        token_logprobs(model, ids, batch_size=2), lp, atol=1e-9
    )
    ppl = perplexity(model, ids)
    assert ppl == pytest.approx(math.exp(-want.mean()), rel=1e-6)
    # 与库里的交叉熵一致：PPL = exp(mean NLL)
    y = Tensor(ids[:, 1:].astype(np.int32))
    ce = cross_entropy(logits[:, :-1], y).item()
    assert ppl == pytest.approx(math.exp(ce), rel=1e-5)
    # 随机初始化的模型接近均匀猜测：PPL 约等于 V
    assert 0.8 * V < ppl < 1.25 * V


def test_option_logprobs_equals_numpy_gather(model):
    tok = Letters()
    prompt, options = "abcde", ["fgh", "i", "jk", "www"]  # 补齐到 T = 8
    got = option_logprobs(model, tok, prompt, options)
    # 参照：同样的序列，右边补的是随机词元而不是 0；因果掩码下选项的对数
    # 概率不受补齐内容影响
    rng = np.random.default_rng(2)
    ids = rng.integers(0, V, (4, 8))
    for r, o in enumerate(options):
        seq = tok.encode(prompt + o)
        ids[r, : len(seq)] = seq
    z = model(Tensor(ids.astype(np.int32))).numpy()  # (4, 8, V)
    lp_np = log_softmax(z[:, :-1])  # (4, 7, V)
    P = len(prompt)
    for r, (o, lp) in enumerate(zip(options, got)):
        m = len(o)
        # 选项第 j 个词元在 P+j，由位置 P+j-1 的 logits 给出
        want = lp_np[r, np.arange(P - 1, P - 1 + m), ids[r, P : P + m]]
        assert lp.shape == (m,)
        np.testing.assert_allclose(lp, want, atol=1e-5)


QS = [  # 每题 4 个选项，最长的 提示+选项 都是 8 个词元
    ("abcde", ["fgh", "i", "jk", "www"]),
    ("hello", ["abc", "d", "ef", "g"]),
    ("st", ["uvwabc", "q", "rr", "s"]),
]


def test_multiple_choice_scores(model):
    tok = Letters()
    out = multiple_choice(model, tok, QS, batch_size=4)
    small = multiple_choice(model, tok, QS, batch_size=2)  # 分批不影响结果
    for name in ("sum", "mean", "char"):
        assert out[name].shape == (3, 4)
        np.testing.assert_allclose(out[name], small[name], atol=1e-9)
    for i, (p, opts) in enumerate(QS):
        lps = option_logprobs(model, tok, p, opts)
        for j, lp in enumerate(lps):
            assert out["sum"][i, j] == pytest.approx(lp.sum(), abs=1e-5)
            assert out["mean"][i, j] == pytest.approx(lp.mean(), abs=1e-5)
            # 桩分词器一字一词元，所以按字符与按词元平均相同
            assert out["char"][i, j] == pytest.approx(lp.mean(), abs=1e-5)
    assert (out["sum"] < 0).all()  # 对数概率都是负的


def test_bad_input(model):
    tok = Letters()
    with pytest.raises(ValueError, match="ids"):
        token_logprobs(model, np.zeros((3,), np.int64))
    with pytest.raises(ValueError, match="ids"):
        token_logprobs(model, np.zeros((2, 1), np.int64))  # T = 1
    with pytest.raises(ValueError, match="ids"):
        token_logprobs(model, np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match="batch_size"):
        token_logprobs(model, np.zeros((2, 4), np.int64), batch_size=0)
    with pytest.raises(ValueError, match="选项数"):
        multiple_choice(model, tok, [("ab", ["c", "d"]), ("ab", ["c"])])
    with pytest.raises(ValueError, match="block_size=16"):
        option_logprobs(model, tok, "a" * 15, ["bc"])
    with pytest.raises(ValueError, match="questions"):
        multiple_choice(model, tok, [])
    with pytest.raises(ValueError, match="questions"):
        multiple_choice(model, tok, [("ab",)])
    with pytest.raises(ValueError, match="选项"):
        option_logprobs(model, tok, "ab", [])
    with pytest.raises(ValueError, match="非空字符串"):
        option_logprobs(model, tok, "ab", ["c", ""])
    with pytest.raises(ValueError, match="非空字符串"):
        option_logprobs(model, tok, "", ["c"])
    # 提示结尾与选项开头被 BPE 合并：报错，而不是给没见过的切法打分
    with pytest.raises(ValueError, match="分词边界"):
        option_logprobs(model, Merging(), "abcd", ["ef", "gh"])
    assert len(option_logprobs(model, Merging(), "abc", ["def"])[0]) == 2


def test_task_questions():
    from tinymodels.chat import ENDOFTEXT
    from tinymodels.data.tasks import CAPITALS, WORDS

    qs, answers, kinds = task_questions(20, seed=3)
    assert len(qs) == len(answers) == len(kinds) == 12 + 32 + 20
    assert kinds.count("首都") == 12 and kinds.count("倒序") == 32
    again = task_questions(20, seed=3)
    assert again[0] == qs and (again[1] == answers).all()  # 由种子决定
    for (prompt, options), a, kind in zip(qs, answers, kinds):
        assert len(options) == 4 and len(set(options)) == 4
        assert prompt.startswith(ENDOFTEXT)
        prompt, right = prompt.removeprefix(ENDOFTEXT), options[a]
        if kind == "首都":
            country = prompt.removesuffix("的首都：")
            assert right == CAPITALS[country] + "。"
        elif kind == "倒序":
            word = prompt[1 : prompt.index("”")]
            assert word in WORDS and right == word[::-1] + "”。"
        else:
            x, y = map(int, prompt.removesuffix("=").split("+"))
            assert right == str(x + y) and max(x, y) <= 20
            assert all(int(o) >= 0 for o in options)
    # 正确选项的位置是打乱的
    assert len(set(answers.tolist())) == 4
    with pytest.raises(ValueError, match="n_addition"):
        task_questions(0)
    # 和为 0 时没有负的干扰项，仍然凑够 4 个不同的选项
    qs, answers, kinds = task_questions(30, seed=0, max_value=1)
    zero = [o for (p, o), k in zip(qs, kinds) if p.endswith("0+0=")]
    assert zero and all(sorted(o) == ["0", "1", "10", "2"] for o in zero)
