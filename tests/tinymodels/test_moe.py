"""MoE 层与 TinyMoELlama：对照照公式写的 NumPy。

所有测试共用很小的形状（C = 8、E = 4、N = 10 个词元），让 tinygrad 的编译
结果在测试之间复用。
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from tinygrad import Tensor
from tinygrad.nn.state import get_state_dict

from tinymodels import TinyLlama, count_parameters, set_seed
from tinymodels.layers.basic import Linear
from tinymodels.layers.moe import MoE, topk_mask
from tinymodels.models.llama import SwiGLU
from tinymodels.models.moe_llama import TinyMoELlama

# 只测数值，不测速度：NOOPT 下编译快一半以上（见 conftest.py 的 fast）
pytestmark = pytest.mark.usefixtures("fast")

C, D_FF, E = 8, 12, 4
B, T = 2, 5
N = B * T


def inputs(seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(B, T, C)).astype(np.float32)


def np_swiglu(moe: MoE, i: int, x: np.ndarray) -> np.ndarray:
    """第 i 个专家 W_2 (SiLU(W_1 x) ⊙ W_3 x)。"""
    w1, w3, w2 = (w.numpy()[i] for w in (moe.w1, moe.w3, moe.w2))
    a = x @ w1.T
    return ((a / (1 + np.exp(-a))) * (x @ w3.T)) @ w2.T


def np_moe(moe: MoE, x: np.ndarray):
    """照公式逐个词元算：softmax、排序取前 k、归一化、排队、加权求和。"""
    xf = x.reshape(-1, x.shape[-1]).astype(np.float64)
    n_tok, k = len(xf), moe.top_k
    z = xf @ moe.router.weight.numpy().T.astype(np.float64)  # (N, E)
    p = np.exp(z - z.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    cap = moe.capacity(n_tok)
    load = np.zeros(moe.num_experts, int)  # 每个专家已收的词元
    sel = np.zeros_like(p)
    y = np.zeros_like(xf)
    kept = 0
    for n in range(n_tok):
        top = np.argsort(-p[n], kind="stable")[:k]  # 并列时编号小的在前
        sel[n, top] = 1
        g = p[n, top] / (p[n, top].sum() if moe.renormalize else 1.0)
        for i, gi in zip(top, g):
            load[i] += 1
            if load[i] <= cap:  # 排得上才算
                kept += 1
                y[n] += gi * np_swiglu(moe, i, xf[n : n + 1])[0]
    f = sel.sum(0) / (k * n_tok)
    P = p.mean(0)
    aux = moe.aux_loss_coef * moe.num_experts * (f * P).sum()
    return y.reshape(x.shape), p, sel, f, P, aux, 1 - kept / (k * n_tok)


@pytest.mark.parametrize(
    "top_k, cf, renorm",
    [(2, None, True), (1, None, False), (3, 0.5, False)],
)
def test_moe_matches_numpy(close, top_k, cf, renorm):
    set_seed(0)
    moe = MoE(C, D_FF, E, top_k, capacity_factor=cf, renormalize=renorm)
    x = inputs()
    y = moe(Tensor(x))
    want, p, sel, f, P, aux, dropped = np_moe(moe, x)
    close(y, want, "MoE 输出")
    close(moe.stats.f, f, "f")
    close(moe.stats.P, P, "P")
    close(moe.stats.aux_loss.reshape(1), [aux], "aux")
    assert moe.stats.dropped.item() == pytest.approx(dropped, abs=1e-6)
    _, sel_t, _, _ = moe.route(Tensor(x.reshape(N, C)))
    np.testing.assert_array_equal(sel_t.numpy(), sel)


def test_topk_mask_ties_prefer_lower_index():
    p = np.array(
        [
            [0.1, 0.4, 0.4, 0.1],
            [0.25, 0.25, 0.25, 0.25],
            [0.7, 0.1, 0.1, 0.1],
        ],
        np.float32,
    )
    got = topk_mask(Tensor(p), 2).numpy()
    want = [[0, 1, 1, 0], [1, 1, 0, 0], [1, 1, 0, 0]]
    np.testing.assert_array_equal(got, want)


def test_aux_loss_is_alpha_when_uniform():
    # 路由器权重全 0：p 处处是 1/E；k = 1 时并列取编号最小的专家 0，
    # 所以 f = (1, 0, 0, 0)，但 Σ f_i P_i = 1/E，aux 仍是 α
    moe = MoE(C, D_FF, E, top_k=1, aux_loss_coef=0.01)
    moe.router.weight = Tensor.zeros(E, C).contiguous()
    moe(Tensor(inputs()))
    assert moe.stats.aux_loss.item() == pytest.approx(0.01, rel=1e-6)
    # 真正均匀的分派：每个专家正好 N/E 个词元、平均概率 1/E
    f = P = np.full(E, 1 / E)
    assert 0.01 * E * (f * P).sum() == pytest.approx(0.01)


def test_aux_loss_is_alpha_when_balanced_and_larger_when_collapsed():
    # 构造路由（k = 2）：偶数号词元偏爱专家 0、1，奇数号偏爱专家 2、3，
    # 每个专家正好收 k·N/E = 5 个词元
    moe = MoE(C, D_FF, E, top_k=2, aux_loss_coef=0.01)
    w = np.zeros((E, C), np.float32)
    w[0, 0] = w[1, 0] = w[2, 1] = w[3, 1] = 3.0
    moe.router.weight = Tensor(w)
    x = np.zeros((N, C), np.float32)
    x[np.arange(N), np.arange(N) % 2] = 1.0
    moe(Tensor(x.reshape(B, T, C)))
    np.testing.assert_allclose(moe.stats.f.numpy(), 1 / E)
    # f 均匀时 Σ f_i P_i = (1/E) Σ P_i = 1/E，不论 P 如何
    assert moe.stats.aux_loss.item() == pytest.approx(0.01, rel=1e-5)
    # 全部词元挤到专家 0、1：aux 比 α 大
    x[:, 0], x[:, 1] = 1.0, 0.0
    moe(Tensor(x.reshape(B, T, C)))
    np.testing.assert_allclose(moe.stats.f.numpy(), [0.5, 0.5, 0, 0])
    assert moe.stats.aux_loss.item() > 1.9 * 0.01


def test_aux_loss_gradient_flows_only_through_router():
    set_seed(0)
    moe = MoE(C, D_FF, E, top_k=2)
    moe(Tensor(inputs()))
    moe.stats.aux_loss.backward()
    assert np.abs(moe.router.weight.grad.numpy()).sum() > 0
    assert moe.w1.grad is None


def test_one_expert_is_dense_swiglu(close):
    x = inputs()
    for renorm in (True, False):
        set_seed(0)
        moe = MoE(C, D_FF, 1, top_k=1, renormalize=renorm)
        close(moe(Tensor(x)), np_swiglu(moe, 0, x), "E=1 = SwiGLU")
        assert moe.stats.dropped.item() == 0


def test_experts_are_swiglus_with_the_same_init(close):
    set_seed(0)
    moe = MoE(C, D_FF, E)
    set_seed(0)  # 同一个种子依次建路由器和 E 个 SwiGLU
    Linear(C, E, bias=False)
    ffns = [SwiGLU(C, D_FF) for _ in range(E)]
    x = Tensor(inputs())
    close(moe.expert(2)(x), ffns[2](x), "expert(2)")
    assert moe.w2.shape == (E, C, D_FF)


def test_capacity_drops_latest_tokens():
    # 全部词元都偏爱专家 0（k = 1）：容量 cap 之后的词元被挡掉，输出为 0
    moe = MoE(C, D_FF, E, top_k=1, capacity_factor=1.0)
    w = np.zeros((E, C), np.float32)
    w[0] = 1.0
    moe.router.weight = Tensor(w)
    x = np.abs(inputs()) + 0.1  # 每个词元 x·w_0 > 0：都选专家 0
    y = moe(Tensor(x)).numpy().reshape(N, C)
    cap = moe.capacity(N)
    assert cap == math.ceil(1.0 * 1 * N / E) == 3
    assert np.all(np.abs(y[:cap]).sum(-1) > 0)  # 前 3 个排上了
    np.testing.assert_array_equal(y[cap:], 0)  # 之后的只剩残差
    assert moe.stats.dropped.item() == pytest.approx(1 - cap / N)
    assert moe.stats.f.numpy()[0] == 1  # f 按路由器的选择算，在截断之前


def test_capacity_formula():
    moe = MoE(C, D_FF, E, top_k=2, capacity_factor=1.25)
    assert moe.capacity(256) == math.ceil(1.25 * 2 * 256 / E) == 160
    assert MoE(C, D_FF, E, top_k=2).capacity(256) == 256
    assert MoE(C, D_FF, E, 4, capacity_factor=9).capacity(10) == 10


@pytest.mark.parametrize(
    "kw, words",
    [
        (dict(num_experts=4, top_k=5), ["top_k=5", "num_experts=4"]),
        (dict(num_experts=4, top_k=0), ["top_k=0"]),
        (dict(num_experts=0, top_k=1), ["num_experts=0"]),
        (dict(num_experts=4, capacity_factor=0), ["capacity_factor=0"]),
        (dict(num_experts=4, aux_loss_coef=-1), ["aux_loss_coef=-1"]),
    ],
)
def test_bad_arguments(kw, words):
    with pytest.raises(ValueError) as e:
        MoE(C, D_FF, **kw)
    for w in words:
        assert w in str(e.value)


def test_tiny_moe_llama_shapes_params_and_shared_init():
    V, bs = 11, 8
    cfg = dict(block_size=bs, d_model=16, num_heads=4, num_layers=2)
    set_seed(0)
    dense = TinyLlama(V, **cfg)
    set_seed(0)
    moe = TinyMoELlama(V, num_experts=4, top_k=1, **cfg)
    # 同一个种子：除前馈网络外参数逐位相同
    np.testing.assert_array_equal(dense.tok_emb.numpy(), moe.tok_emb.numpy())
    np.testing.assert_array_equal(
        dense.blocks[1].attn.wq.weight.numpy(),
        moe.blocks[1].attn.wq.weight.numpy(),
    )
    ffn = count_parameters(dense.blocks[0].ffn)
    router = 16 * 4
    assert count_parameters(moe) == count_parameters(dense) + 2 * (
        3 * ffn + router
    )
    idx = Tensor(np.arange(2 * bs).reshape(2, bs) % V)
    n_params = count_parameters(moe)
    assert moe(idx).shape == (2, bs, V)
    # 前向留下的路由统计量不算参数（否则优化器、检查点会带上它们）
    assert count_parameters(moe) == n_params
    assert not any("stats" in k for k in get_state_dict(moe))
    aux = moe.aux_loss.item()
    assert 0 < aux <= 0.01 * 2 * 4  # 每层不超过 α·E（Σ f_i P_i <= 1）
    with pytest.raises(ValueError, match="top_k=5"):
        TinyMoELlama(V, num_experts=4, top_k=5, **cfg)
