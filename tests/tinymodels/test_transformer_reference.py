"""Transformer 部件与 TinyGPT 的数值参考测试：同一组权重，与 PyTorch 比较。

* ``FeedForward``、``EncoderBlock``、``DecoderBlock`` 对照 PyTorch 自带的
  ``TransformerEncoderLayer`` / ``TransformerDecoderLayer``
  （``norm_first=True``，即 Pre-LN，``dropout=0``），比较前向输出、
  输入梯度与几个参数梯度。
* ``TinyGPT`` 对照本文件里按同一结构写的 PyTorch GPT（nanoGPT 式：合并的
  ``qkv`` 投影、ReLU 前馈），比较 logits 与交叉熵对参数的梯度。
* 因果性：改动位置 ``t`` 的 token，位置 ``< t`` 的 logits 不变。
* ``generate`` 与一个朴素的“每步整段重算”的采样循环逐个 token 相同。

所有权重先在 PyTorch 一侧随机生成（再加一点扰动，使 LayerNorm 的 weight/bias
不是平凡的 1 和 0），再拷贝到 tinygrad 一侧；形状都很小，以减少编译时间。
"""

from __future__ import annotations

import numpy as np
import pytest
from tinygrad import Tensor

import tinymodels
from tinymodels.utils import count_parameters

torch = pytest.importorskip("torch")
F = torch.nn.functional
torch.set_num_threads(1)

pytestmark = pytest.mark.usefixtures("fast")

D, H, D_FF = 8, 2, 16  # 块的测试：模型维度、头数、前馈隐藏维度
B, T, S = 2, 5, 3  # 批大小、目标序列长度、memory 长度


# ---------------------------------------------------------------- 工具


def assert_close(actual, expected, what: str, tol: float = 1e-5) -> None:
    """``max|a - b| <= tol * max|b|``：按参考值的量级缩放的绝对误差。"""
    if isinstance(actual, Tensor):
        actual = actual.numpy()
    if hasattr(expected, "detach"):
        expected = expected.detach().numpy()
    a = np.asarray(actual, dtype=np.float64)
    b = np.asarray(expected, dtype=np.float64)
    assert a.shape == b.shape, f"{what}: 形状 {a.shape} != {b.shape}"
    scale = max(float(np.abs(b).max()), 1e-12)
    err = float(np.abs(a - b).max())
    assert err <= tol * scale, (
        f"{what}: 最大误差 {err:.3e} > {tol} * {scale:.3e}"
    )


def _get(obj, path: str):
    for part in path.split("."):
        obj = obj[int(part)] if part.isdigit() else getattr(obj, part)
    return obj


def _set(obj, path: str, value: np.ndarray) -> None:
    """按 ``get_state_dict`` 的名字（``blocks.0.attn.qkv.weight``）赋值。"""
    parent, _, last = path.rpartition(".")
    setattr(_get(obj, parent) if parent else obj, last, Tensor(value.copy()))


def _np(p) -> np.ndarray:
    return p.detach().numpy()


def _perturb(module, seed: int) -> None:
    """给所有参数加上 N(0, 0.1^2) 扰动。

    PyTorch 把偏置与 LayerNorm 初始化成 0 和 1，扰动后拷错了才看得出来。
    """
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=gen))


def _copy_mha(ours, ref, d: int) -> None:
    """torch ``MultiheadAttention`` -> tinymodels ``MultiHeadAttention``。

    ``in_proj_weight`` ``(3d, d)`` 按行依次是 Q、K、V。
    """
    W, b = _np(ref.in_proj_weight), _np(ref.in_proj_bias)
    for i, name in enumerate(("q_proj", "k_proj", "v_proj")):
        _set(ours, f"{name}.weight", W[i * d : (i + 1) * d])
        _set(ours, f"{name}.bias", b[i * d : (i + 1) * d])
    _set(ours, "out_proj.weight", _np(ref.out_proj.weight))
    _set(ours, "out_proj.bias", _np(ref.out_proj.bias))


def _copy_named(ours, ref, names: dict[str, str]) -> None:
    """names: {tinygrad 路径前缀: torch 子模块名}，拷贝其 weight 与 bias。"""
    for mine, theirs in names.items():
        module = getattr(ref, theirs)
        _set(ours, f"{mine}.weight", _np(module.weight))
        _set(ours, f"{mine}.bias", _np(module.bias))


def _inputs(seed: int, *shape):
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return Tensor(x), torch.tensor(x, requires_grad=True)


def _upstream(out_t, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal(tuple(out_t.shape)).astype(np.float32)


def _backward(out_o, out_t, g: np.ndarray) -> None:
    """两边都对 ``sum(out * G)`` 反向传播。"""
    (out_o * Tensor(g)).sum().backward()
    (out_t * torch.tensor(g)).sum().backward()


def _torch_causal(n: int):
    return torch.nn.Transformer.generate_square_subsequent_mask(n)


# ---------------------------------------------------------------- 块


def test_feedforward_matches_torch():
    torch.manual_seed(0)
    ref = torch.nn.Sequential(
        torch.nn.Linear(D, D_FF), torch.nn.ReLU(), torch.nn.Linear(D_FF, D)
    )
    _perturb(ref, 0)
    ours = tinymodels.FeedForward(D, D_FF)
    _set(ours, "fc1.weight", _np(ref[0].weight))
    _set(ours, "fc1.bias", _np(ref[0].bias))
    _set(ours, "fc2.weight", _np(ref[2].weight))
    _set(ours, "fc2.bias", _np(ref[2].bias))
    xo, xt = _inputs(1, B, T, D)
    out_o, out_t = ours(xo), ref(xt)
    _backward(out_o, out_t, _upstream(out_t, 2))
    assert_close(out_o, out_t, "FeedForward out")
    assert_close(xo.grad, xt.grad, "FeedForward dx")
    assert_close(ours.fc1.weight.grad, ref[0].weight.grad, "dfc1.weight")
    assert_close(ours.fc2.bias.grad, ref[2].bias.grad, "dfc2.bias")


def _encoder_pair(seed: int):
    torch.manual_seed(seed)
    ref = torch.nn.TransformerEncoderLayer(
        D, H, D_FF, dropout=0.0, batch_first=True, norm_first=True
    )
    _perturb(ref, seed)
    return ref


def _copy_encoder_layer(ours, ref, attn: str) -> None:
    """TransformerEncoderLayer -> EncoderBlock 或 DecoderBlock。

    ``attn`` 是自注意力的属性名：``"attn"`` 或 ``"self_attn"``。
    """
    _copy_mha(getattr(ours, attn), ref.self_attn, D)
    _copy_named(
        ours,
        ref,
        {
            "ln1": "norm1",
            "ln2": "norm2",
            "ff.fc1": "linear1",
            "ff.fc2": "linear2",
        },
    )


@pytest.mark.parametrize(
    "padded", [False, True], ids=["plain", "key_padding"]
)
def test_encoder_block_matches_torch(padded):
    ref = _encoder_pair(3)
    ours = tinymodels.EncoderBlock(D, H, D_FF)
    _copy_encoder_layer(ours, ref, "attn")
    xo, xt = _inputs(4, B, T, D)
    if padded:
        lengths = np.array([T, 3])  # 第二条序列的最后两个位置是填充
        pad = np.arange(T)[None, :] >= lengths[:, None]
        out_o = ours(xo, key_padding_mask=Tensor(pad))
        out_t = ref(xt, src_key_padding_mask=torch.tensor(pad))
    else:
        out_o, out_t = ours(xo), ref(xt)
    _backward(out_o, out_t, _upstream(out_t, 5))
    assert_close(out_o, out_t, "EncoderBlock out")
    assert_close(xo.grad, xt.grad, "EncoderBlock dx", tol=1e-4)
    assert_close(
        ours.attn.q_proj.weight.grad,
        ref.self_attn.in_proj_weight.grad[:D],
        "d q_proj.weight",
        tol=1e-4,
    )
    assert_close(
        ours.ln1.weight.grad, ref.norm1.weight.grad, "d ln1.weight", tol=1e-4
    )
    assert_close(
        ours.ff.fc1.weight.grad,
        ref.linear1.weight.grad,
        "d fc1.weight",
        tol=1e-4,
    )


def test_decoder_block_without_cross_attention_is_causal_encoder_layer():
    ref = _encoder_pair(6)
    ours = tinymodels.DecoderBlock(D, H, D_FF)
    _copy_encoder_layer(ours, ref, "self_attn")
    xo, xt = _inputs(7, B, T, D)
    out_o = ours(xo)
    out_t = ref(xt, src_mask=_torch_causal(T), is_causal=True)
    _backward(out_o, out_t, _upstream(out_t, 8))
    assert_close(out_o, out_t, "DecoderBlock out")
    assert_close(xo.grad, xt.grad, "DecoderBlock dx", tol=1e-4)
    assert_close(
        ours.self_attn.k_proj.weight.grad,
        ref.self_attn.in_proj_weight.grad[D : 2 * D],
        "d k_proj.weight",
        tol=1e-4,
    )


def test_decoder_block_with_cross_attention_matches_torch():
    torch.manual_seed(9)
    ref = torch.nn.TransformerDecoderLayer(
        D, H, D_FF, dropout=0.0, batch_first=True, norm_first=True
    )
    _perturb(ref, 9)
    ours = tinymodels.DecoderBlock(D, H, D_FF, cross_attention=True)
    _copy_mha(ours.self_attn, ref.self_attn, D)
    _copy_mha(ours.cross_attn, ref.multihead_attn, D)
    _copy_named(
        ours,
        ref,
        {
            "ln1": "norm1",
            "ln_cross": "norm2",
            "ln2": "norm3",
            "ff.fc1": "linear1",
            "ff.fc2": "linear2",
        },
    )
    xo, xt = _inputs(10, B, T, D)
    mo, mt = _inputs(11, B, S, D)
    out_o = ours(xo, mo)
    out_t = ref(xt, mt, tgt_mask=_torch_causal(T), tgt_is_causal=True)
    _backward(out_o, out_t, _upstream(out_t, 12))
    assert_close(out_o, out_t, "DecoderBlock(cross) out")
    assert_close(xo.grad, xt.grad, "DecoderBlock(cross) dx", tol=1e-4)
    assert_close(mo.grad, mt.grad, "DecoderBlock(cross) dmemory", tol=1e-4)
    assert_close(
        ours.cross_attn.v_proj.weight.grad,
        ref.multihead_attn.in_proj_weight.grad[2 * D :],
        "d cross v_proj.weight",
        tol=1e-4,
    )
    assert_close(
        ours.ln_cross.bias.grad,
        ref.norm2.bias.grad,
        "d ln_cross.bias",
        tol=1e-4,
    )


# ---------------------------------------------------------------- TinyGPT

V, BLOCK, D_GPT, H_GPT, LAYERS, FF_GPT = 11, 8, 16, 2, 2, 32


class RefAttention(torch.nn.Module):
    def __init__(self, d: int, h: int):
        super().__init__()
        self.h = h
        self.qkv = torch.nn.Linear(d, 3 * d)
        self.proj = torch.nn.Linear(d, d)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = (
            z.reshape(b, t, self.h, d // self.h).transpose(1, 2)
            for z in self.qkv(x).split(d, dim=-1)
        )
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(b, t, d))


class RefMLP(torch.nn.Module):
    def __init__(self, d: int, d_ff: int):
        super().__init__()
        self.fc1 = torch.nn.Linear(d, d_ff)
        self.fc2 = torch.nn.Linear(d_ff, d)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


class RefBlock(torch.nn.Module):
    def __init__(self, d: int, h: int, d_ff: int):
        super().__init__()
        self.ln1 = torch.nn.LayerNorm(d)
        self.attn = RefAttention(d, h)
        self.ln2 = torch.nn.LayerNorm(d)
        self.mlp = RefMLP(d, d_ff)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class RefGPT(torch.nn.Module):
    """参数与 TinyGPT 同名同形状：state_dict 的键即 get_state_dict 的键。"""

    def __init__(self, vocab, block, d, h, layers, d_ff):
        super().__init__()
        self.tok_emb = torch.nn.Parameter(0.5 * torch.randn(vocab, d))
        self.pos_emb = torch.nn.Parameter(0.5 * torch.randn(block, d))
        self.blocks = torch.nn.ModuleList(
            RefBlock(d, h, d_ff) for _ in range(layers)
        )
        self.ln_f = torch.nn.LayerNorm(d)
        self.head = torch.nn.Linear(d, vocab, bias=False)

    def forward(self, idx):
        x = self.tok_emb[idx] + self.pos_emb[: idx.shape[1]]
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


def _gpt(**kw):
    args = dict(
        block_size=BLOCK,
        d_model=D_GPT,
        num_heads=H_GPT,
        num_layers=LAYERS,
        d_ff=FF_GPT,
    )
    args.update(kw)
    return tinymodels.TinyGPT(V, **args)


def test_tinygpt_matches_pytorch_gpt_with_copied_weights():
    torch.manual_seed(13)
    ref = RefGPT(V, BLOCK, D_GPT, H_GPT, LAYERS, FF_GPT)
    _perturb(ref, 13)
    ours = _gpt()
    ref_params = dict(ref.named_parameters())
    for name, p in ref_params.items():
        _set(ours, name, _np(p))
    # 参数一一对应：没有哪个 tinygrad 参数留着自己的随机初值
    assert count_parameters(ours) == sum(p.numel() for p in ref.parameters())

    rng = np.random.default_rng(14)
    idx = rng.integers(0, V, (2, 6)).astype(np.int32)  # T=6 < block_size
    targets = rng.integers(0, V, (2, 6)).astype(np.int32)
    logits_o = ours(Tensor(idx))
    logits_t = ref(torch.tensor(idx, dtype=torch.long))
    assert_close(logits_o, logits_t, "TinyGPT logits")

    loss_o = logits_o.reshape(-1, V).sparse_categorical_crossentropy(
        Tensor(targets.reshape(-1))
    )
    loss_t = F.cross_entropy(
        logits_t.reshape(-1, V),
        torch.tensor(targets.reshape(-1), dtype=torch.long),
    )
    loss_o.backward()
    loss_t.backward()
    assert_close(loss_o, loss_t.detach(), "TinyGPT loss")
    for name in (
        "tok_emb",
        "pos_emb",
        "blocks.0.attn.qkv.weight",
        "blocks.0.attn.proj.bias",
        f"blocks.{LAYERS - 1}.mlp.fc1.weight",
        f"blocks.{LAYERS - 1}.ln2.weight",
        "ln_f.bias",
        "head.weight",
    ):
        assert_close(
            _get(ours, name).grad,
            ref_params[name].grad,
            f"d {name}",
            tol=1e-4,
        )


def test_tinygpt_is_causal():
    model = _gpt()
    rng = np.random.default_rng(15)
    base = rng.integers(0, V, (6,)).astype(np.int32)
    for t in (0, 3, 5):
        changed = base.copy()
        changed[t] = (base[t] + 1) % V
        logits = model(Tensor(np.stack([base, changed]))).numpy()
        np.testing.assert_allclose(
            logits[1, :t], logits[0, :t], rtol=0, atol=1e-6, err_msg=f"t={t}"
        )
        assert np.abs(logits[1, t] - logits[0, t]).max() > 1e-4, f"t={t}"


def naive_generate(model, idx, max_new_tokens, temperature, top_k, seed):
    """朴素采样：每步把（裁到 block_size 的）整段上下文重新送进模型，

    取最后一个位置的 logits 采样下一个 token。
    """
    rng = np.random.default_rng(seed)
    tokens = np.asarray(idx, dtype=np.int32)
    for _ in range(max_new_tokens):
        ctx = tokens[:, -model.block_size :]
        logits = model(Tensor(ctx)).numpy()[:, -1, :].astype(np.float64)
        logits = logits / temperature
        if top_k is not None:
            kth = np.sort(logits, axis=-1)[:, -top_k][:, None]
            logits = np.where(logits >= kth, logits, -np.inf)
        probs = np.exp(logits - logits.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        cdf = probs.cumsum(-1)
        u = rng.random((tokens.shape[0], 1)) * cdf[:, -1:]
        nxt = np.minimum((cdf <= u).sum(-1), V - 1).astype(np.int32)
        tokens = np.concatenate([tokens, nxt[:, None]], axis=1)
    return tokens


@pytest.mark.parametrize(
    "top_k,temperature,seed",
    [(1, 1.0, 0), (None, 1.0, 1), (3, 0.7, 2)],
    ids=["top1", "sampled", "top3_t0.7"],
)
def test_generate_equals_naive_loop(top_k, temperature, seed):
    model = _gpt()
    prompt = np.random.default_rng(16).integers(0, V, (2, 6)).astype(np.int32)
    n = 5  # 6 + 5 = 11 > block_size=8：后几步要裁掉开头的上下文
    out = model.generate(
        Tensor(prompt), n, temperature=temperature, top_k=top_k, seed=seed
    ).numpy()
    expected = naive_generate(model, prompt, n, temperature, top_k, seed)
    assert out.shape == (2, 6 + n)
    np.testing.assert_array_equal(out[:, :6], prompt)
    np.testing.assert_array_equal(out, expected)
