"""GRPO（tinymodels/grpo.py）：对照照公式写的 NumPy 与 PyTorch。

优势、k3 KL、损失与它对 log 概率的梯度都只是张量上的公式，用很小的随机
数核对；最后一个测试在一个很小的随机 TinyLlama 上跑两步 train_grpo，
只检查管道（形状、第一步 KL 为 0、损失有限），不检查学没学会。
"""

from __future__ import annotations

import numpy as np
import pytest
from tinygrad import Tensor
from tinygrad.nn.state import get_parameters

from tinymodels import BPETokenizer, TinyLlama
from tinymodels.chat import ENDOFTEXT
from tinymodels.grpo import (
    FORMAT_REWARD,
    addition_reward,
    completion_mask,
    group_advantages,
    grpo_loss,
    k3_kl,
    sample_group,
    train_grpo,
)

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

EOT = ENDOFTEXT


def test_advantages_equal_the_formula():
    G = 4
    r = np.random.default_rng(0).integers(0, 3, 3 * G) * 0.6
    A = group_advantages(r, G, eps=1e-4)
    for p in range(3):  # 逐组照公式：(r_i - mean) / (std + eps)
        g = r[p * G : (p + 1) * G]
        want = [(ri - sum(g) / G) for ri in g]
        std = (sum(d * d for d in want) / G) ** 0.5  # 总体标准差
        want = [d / (std + 1e-4) for d in want]
        np.testing.assert_allclose(A[p * G : (p + 1) * G], want, atol=1e-12)
    # 每组的优势和为 0
    np.testing.assert_allclose(A.reshape(3, G).sum(1), 0, atol=1e-9)


def test_zero_variance_group_gives_zero_advantages():
    r = np.array([1.2, 1.2, 1.2, 1.2, 0.0, 0.0, 0.0, 0.0, 1.2, 0.0, 0, 0])
    A = group_advantages(r, 4)
    assert (A[:8] == 0).all()  # 全对、全错：优势全是 0
    assert A[8] > 0 and (A[9:] < 0).all()


def test_k3_kl_nonnegative_and_zero_when_equal():
    rng = np.random.default_rng(1)
    logp = np.log(rng.uniform(0.01, 1, 200)).astype(np.float32)
    ref = np.log(rng.uniform(0.01, 1, 200)).astype(np.float32)
    kl = k3_kl(Tensor(logp), Tensor(ref)).numpy()
    assert (kl >= 0).all()
    x = np.exp(ref - logp)
    np.testing.assert_allclose(kl, x - np.log(x) - 1, rtol=1e-4, atol=1e-6)
    assert (k3_kl(Tensor(logp), Tensor(logp)).numpy() == 0).all()
    # 样本来自 π 时 k3 的期望就是 KL(π || π_ref)（精确求和核对）
    p = np.array([0.5, 0.3, 0.2])
    q = np.array([0.2, 0.5, 0.3])
    k3 = k3_kl(Tensor(np.log(p)), Tensor(np.log(q))).numpy()
    assert np.isclose((p * k3).sum(), (p * np.log(p / q)).sum())


def torch_grpo_loss(logp, old, ref, A, mask, eps, beta):
    ratio = torch.exp(logp - old)
    A = A[:, None]
    surr = torch.minimum(ratio * A, torch.clamp(ratio, 1 - eps, 1 + eps) * A)
    kl = torch.exp(ref - logp) - (ref - logp) - 1
    per = surr - beta * kl
    return -((per * mask).sum(1) / mask.sum(1)).mean()


def test_loss_and_gradient_match_torch(close):
    rng = np.random.default_rng(2)
    B, T = 6, 7
    logp = np.log(rng.uniform(0.05, 1, (B, T))).astype(np.float32)
    # π_old 离 π_θ 远一些，让一部分比率落到裁剪区间以外
    old = (logp + rng.normal(0, 0.4, (B, T))).astype(np.float32)
    ref = (logp + rng.normal(0, 0.3, (B, T))).astype(np.float32)
    A = rng.normal(0, 1, B).astype(np.float32)
    mask = (rng.uniform(size=(B, T)) < 0.7).astype(np.float32)
    mask[:, 3] = 1  # 每行至少一个回答词元
    ratio = np.exp(logp - old)
    assert ((ratio < 0.8) | (ratio > 1.2)).mean() > 0.2  # 裁剪确实起作用
    for eps, beta in ((0.2, 0.04), (0.1, 0.5)):
        x = Tensor(logp)
        loss = grpo_loss(
            x, Tensor(old), Tensor(ref), Tensor(A), Tensor(mask), eps, beta
        )
        loss.backward()
        xt = torch.tensor(logp, requires_grad=True)
        want = torch_grpo_loss(
            xt, *map(torch.tensor, (old, ref, A, mask)), eps, beta
        )
        want.backward()
        close(loss, want, "grpo_loss")
        close(x.grad, xt.grad, "d loss / d logp")


def test_loss_is_zero_when_no_advantage_and_policy_is_ref():
    # 优势全是 0、π_θ = π_ref：目标 J = 0
    logp = Tensor(np.log(np.full((2, 3), 0.5, np.float32)))
    z = Tensor(np.zeros(2, np.float32))
    m = Tensor(np.ones((2, 3), np.float32))
    assert grpo_loss(logp, logp, logp, z, m).item() == 0


def test_addition_reward_cases():
    cases = {
        "82" + EOT: 1 + FORMAT_REWARD,  # 答对并停下
        "83" + EOT: FORMAT_REWARD,  # 格式对、答错
        "82+1": 1.0,  # 答对、没停
        "82\n": 1.0,
        "8": 0.0,
        "820" + EOT: FORMAT_REWARD,
        EOT: 0.0,  # 什么也没写
        "": 0.0,
        "x82" + EOT: 0.0,
    }
    for text, want in cases.items():
        assert addition_reward(text, "82") == pytest.approx(want), text


def test_completion_mask():
    c = np.array([[5, 9, 0, 9], [9, 5, 5, 5], [5, 5, 5, 5]])
    want = [[1, 1, 0, 0], [1, 0, 0, 0], [1, 1, 1, 1]]
    np.testing.assert_array_equal(completion_mask(c, stop_id=9), want)


def test_bad_inputs(err):
    with pytest.raises(ValueError) as e:
        group_advantages([1.0, 0.0, 1.0], 2)
    err.names(e, "rewards", "group_size")
    with pytest.raises(ValueError) as e:
        group_advantages([1.0, 0.0], 1)
    err.names(e, "group_size")
    with pytest.raises(ValueError) as e:
        group_advantages([1.0, float("nan")], 2)
    err.names(e, "rewards")
    with pytest.raises(ValueError) as e:
        addition_reward(82, "82")
    err.names(e, "text")
    with pytest.raises(ValueError) as e:
        addition_reward("82", "八十二")
    err.names(e, "answer")
    x = Tensor(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError) as e:
        grpo_loss(x, x, Tensor(np.zeros((2, 4), np.float32)), x[:, 0], x)
    err.shape(e, "ref_logp", (2, 4), want=(2, 3))
    with pytest.raises(ValueError) as e:
        grpo_loss(x, x, x, Tensor(np.zeros(3, np.float32)), x)
    err.shape(e, "advantages", (3,), want=(2,))
    with pytest.raises(ValueError) as e:
        sample_group(None, [1, 2], 0, 4)
    err.names(e, "group_size")


def tiny_setup():
    text = "1+2=3\n12+5=17\n" * 20
    tok = BPETokenizer.train(text, 260, [EOT])
    cfg = dict(block_size=16, d_model=16, num_heads=2, num_layers=1)
    return tok, TinyLlama(tok.vocab_size, **cfg), cfg


def test_train_grpo_pipeline(err):
    tok, model, cfg = tiny_setup()
    ref = TinyLlama(tok.vocab_size, **cfg)
    for p, q in zip(get_parameters(model), get_parameters(ref)):
        q.assign(p.detach()).realize()
    pairs = [("1+2=", "3"), ("5+2=", "7"), ("3+4=", "7")]
    hist = train_grpo(
        model, ref, tok, pairs, steps=2, group_size=2, prompts_per_step=2,
        max_new_tokens=3, lr=1e-2,
    )  # fmt: skip
    assert sorted(hist) == [
        "correct", "group_reward", "kl", "loss", "picks", "reward",
    ]  # fmt: skip
    assert all(len(v) == 2 for v in hist.values())
    assert np.shape(hist["group_reward"]) == (2, 2)  # 每步 P 道题各一个
    # 每步的平均奖励就是各组平均奖励的平均
    assert np.allclose(np.mean(hist["group_reward"], 1), hist["reward"])
    assert abs(hist["kl"][0]) < 1e-6  # 第一步 π_θ = π_ref
    assert hist["kl"][1] > 0  # 更新过一次，策略离开了参考模型
    assert np.isfinite(hist["loss"]).all()
    # 同一道题的 G 个回答相邻；贪心解码时它们完全相同
    prompts = [tok.encode(EOT + q) for q, _ in pairs[:2]]
    c = sample_group(model, prompts, 2, 3, temperature=0)
    assert c.shape == (4, 3)
    assert (c[0] == c[1]).all() and (c[2] == c[3]).all()
    # 与 TinyLlama.generate 的采样相同：同一个种子，同样的词元
    idx = Tensor(np.repeat(np.array(prompts, np.int32), 2, axis=0))
    want = model.generate(idx, 3, temperature=1.0, seed=5).numpy()[:, -3:]
    np.testing.assert_array_equal(
        sample_group(model, prompts, 2, 3, seed=5), want
    )
    with pytest.raises(ValueError) as e:  # 题目编码后长短不一
        train_grpo(model, ref, tok, [*pairs, ("1+2+3=", "6")], steps=1)
    err.names(e, "pairs")
