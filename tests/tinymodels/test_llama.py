"""TinyLlama 及其部件：对照 PyTorch 与照公式写的 NumPy。

所有测试共用很小的形状（C = 16、4 个查询头、T_max = 8），让 tinygrad 的
编译结果在测试之间复用。
"""

from __future__ import annotations

import numpy as np
import pytest
from tinygrad import Tensor

from tinymodels import count_parameters
from tinymodels.models.llama import (
    Attention,
    RMSNorm,
    TinyLlama,
    apply_rope,
    rope_tables,
)

torch = pytest.importorskip("torch")
F = torch.nn.functional
torch.set_num_threads(1)

V, BS, C, H = 23, 8, 16, 4  # 词表、上下文、宽度、查询头数
D_H = C // H


def small(**kw) -> TinyLlama:
    cfg = dict(block_size=BS, d_model=C, num_heads=H, num_kv_heads=2)
    return TinyLlama(V, **{**cfg, **kw})


def tokens(B=2, T=BS, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, V, (B, T)).astype(np.int32)


def t(w: Tensor):
    return torch.tensor(w.numpy())


def test_rmsnorm_matches_torch(close):
    x = np.random.default_rng(0).normal(1.0, 2.0, (3, 5, C)).astype("f4")
    g = np.random.default_rng(1).normal(size=C).astype("f4")
    ours = RMSNorm(C, eps=1e-5)
    ours.weight = Tensor(g)
    ref = torch.nn.RMSNorm(C, eps=1e-5)
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(g))
    close(ours(Tensor(x)), ref(torch.tensor(x)), "RMSNorm")


def test_rope_is_block_diagonal_rotation(close):
    T, d_h, theta = 6, 8, 10000.0
    cos, sin = rope_tables(d_h, T, theta)
    x = np.random.default_rng(0).normal(size=(1, 2, T, d_h)).astype("f4")
    out = apply_rope(Tensor(x), cos, sin).numpy()
    # 位置 t 的旋转矩阵：对角线上 d_h/2 个 2x2 旋转块，角度 t θ_i
    want = np.empty_like(x)
    for pos in range(T):
        R = np.zeros((d_h, d_h))
        for i in range(d_h // 2):
            a = pos * theta ** (-2 * i / d_h)
            R[2 * i : 2 * i + 2, 2 * i : 2 * i + 2] = [
                [np.cos(a), -np.sin(a)],
                [np.sin(a), np.cos(a)],
            ]
        want[:, :, pos] = x[:, :, pos] @ R.T
    close(out, want, "RoPE")
    # 旋转不改变长度
    assert np.allclose(
        np.linalg.norm(out, axis=-1), np.linalg.norm(x, axis=-1)
    )


def test_rope_score_depends_only_on_offset():
    T, d_h = BS, D_H * 2
    cos, sin = rope_tables(d_h, T)
    rng = np.random.default_rng(0)
    q, k = rng.normal(size=(2, d_h)).astype("f4")
    # 同一个 q（k）放在每个位置上旋转：Q[m] = R_m q，K[n] = R_n k
    Q = apply_rope(Tensor(np.tile(q, (1, 1, T, 1))), cos, sin).numpy()[0, 0]
    K = apply_rope(Tensor(np.tile(k, (1, 1, T, 1))), cos, sin).numpy()[0, 0]
    S = Q @ K.T  # S[m, n] = (R_m q)·(R_n k)
    for off in range(-T + 1, T):
        diag = np.diagonal(S, offset=off)
        assert np.allclose(diag, diag[0], atol=1e-5), off
    assert not np.allclose(S[0, 0], S[0, 1])


def _torch_rope(x, cos, sin):
    """复数写法的 RoPE：相邻两维当作一个复数，乘以 e^{i t θ}。"""
    z = torch.view_as_complex(x.reshape(*x.shape[:-1], -1, 2).contiguous())
    rot = torch.polar(torch.ones_like(cos), torch.atan2(sin, cos))
    return torch.view_as_real(z * rot).reshape(x.shape)


@pytest.mark.parametrize("h_kv", [2, 1])
def test_gqa_attention_matches_torch(close, h_kv):
    B, T = 2, 5
    attn = Attention(C, H, h_kv)
    cos, sin = rope_tables(D_H, T)
    x = np.random.default_rng(0).normal(size=(B, T, C)).astype("f4")
    mask = Tensor.ones(T, T, dtype="bool").tril()
    ours = attn(Tensor(x), cos, sin, mask)

    xt, ct, st = torch.tensor(x), t(cos), t(sin)

    def heads(w, n):
        return (xt @ t(w).T).reshape(B, T, n, D_H).transpose(1, 2)

    q = _torch_rope(heads(attn.wq.weight, H), ct, st)
    k = _torch_rope(heads(attn.wk.weight, h_kv), ct, st)
    v = heads(attn.wv.weight, h_kv)
    y = F.scaled_dot_product_attention(
        q, k, v, is_causal=True, enable_gqa=True
    )
    ref = y.transpose(1, 2).reshape(B, T, C) @ t(attn.wo.weight).T
    close(ours, ref, f"GQA h_kv={h_kv}")


def test_equal_kv_heads_is_plain_multi_head_attention(close):
    B, T = 2, 5
    attn = Attention(C, H, H)
    x = np.random.default_rng(0).normal(size=(B, T, C)).astype("f4")
    # cos = 1、sin = 0：不旋转，剩下的就是普通的多头因果注意力
    one, zero = Tensor.ones(T, D_H // 2), Tensor.zeros(T, D_H // 2)
    mask = Tensor.ones(T, T, dtype="bool").tril()
    ours = attn(Tensor(x), one, zero, mask)
    ref = torch.nn.MultiheadAttention(C, H, bias=False, batch_first=True)
    with torch.no_grad():
        ref.in_proj_weight.copy_(
            torch.cat(
                [t(attn.wq.weight), t(attn.wk.weight), t(attn.wv.weight)]
            )
        )
        ref.out_proj.weight.copy_(t(attn.wo.weight))
    causal = torch.ones(T, T, dtype=torch.bool).triu(1)  # True = 不许看
    want, _ = ref(
        *[torch.tensor(x)] * 3, attn_mask=causal, need_weights=False
    )
    close(ours, want, "MHA")


def test_one_kv_head_is_mqa(close):
    """h_kv = 1：全部查询头共用一组 K/V，等于把它复制 h 份的多头注意力。"""
    B, T = 2, 5
    mqa, mha = Attention(C, H, 1), Attention(C, H, H)
    mha.wq.weight, mha.wo.weight = mqa.wq.weight, mqa.wo.weight
    mha.wk.weight = mqa.wk.weight.repeat(H, 1)  # (H·d_h, C)
    mha.wv.weight = mqa.wv.weight.repeat(H, 1)
    assert mqa.wk.weight.shape == (D_H, C)
    cos, sin = rope_tables(D_H, T)
    mask = Tensor.ones(T, T, dtype="bool").tril()
    x = Tensor(np.random.default_rng(0).normal(size=(B, T, C)).astype("f4"))
    close(mqa(x, cos, sin, mask), mha(x, cos, sin, mask), "MQA")


def test_causal_and_cached_forward_match_full_forward():
    model = small()
    idx = tokens()
    full = model(Tensor(idx)).numpy()
    assert full.shape == (2, BS, V)
    # 改最后一个 token：前面各位置的 logits 不变
    changed = idx.copy()
    changed[:, -1] = (changed[:, -1] + 1) % V
    full2 = model(Tensor(changed)).numpy()
    assert np.array_equal(full2[:, :-1], full[:, :-1])
    assert not np.allclose(full2[:, -1], full[:, -1])
    # 先整段写 3 个位置，再一次写 1 个：逐位置等于不带缓存的结果
    cache = model.new_cache(2)
    parts = [model(Tensor(idx[:, :3]), 0, cache).numpy()]
    assert cache.length == 3
    for p in range(3, BS):
        parts.append(model(Tensor(idx[:, p : p + 1]), p, cache).numpy())
    assert cache.length == BS
    assert np.allclose(np.concatenate(parts, 1), full, atol=1e-5)


def test_forward_runs_on_the_device_holding_the_parameters():
    """参数搬到另一个设备后，整段前向在那里算、结果不变（``tinymodels
    parity`` 就是这样把模型搬到 GPU 上对照的；MoE 版继承同一个前向）。
    "CPU:1" 是 tinygrad 的第二个 CPU 设备实例，缓冲区不能与 "CPU" 上的混用：
    因果掩码曾经建在默认设备上，这里就会报错。"""
    from tinygrad.nn.state import get_state_dict

    model, idx = small(), tokens()
    ref = model(Tensor(idx)).numpy()
    for w in get_state_dict(model).values():
        w.to_("CPU:1")
    out = model(Tensor(idx, device="CPU:1"))
    assert out.device == "CPU:1"
    assert np.array_equal(out.numpy(), ref)


def test_generate_with_and_without_cache_agree():
    model = small()
    prompt = Tensor(tokens(T=3))
    # 3 + 9 > block_size：也经过上下文滑动的部分
    for kw in (dict(temperature=0), dict(temperature=1.0, top_k=5, seed=3)):
        a = model.generate(prompt, 9, use_cache=True, **kw).numpy()
        b = model.generate(prompt, 9, use_cache=False, **kw).numpy()
        assert a.shape == (2, 12) and (a[:, :3] == prompt.numpy()).all()
        assert np.array_equal(a, b), kw
    c = model.generate(prompt, 9, temperature=1.0, top_k=5, seed=3).numpy()
    assert np.array_equal(c, a)  # 同一个种子可复现


def test_cache_size_and_parameter_count():
    for tie in (True, False):
        model = small(num_layers=3, tie_weights=tie)
        d_ff, h_kv = model.d_ff, 2
        per_block = 2 * C + C * C + 2 * C * h_kv * D_H + C * C + 3 * C * d_ff
        want = V * C + 3 * per_block + C + (0 if tie else V * C)
        assert count_parameters(model) == want
        assert (model.head.weight is model.tok_emb) == tie
    assert small().d_ff == 48  # 8·16/3 ≈ 42.7，取到 8 的倍数
    cache = small().new_cache(3)
    assert cache.length == 0
    assert cache.nbytes == 2 * 2 * 3 * 2 * BS * D_H * 4


def test_errors(err):
    with pytest.raises(ValueError) as e:
        small(num_kv_heads=3)
    err.names(e, "num_heads", "num_kv_heads")
    with pytest.raises(ValueError) as e:
        small(num_heads=3)
    err.names(e, "d_model", "num_heads")
    model = small()
    with pytest.raises(ValueError) as e:
        model(Tensor(tokens(T=BS + 1)))
    err.names(e, "idx", "block_size")
    err.numbers(e, BS, BS + 1)
    with pytest.raises(ValueError) as e:
        model.generate(Tensor(tokens(T=BS + 1)), 2)
    err.numbers(e, BS, BS + 1)
    cache = model.new_cache(2)
    model(Tensor(tokens(T=6)), 0, cache)
    with pytest.raises(ValueError) as e:  # 6 + 3 > 8：超出缓存
        model(Tensor(tokens(T=3)), 6, cache)
    err.numbers(e, 6, BS, 3)
    with pytest.raises(ValueError) as e:  # 跳过了位置 6
        model(Tensor(tokens(T=1)), 7, cache)
    err.numbers(e, 6, 7)
    with pytest.raises(ValueError) as e:
        model(Tensor(tokens(B=3, T=1)), 6, cache)
    err.names(e, "cache")
    with pytest.raises(ValueError) as e:
        model.generate(Tensor(tokens(T=2)), 2, temperature=-1)
    err.names(e, "temperature")
