"""层的数值参考测试：与 PyTorch 2.13（CPU，float32）逐项比较。

比较前向输出、输入梯度和参数梯度。

做法：同一组随机权重拷贝进两边；同一个随机上游梯度 ``G``，计算 ``sum(out * G)
`` 再反向传播；
比较基于范数的相对误差（< 1e-4，见 conftest.rel_err）。所有张量都由 NumPy
生成（固定种子），
tinygrad 一侧在 NOOPT 下编译（只影响编译速度，不影响数值语义）。
"""

from __future__ import annotations

import numpy as np
import pytest
from tinygrad import Tensor

from tinymodels.layers import (
    GRU,
    LSTM,
    RNN,
    AvgPool2d,
    Conv2d,
    Embedding,
    LayerNorm,
    Linear,
    MaxPool2d,
    MultiHeadAttention,
    PositionalEncoding,
    causal_mask,
    padding_mask,
    scaled_dot_product_attention,
    sinusoidal_positional_encoding,
)

torch = pytest.importorskip("torch")
F = torch.nn.functional
torch.set_num_threads(1)

pytestmark = pytest.mark.usefixtures("fast")


def _np(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def _tt(a: np.ndarray):
    return torch.tensor(a, requires_grad=True)


def _copy(layer, module, names):
    """把 torch 模块的参数拷进 tinygrad 层。

    names 为 {tinygrad 属性: torch 属性}。
    """
    for ours, theirs in names.items():
        setattr(
            layer,
            ours,
            Tensor(getattr(module, theirs).detach().numpy().copy()),
        )


def _backward_tg(pairs):
    """pairs: [(输出张量, 上游梯度 ndarray)]；反向传播 sum(out * G)。"""
    loss = None
    for out, g in pairs:
        term = (out * Tensor(g)).sum()
        loss = term if loss is None else loss + term
    loss.backward()


def _backward_torch(pairs):
    loss = sum((out * torch.tensor(g)).sum() for out, g in pairs)
    loss.backward()


def test_linear_matches_torch(close):
    rng = np.random.default_rng(0)
    x = _np(rng, 4, 6)
    ref = torch.nn.Linear(6, 5)
    ours = Linear(6, 5)
    _copy(ours, ref, {"weight": "weight", "bias": "bias"})
    xt, xo = _tt(x), Tensor(x)
    g = _np(rng, 4, 5)
    out_t, out_o = ref(xt), ours(xo)
    _backward_torch([(out_t, g)])
    _backward_tg([(out_o, g)])
    close(out_o, out_t, "Linear out")
    close(xo.grad, xt.grad, "Linear dx")
    close(ours.weight.grad, ref.weight.grad, "Linear dW")
    close(ours.bias.grad, ref.bias.grad, "Linear db")


@pytest.mark.parametrize("stride,padding", [(1, 1), (2, 0)])
def test_conv2d_matches_torch(close, stride, padding):
    rng = np.random.default_rng(1)
    x = _np(rng, 2, 3, 8, 8)
    ref = torch.nn.Conv2d(3, 4, 3, stride=stride, padding=padding)
    ours = Conv2d(3, 4, 3, stride=stride, padding=padding)
    _copy(ours, ref, {"weight": "weight", "bias": "bias"})
    xt, xo = _tt(x), Tensor(x)
    out_t, out_o = ref(xt), ours(xo)
    g = _np(rng, *out_t.shape)
    _backward_torch([(out_t, g)])
    _backward_tg([(out_o, g)])
    close(out_o, out_t, "Conv2d out")
    close(xo.grad, xt.grad, "Conv2d dx")
    close(ours.weight.grad, ref.weight.grad, "Conv2d dW")
    close(ours.bias.grad, ref.bias.grad, "Conv2d db")


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool2d_matches_torch(close, kind):
    rng = np.random.default_rng(2)
    x = _np(rng, 2, 3, 8, 8)
    ours = MaxPool2d(2) if kind == "max" else AvgPool2d(2)
    ref = torch.nn.MaxPool2d(2) if kind == "max" else torch.nn.AvgPool2d(2)
    xt, xo = _tt(x), Tensor(x)
    out_t, out_o = ref(xt), ours(xo)
    g = _np(rng, *out_t.shape)
    _backward_torch([(out_t, g)])
    _backward_tg([(out_o, g)])
    close(out_o, out_t, f"{kind}pool out")
    close(xo.grad, xt.grad, f"{kind}pool dx")


def test_layernorm_matches_torch(close):
    rng = np.random.default_rng(3)
    x = _np(rng, 2, 5, 8) * 3 + 1
    ref = torch.nn.LayerNorm(8)
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(_np(rng, 8)))
        ref.bias.copy_(torch.tensor(_np(rng, 8)))
    ours = LayerNorm(8)
    _copy(ours, ref, {"weight": "weight", "bias": "bias"})
    xt, xo = _tt(x), Tensor(x)
    g = _np(rng, 2, 5, 8)
    out_t, out_o = ref(xt), ours(xo)
    _backward_torch([(out_t, g)])
    _backward_tg([(out_o, g)])
    close(out_o, out_t, "LayerNorm out")
    close(xo.grad, xt.grad, "LayerNorm dx")
    close(ours.weight.grad, ref.weight.grad, "LayerNorm dweight")
    close(ours.bias.grad, ref.bias.grad, "LayerNorm dbias")


def test_embedding_matches_torch(close):
    rng = np.random.default_rng(4)
    idx = rng.integers(0, 7, size=(3, 5))
    ref = torch.nn.Embedding(7, 4)
    ours = Embedding(7, 4)
    _copy(ours, ref, {"weight": "weight"})
    g = _np(rng, 3, 5, 4)
    out_t, out_o = ref(torch.tensor(idx)), ours(Tensor(idx.astype(np.int32)))
    _backward_torch([(out_t, g)])
    _backward_tg([(out_o, g)])
    close(out_o, out_t, "Embedding out")
    close(ours.weight.grad, ref.weight.grad, "Embedding dW")


_RNN_NAMES = {
    "weight_ih": "weight_ih_l0",
    "weight_hh": "weight_hh_l0",
    "bias_ih": "bias_ih_l0",
    "bias_hh": "bias_hh_l0",
}
B, T, I, H = 3, 5, 4, 6


@pytest.mark.parametrize("with_h0", [False, True])
def test_rnn_matches_torch(close, with_h0):
    rng = np.random.default_rng(5)
    x = _np(rng, B, T, I)
    h0 = _np(rng, B, H) if with_h0 else None
    ref = torch.nn.RNN(I, H, batch_first=True)
    ours = RNN(I, H)
    _copy(ours, ref, _RNN_NAMES)
    xt, xo = _tt(x), Tensor(x)
    h0t = _tt(h0) if with_h0 else None
    h0o = Tensor(h0) if with_h0 else None
    out_t, hT_t = ref(xt, None if h0t is None else h0t.unsqueeze(0))
    out_o, hT_o = ours(xo, h0o)
    g1, g2 = _np(rng, B, T, H), _np(rng, B, H)
    _backward_torch([(out_t, g1), (hT_t[0], g2)])
    _backward_tg([(out_o, g1), (hT_o, g2)])
    close(out_o, out_t, "RNN outputs")
    close(hT_o, hT_t[0], "RNN h_T")
    close(xo.grad, xt.grad, "RNN dx")
    if with_h0:
        close(h0o.grad, h0t.grad, "RNN dh0")
    for ours_name, theirs in _RNN_NAMES.items():
        close(
            getattr(ours, ours_name).grad,
            getattr(ref, theirs).grad,
            f"RNN d{ours_name}",
        )


def test_lstm_matches_torch(close):
    rng = np.random.default_rng(6)
    x = _np(rng, B, T, I)
    h0, c0 = _np(rng, B, H), _np(rng, B, H)
    ref = torch.nn.LSTM(I, H, batch_first=True)
    ours = LSTM(I, H)
    _copy(ours, ref, _RNN_NAMES)
    assert ours.weight_ih.shape == (4 * H, I) and ours.weight_hh.shape == (
        4 * H,
        H,
    )
    xt, xo = _tt(x), Tensor(x)
    h0t, c0t, h0o, c0o = _tt(h0), _tt(c0), Tensor(h0), Tensor(c0)
    out_t, (hT_t, cT_t) = ref(xt, (h0t.unsqueeze(0), c0t.unsqueeze(0)))
    out_o, (hT_o, cT_o) = ours(xo, (h0o, c0o))
    g1, g2, g3 = _np(rng, B, T, H), _np(rng, B, H), _np(rng, B, H)
    _backward_torch([(out_t, g1), (hT_t[0], g2), (cT_t[0], g3)])
    _backward_tg([(out_o, g1), (hT_o, g2), (cT_o, g3)])
    close(out_o, out_t, "LSTM outputs")
    close(hT_o, hT_t[0], "LSTM h_T")
    close(cT_o, cT_t[0], "LSTM c_T")
    close(xo.grad, xt.grad, "LSTM dx")
    close(h0o.grad, h0t.grad, "LSTM dh0")
    close(c0o.grad, c0t.grad, "LSTM dc0")
    for ours_name, theirs in _RNN_NAMES.items():
        close(
            getattr(ours, ours_name).grad,
            getattr(ref, theirs).grad,
            f"LSTM d{ours_name}",
        )


def test_lstm_zero_state_and_step_match_torch(close):
    """整条序列（零初始状态）与单步 ``LSTM.step`` 都与 PyTorch 一致。"""
    rng = np.random.default_rng(7)
    x = _np(rng, B, T, I)
    ref = torch.nn.LSTM(I, H, batch_first=True)
    ours = LSTM(I, H)
    _copy(ours, ref, _RNN_NAMES)
    out_t, _ = ref(torch.tensor(x))
    out_o, _ = ours(Tensor(x))
    close(out_o, out_t, "LSTM outputs (zero state)")
    cell = torch.nn.LSTMCell(I, H)
    with torch.no_grad():
        for a, b in [
            ("weight_ih", "weight_ih_l0"),
            ("weight_hh", "weight_hh_l0"),
            ("bias_ih", "bias_ih_l0"),
            ("bias_hh", "bias_hh_l0"),
        ]:
            getattr(cell, a).copy_(getattr(ref, b))
    h, c = _np(rng, B, H), _np(rng, B, H)
    h_t, c_t = cell(torch.tensor(x[:, 0]), (torch.tensor(h), torch.tensor(c)))
    h_o, c_o = ours.step(Tensor(x[:, 0].copy()), Tensor(h), Tensor(c))
    close(h_o, h_t, "LSTM.step h")
    close(c_o, c_t, "LSTM.step c")


def test_gru_matches_torch(close):
    rng = np.random.default_rng(8)
    x = _np(rng, B, 3, I)  # 比其他循环层短一些：GRU 每步的内核更多，编译更贵
    ref = torch.nn.GRU(I, H, batch_first=True)
    ours = GRU(I, H)
    _copy(ours, ref, _RNN_NAMES)
    xt, xo = _tt(x), Tensor(x)
    out_t, hT_t = ref(xt)
    out_o, hT_o = ours(xo)
    g1 = _np(rng, B, 3, H)
    _backward_torch([(out_t, g1)])
    _backward_tg([(out_o, g1)])
    close(out_o, out_t, "GRU outputs")
    close(hT_o, hT_t[0], "GRU h_T")
    close(xo.grad, xt.grad, "GRU dx")
    for ours_name, theirs in _RNN_NAMES.items():
        close(
            getattr(ours, ours_name).grad,
            getattr(ref, theirs).grad,
            f"GRU d{ours_name}",
        )


@pytest.mark.parametrize("mode", ["none", "causal", "bool_mask"])
def test_sdpa_matches_torch(close, mode):
    rng = np.random.default_rng(9)
    q, k, v = _np(rng, 2, 3, 5, 8), _np(rng, 2, 3, 5, 8), _np(rng, 2, 3, 5, 8)
    qt, kt, vt = _tt(q), _tt(k), _tt(v)
    qo, ko, vo = Tensor(q), Tensor(k), Tensor(v)
    mask = rng.random((2, 1, 5, 5)) > 0.3
    mask[..., 0] = True  # 每行至少能看到一个键
    if mode == "causal":
        out_t = F.scaled_dot_product_attention(qt, kt, vt, is_causal=True)
        out_o, w_o = scaled_dot_product_attention(
            qo, ko, vo, is_causal=True, return_weights=True
        )
    elif mode == "bool_mask":
        out_t = F.scaled_dot_product_attention(
            qt, kt, vt, attn_mask=torch.tensor(mask)
        )
        out_o, w_o = scaled_dot_product_attention(
            qo, ko, vo, attn_mask=Tensor(mask), return_weights=True
        )
    else:
        out_t = F.scaled_dot_product_attention(qt, kt, vt)
        out_o, w_o = scaled_dot_product_attention(
            qo, ko, vo, return_weights=True
        )
    g = _np(rng, 2, 3, 5, 8)
    _backward_torch([(out_t, g)])
    _backward_tg([(out_o, g)])
    close(out_o, out_t, f"sdpa[{mode}] out")
    close(qo.grad, qt.grad, f"sdpa[{mode}] dq")
    close(ko.grad, kt.grad, f"sdpa[{mode}] dk")
    close(vo.grad, vt.grad, f"sdpa[{mode}] dv")
    w = w_o.numpy()
    np.testing.assert_allclose(w.sum(-1), 1.0, rtol=1e-5)
    if mode == "causal":
        assert np.all(np.triu(w[0, 0], k=1) == 0)


def _mha_pair(rng, d=8, heads=2):
    ref = torch.nn.MultiheadAttention(d, heads, batch_first=True)
    with torch.no_grad():  # torch 默认偏置为 0，换成随机值才能检验偏置的布局
        ref.in_proj_bias.copy_(torch.tensor(_np(rng, 3 * d) * 0.1))
        ref.out_proj.bias.copy_(torch.tensor(_np(rng, d) * 0.1))
    ours = MultiHeadAttention(d, heads)
    W, b = (
        ref.in_proj_weight.detach().numpy(),
        ref.in_proj_bias.detach().numpy(),
    )
    for i, name in enumerate(
        ["q_proj", "k_proj", "v_proj"]
    ):  # in_proj 按行切成 Q、K、V 三份
        getattr(ours, name).weight = Tensor(W[i * d : (i + 1) * d].copy())
        getattr(ours, name).bias = Tensor(b[i * d : (i + 1) * d].copy())
    _copy(ours.out_proj, ref.out_proj, {"weight": "weight", "bias": "bias"})
    return ref, ours


@pytest.mark.parametrize("causal", [False, True])
def test_multihead_attention_matches_torch(close, causal):
    """自注意力 + 填充掩码（+ 因果掩码）：比较输出、每头权重与梯度。"""
    rng = np.random.default_rng(10)
    d, heads, Bn, Tn = 8, 2, 3, 5
    ref, ours = _mha_pair(rng, d, heads)
    x = _np(rng, Bn, Tn, d)
    lengths = [5, 3, 4]
    kpm = np.arange(Tn)[None, :] >= np.array(lengths)[:, None]  # True = 填充
    xt, xo = _tt(x), Tensor(x)
    attn_mask = (
        torch.triu(torch.ones(Tn, Tn, dtype=torch.bool), diagonal=1)
        if causal
        else None
    )
    out_t, w_t = ref(
        xt,
        xt,
        xt,
        key_padding_mask=torch.tensor(kpm),
        attn_mask=attn_mask,
        need_weights=True,
        average_attn_weights=False,
    )
    out_o, w_o = ours(
        xo,
        key_padding_mask=padding_mask(lengths, Tn),
        causal=causal,
        need_weights=True,
    )
    assert w_o.shape == (Bn, heads, Tn, Tn)
    g = _np(rng, Bn, Tn, d)
    _backward_torch([(out_t, g)])
    _backward_tg([(out_o, g)])
    close(out_o, out_t, "MHA out")
    close(w_o, w_t, "MHA weights")
    close(xo.grad, xt.grad, "MHA dx")
    dW = np.concatenate(
        [
            getattr(ours, n).weight.grad.numpy()
            for n in ("q_proj", "k_proj", "v_proj")
        ]
    )
    db = np.concatenate(
        [
            getattr(ours, n).bias.grad.numpy()
            for n in ("q_proj", "k_proj", "v_proj")
        ]
    )
    close(dW, ref.in_proj_weight.grad, "MHA d in_proj_weight")
    close(db, ref.in_proj_bias.grad, "MHA d in_proj_bias")
    close(
        ours.out_proj.weight.grad,
        ref.out_proj.weight.grad,
        "MHA d out_proj.weight",
    )
    close(
        ours.out_proj.bias.grad, ref.out_proj.bias.grad, "MHA d out_proj.bias"
    )


def test_multihead_cross_attention_matches_torch(close):
    """交叉注意力：query 与 key/value 长度不同。"""
    rng = np.random.default_rng(11)
    ref, ours = _mha_pair(rng)
    q, mem, val = _np(rng, 2, 3, 8), _np(rng, 2, 6, 8), _np(rng, 2, 6, 8)
    out_t, _ = ref(torch.tensor(q), torch.tensor(mem), torch.tensor(mem))
    mem_o = Tensor(mem)
    close(
        ours(Tensor(q), mem_o, mem_o), out_t, "cross MHA out (key is value)"
    )
    out_t, _ = ref(torch.tensor(q), torch.tensor(mem), torch.tensor(val))
    close(
        ours(Tensor(q), Tensor(mem), Tensor(val)),
        out_t,
        "cross MHA out (separate value)",
    )


def test_sinusoidal_positional_encoding_formula():
    T, d = 12, 10
    pe = sinusoidal_positional_encoding(T, d).numpy()
    assert pe.shape == (T, d) and pe.dtype == np.float32
    ref = np.zeros((T, d))
    for pos in range(T):
        for i in range(d // 2):
            ref[pos, 2 * i] = np.sin(pos / 10000 ** (2 * i / d))
            ref[pos, 2 * i + 1] = np.cos(pos / 10000 ** (2 * i / d))
    np.testing.assert_allclose(pe, ref, atol=1e-6)
    odd = sinusoidal_positional_encoding(4, 5).numpy()
    np.testing.assert_allclose(
        odd[:, 4], np.sin(np.arange(4) / 10000 ** (4 / 5)), atol=1e-6
    )
    x = np.zeros((2, 7, d), dtype=np.float32)
    np.testing.assert_allclose(
        PositionalEncoding(d, max_len=T)(Tensor(x)).numpy(),
        np.broadcast_to(ref[:7], (2, 7, d)),
        atol=1e-6,
    )


def test_masks():
    m = causal_mask(4).numpy()
    np.testing.assert_array_equal(m, np.tril(np.ones((4, 4), bool)))
    np.testing.assert_array_equal(
        padding_mask([2, 4], 4).numpy(),
        [[False, False, True, True], [False] * 4],
    )
    np.testing.assert_array_equal(
        padding_mask(Tensor([1, 3]), max_len=3).numpy(),
        [[False, True, True], [False, False, False]],
    )
