"""LoRA（tinymodels/lora.py）：B = 0 时不改变模型、参数计数、合并与拆开，
前向对照 PyTorch 与照公式写的 NumPy，以及错误的参数。

模型用很小的 TinyLlama（C = 16、T_max = 8，与 test_llama.py 相同），让
tinygrad 的编译结果在测试之间复用；都在快速编译（NOOPT）下运行。
"""

from __future__ import annotations

import numpy as np
import pytest
from tinygrad import Context, Tensor
from tinygrad.nn.optim import Adam
from tinygrad.nn.state import get_parameters

from tinymodels import Linear, TinyLlama, count_parameters
from tinymodels.lora import (
    LoRALinear,
    apply_lora,
    lora_layers,
    lora_parameter_count,
    lora_parameters,
)
from tinymodels.losses import cross_entropy
from tinymodels.train import train_step

V, BS, C, H = 23, 8, 16, 4  # 词表、上下文、宽度、查询头数
pytestmark = pytest.mark.usefixtures("fast")  # 快速编译：只跑几步


def small() -> TinyLlama:
    return TinyLlama(
        V, block_size=BS, d_model=C, num_heads=H, num_kv_heads=2, num_layers=1
    )


def tokens(B=2, T=BS, seed=0) -> Tensor:
    rng = np.random.default_rng(seed)
    return Tensor(rng.integers(0, V, (B, T)).astype(np.int32))


def test_zero_b_leaves_model_unchanged():
    model = small()
    idx = tokens()
    before = model(idx).numpy()
    params = apply_lora(model, r=2, alpha=4, targets=("wq", "wv"))
    after = model(idx).numpy()
    assert np.array_equal(before, after)  # 逐位相同：B = 0 时增量恰好为 0
    assert len(params) == 2 * 2 * model.num_layers  # 每层 wq、wv 各 A、B
    for layer in lora_layers(model).values():
        assert layer.A.shape == (2, layer.d_in)
        assert layer.B.shape == (layer.d_out, 2)
        assert not layer.B.numpy().any() and layer.A.numpy().any()


def test_trainable_count_matches_formula():
    model = small()
    total = count_parameters(model)
    r = 3
    targets = ("wq", "wk", "w2")
    shapes = {
        name: getattr(model.blocks[0].attn, name, None)
        or getattr(model.blocks[0].ffn, name)
        for name in targets
    }
    params = apply_lora(model, r=r, targets=targets)
    want = model.num_layers * sum(
        lora_parameter_count(lin.weight.shape[1], lin.weight.shape[0], r)
        for lin in shapes.values()
    )
    assert count_parameters(model) == want  # 只数可训练的
    assert sum(p.numel() for p in params) == want
    assert lora_parameters(model) == params
    # 冻结的张量都还在（保存、合并都要用），只是不再是参数
    frozen = [t for t in get_parameters(model) if not t.is_param]
    assert (
        sum(t.numel() for t in {id(t): t for t in frozen}.values()) >= total
    )
    assert lora_parameter_count(64, 32, 4) == 4 * (64 + 32)


def _train_a_little(model, params, steps=4):
    opt = Adam(params, lr=5e-2)
    step = train_step(lambda x, y: cross_entropy(model(x), y), opt)
    x, y = tokens(4, BS, seed=1), tokens(4, BS, seed=2)
    with Context(TRAINING=1):
        losses = [step(x, y).item() for _ in range(steps)]
    return losses


def test_training_moves_only_adapters_then_merge_and_unmerge():
    model = small()
    frozen = {id(t): t.numpy().copy() for t in get_parameters(model)}
    params = apply_lora(model, r=2, alpha=4)
    losses = _train_a_little(model, params)
    assert losses[-1] < losses[0]
    for t in get_parameters(model):  # 原模型的张量一个都没变
        if id(t) in frozen:
            assert np.array_equal(t.numpy(), frozen[id(t)])
    layers = lora_layers(model)
    assert all(np.abs(m.B.numpy()).max() > 0 for m in layers.values())

    idx = tokens(seed=3)
    adapted = model(idx).numpy()
    W0 = {p: m.base.weight.numpy().copy() for p, m in layers.items()}
    for m in layers.values():
        m.merge()
    merged = model(idx).numpy()
    np.testing.assert_allclose(merged, adapted, rtol=1e-4, atol=1e-5)
    for p, m in layers.items():  # W' = W + (α/r) B A
        want = W0[p] + m.scale * m.B.numpy() @ m.A.numpy()
        np.testing.assert_allclose(m.base.weight.numpy(), want, atol=1e-6)
        assert not m.base.weight.is_param  # 合并后仍是冻结的
    assert count_parameters(model) == sum(p.numel() for p in params)
    for m in layers.values():
        m.unmerge()
    for p, m in layers.items():  # 取回原权重（只差浮点舍入）
        np.testing.assert_allclose(m.base.weight.numpy(), W0[p], atol=1e-6)
    np.testing.assert_allclose(
        model(idx).numpy(), adapted, rtol=1e-4, atol=1e-5
    )


def test_generate_sees_merge():
    """generate 的 JIT 缓存在合并后重新编译，不会重放旧的计算图。"""
    model = small()
    apply_lora(model, r=2, alpha=4)
    for m in lora_layers(model).values():  # 相当于训练过的 B
        rng = np.random.default_rng(0)
        m.B = Tensor(rng.normal(0, 1.0, m.B.shape).astype(np.float32))
    idx = tokens(1, 3)
    a = model.generate(idx, 3, temperature=0, use_cache=False).numpy()
    for m in lora_layers(model).values():
        m.merge()
    b = model.generate(idx, 3, temperature=0, use_cache=False).numpy()
    assert np.array_equal(a, b)


def test_forward_matches_numpy_and_torch(close):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    d_in, d_out, r, alpha = 12, 10, 3, 6.0
    base = Linear(d_in, d_out, bias=True)
    lora = LoRALinear(base, r=r, alpha=alpha)
    A = rng.normal(size=(r, d_in)).astype(np.float32)
    B = rng.normal(size=(d_out, r)).astype(np.float32)
    lora.A, lora.B = Tensor(A), Tensor(B)
    x = rng.normal(size=(2, 5, d_in)).astype(np.float32)
    W, b = base.weight.numpy(), base.bias.numpy()
    ours = lora(Tensor(x)).numpy()
    # NumPy：h = x W^T + b + (α/r) x A^T B^T
    close(ours, x @ W.T + b + alpha / r * (x @ A.T) @ B.T, "NumPy")
    # PyTorch：F.linear 加上同样的低秩增量
    F = torch.nn.functional
    tx = torch.tensor(x)
    ref = F.linear(tx, torch.tensor(W), torch.tensor(b)) + (
        alpha / r
    ) * F.linear(F.linear(tx, torch.tensor(A)), torch.tensor(B))
    close(ours, ref.numpy(), "PyTorch")
    assert not base.weight.is_param and not base.bias.is_param


def test_bad_arguments(err):
    base = Linear(8, 6, bias=False)
    for r in (0, -1, 7, 2.5):
        with pytest.raises(ValueError) as e:
            LoRALinear(base, r=r)
        err.names(e, "r")
    with pytest.raises(ValueError) as e:
        LoRALinear(base, r=2, alpha=0)
    err.names(e, "alpha")
    with pytest.raises(ValueError) as e:
        LoRALinear(Tensor.zeros(6, 8), r=2)
    err.names(e, "base")
    model = small()
    with pytest.raises(ValueError) as e:
        apply_lora(model, targets=("attn_norm",))  # RMSNorm，不是 Linear
    msg = err.names(e, "attn_norm")
    assert "Linear" in msg and "wq" in msg
    with pytest.raises(ValueError) as e:
        apply_lora(model, targets=("nope",))
    err.names(e, "nope")
    with pytest.raises(ValueError):
        apply_lora(model, targets=())
    # 出错时什么都没改
    assert not lora_layers(model) and count_parameters(model) > 0
    apply_lora(model, r=2)
    with pytest.raises(ValueError) as e:
        apply_lora(model, r=2)  # 已经是 LoRALinear
    assert "LoRALinear" in err.names(e, "wq")
    layer = next(iter(lora_layers(model).values()))
    with pytest.raises(ValueError):
        layer.unmerge()
    layer.merge()
    with pytest.raises(ValueError):
        layer.merge()
