"""tinymodels.sampling 对照照公式手写的 NumPy。

* 每种模式（温度、温度 0、top-k、top-p 及其组合）的概率等于公式；
* 大量抽样的经验分布与 ``next_token_probs`` 一致（卡方检验）；
* top-p 的边界（累积概率恰好等于 p、并列、p = 1）与 top-k 的并列；
* 贪心等于 argmax；参数错误的消息写出参数名。
"""

import numpy as np
import pytest

from tinymodels import next_token_probs, sample_next
from tinymodels.sampling import check_sampling_args

# 一行固定的 logits：有并列（0.5、0.5），有负数
Z = np.array([2.0, 1.0, 0.5, 0.5, -1.0, 0.0])


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def keep(p, mask):
    """只留 mask 为真的 token，重新归一化。"""
    q = np.where(mask, p, 0.0)
    return q / q.sum()


def probs(**kw):
    return next_token_probs(Z[None], **kw)[0]


def test_plain_and_temperature():
    np.testing.assert_allclose(probs(), softmax(Z), rtol=1e-12)
    for tau in (0.3, 0.5, 2.0):
        np.testing.assert_allclose(
            probs(temperature=tau), softmax(Z / tau), rtol=1e-12
        )
    # 温度越低，最大概率越大
    tops = [probs(temperature=t).max() for t in (2.0, 1.0, 0.5, 0.1)]
    assert all(a < b for a, b in zip(tops, tops[1:]))


def test_greedy_is_argmax():
    np.testing.assert_array_equal(probs(temperature=0), np.eye(6)[0])
    # 并列最大时取下标最小的
    tie = np.array([[0.0, 3.0, 3.0, 1.0]])
    np.testing.assert_array_equal(
        next_token_probs(tie, temperature=0), [[0, 1, 0, 0]]
    )
    z = np.random.default_rng(0).normal(size=(64, 50))
    rng = np.random.default_rng(1)
    np.testing.assert_array_equal(
        sample_next(z, rng, temperature=0), z.argmax(-1)
    )
    np.testing.assert_array_equal(sample_next(z, rng, top_k=1), z.argmax(-1))


def test_top_k():
    p = softmax(Z)
    np.testing.assert_allclose(probs(top_k=2), keep(p, Z >= 1.0), rtol=1e-12)
    # 第 3 大与第 4 大并列（0.5）：两个都留下，共 4 个
    q = probs(top_k=3)
    np.testing.assert_allclose(q, keep(p, Z >= 0.5), rtol=1e-12)
    assert (q > 0).sum() == 4
    np.testing.assert_allclose(probs(top_k=6), p, rtol=1e-12)
    # 先除以温度再截断
    np.testing.assert_allclose(
        probs(temperature=0.5, top_k=2),
        keep(softmax(Z / 0.5), Z >= 1.0),
        rtol=1e-12,
    )


def top_p_by_hand(p, top_p):
    """照公式：从大到小累加，到首次 >= top_p 为止，临界概率以上全留。"""
    desc = sorted(p, reverse=True)
    total, r = 0.0, 0
    for r, x in enumerate(desc):
        total += x
        if total >= top_p - 1e-12:
            break
    return keep(p, p >= desc[r])


@pytest.mark.parametrize("top_p", [0.01, 0.3, 0.6, 0.8, 0.95, 1.0])
def test_top_p_formula(top_p):
    np.testing.assert_allclose(
        probs(top_p=top_p), top_p_by_hand(softmax(Z), top_p), rtol=1e-12
    )


def test_top_p_boundaries():
    # 概率恰为 1/2、1/4、1/8、1/8
    z = np.log(np.array([[0.5, 0.25, 0.125, 0.125]]))
    kept = lambda p: (next_token_probs(z, top_p=p)[0] > 0).sum()  # noqa: E731
    assert kept(0.5) == 1  # 累积概率恰好等于 p：到此为止
    assert kept(0.5 + 1e-6) == 2
    assert kept(0.75) == 2
    assert kept(0.75 + 1e-6) == 4  # 临界 token 与另一个 1/8 并列：都留
    assert kept(1.0) == 4
    assert kept(1e-9) == 1
    np.testing.assert_allclose(
        next_token_probs(z, top_p=0.75), [[2 / 3, 1 / 3, 0, 0]], rtol=1e-12
    )
    # 结果与 token 的排列顺序无关
    perm = np.array([2, 0, 3, 1])
    for p in (0.5, 0.75, 0.8, 1.0):
        np.testing.assert_allclose(
            next_token_probs(z[:, perm], top_p=p),
            next_token_probs(z, top_p=p)[:, perm],
            rtol=1e-12,
        )
    # top-p 作用在 top-k 之后（重新归一化过的）分布上
    np.testing.assert_allclose(
        next_token_probs(z, top_k=2, top_p=0.6), [[1, 0, 0, 0]], atol=0
    )


def test_masked_logits_and_batch_rows_are_independent():
    z = np.stack([Z, Z[::-1], np.where(Z > 0.7, Z, -np.inf)])
    out = next_token_probs(z, top_p=0.9)
    for row, zr in zip(out, z):
        np.testing.assert_allclose(row, top_p_by_hand(softmax(zr), 0.9))
    np.testing.assert_allclose(out.sum(-1), 1.0, rtol=1e-12)


# 自由度 df 的卡方分布的 0.999 分位数（查表），df = 非零概率的 token 数 - 1
CHI2_999 = {1: 10.83, 2: 13.82, 3: 16.27, 4: 18.47, 5: 20.52}


@pytest.mark.parametrize(
    "kw",
    [{}, {"temperature": 0.5}, {"top_k": 3}, {"top_p": 0.8}],
    ids=["plain", "t0.5", "top3", "p0.8"],
)
def test_samples_follow_probs(kw):
    """卡方拟合优度：n 次抽样的计数 O 与期望 E = n p 比较。

    固定种子，结果确定；抽样正确时统计量超过 0.999 分位数的机会只有
    0.1%，而把任何一个 token 的概率算错 0.02 以上都会远远超过它
    （n = 40000 时偏差 0.02 贡献约 (800)^2 / (40000 p) >> 21）。
    """
    n = 40_000
    p = probs(**kw)
    draws = sample_next(np.tile(Z, (n, 1)), np.random.default_rng(3), **kw)
    counts = np.bincount(draws, minlength=6)
    assert (counts[p == 0] == 0).all()  # 概率为 0 的从不被抽到
    e = n * p[p > 0]
    chi2 = ((counts[p > 0] - e) ** 2 / e).sum()
    assert chi2 < CHI2_999[(p > 0).sum() - 1], (chi2, counts, e)


def test_rng_stream_and_dtype():
    z = np.tile(Z, (5, 1))
    a, b = np.random.default_rng(9), np.random.default_rng(9)
    out = sample_next(z, a, temperature=0)
    assert out.shape == (5,) and out.dtype == np.int64
    b.random((5, 1))  # 贪心时也恰好消耗 B 个随机数
    assert a.random() == b.random()


@pytest.mark.parametrize(
    "kw,name",
    [
        ({"temperature": -1.0}, "temperature"),
        ({"temperature": float("nan")}, "temperature"),
        ({"top_k": 0}, "top_k"),
        ({"top_k": 7}, "top_k"),
        ({"top_k": 2.5}, "top_k"),
        ({"top_p": 0.0}, "top_p"),
        ({"top_p": 1.5}, "top_p"),
    ],
)
def test_errors_name_the_argument(kw, name):
    for fn in (
        lambda: next_token_probs(Z[None], **kw),
        lambda: sample_next(Z[None], np.random.default_rng(0), **kw),
        lambda: check_sampling_args(6, **kw),
    ):
        with pytest.raises(ValueError, match=name):
            fn()


def test_bad_inputs():
    with pytest.raises(ValueError, match="logits"):
        next_token_probs(Z)  # 一维
    with pytest.raises(ValueError, match="logits"):
        next_token_probs(np.full((1, 3), -np.inf))
    with pytest.raises(ValueError, match="rng"):
        sample_next(Z[None], 0)
