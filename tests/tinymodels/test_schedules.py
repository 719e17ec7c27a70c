"""学习率预热加余弦衰减、按全局范数裁剪梯度：对照 PyTorch。"""

from __future__ import annotations

import math

import numpy as np
import pytest
from tinygrad import Tensor

from tinymodels.schedules import clip_grad_norm, warmup_cosine

torch = pytest.importorskip("torch")
torch.set_num_threads(1)
lr_sched = torch.optim.lr_scheduler


def torch_lrs(total, warmup, lr_max, lr_min, steps):
    """PyTorch 的组合：LinearLR 预热 W 步，再接 CosineAnnealingLR。"""
    w = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([w], lr=lr_max)
    cos = lr_sched.CosineAnnealingLR(
        opt, T_max=total - warmup, eta_min=lr_min
    )
    if warmup > 0:
        lin = lr_sched.LinearLR(
            opt, start_factor=1 / warmup, total_iters=warmup - 1
        )
        sched = lr_sched.SequentialLR(opt, [lin, cos], milestones=[warmup])
    else:
        sched = cos
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.array(out)


@pytest.mark.parametrize(
    "total, warmup, lr_max, lr_min",
    [(100, 10, 1e-3, 1e-4), (30, 1, 0.5, 0.0), (20, 0, 3e-4, 3e-5)],
)
def test_warmup_cosine_matches_torch_schedulers(
    total, warmup, lr_max, lr_min
):
    ours = np.array(
        [
            warmup_cosine(s, total, warmup, lr_max, lr_min)
            for s in range(total)
        ]
    )
    ref = torch_lrs(total, warmup, lr_max, lr_min, total)
    np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-15)


def test_warmup_cosine_endpoints():
    N, W, hi, lo = 45, 5, 2e-3, 2e-4
    assert warmup_cosine(0, N, W, hi, lo) == pytest.approx(hi / W)
    assert warmup_cosine(W - 1, N, W, hi, lo) == pytest.approx(hi)
    assert warmup_cosine(W, N, W, hi, lo) == pytest.approx(hi)
    # 余弦段的正中间（第 W + (N − W)/2 步）：正好是两端的平均
    mid = W + (N - W) // 2
    assert warmup_cosine(mid, N, W, hi, lo) == pytest.approx((hi + lo) / 2)
    assert warmup_cosine(N, N, W, hi, lo) == pytest.approx(lo)
    assert warmup_cosine(10 * N, N, W, hi, lo) == pytest.approx(lo)
    # 预热段单调升，余弦段单调降
    lrs = [warmup_cosine(s, N, W, hi, lo) for s in range(N + 1)]
    assert all(a < b for a, b in zip(lrs[: W - 1], lrs[1:W]))
    assert all(a >= b for a, b in zip(lrs[W:], lrs[W + 1 :]))


def test_warmup_cosine_formula_at_every_step():
    N, W, hi, lo = 40, 4, 1.0, 0.1
    for s in range(N + 1):
        if s < W:
            want = hi * (s + 1) / W
        else:
            p = (s - W) / (N - W)
            want = lo + 0.5 * (hi - lo) * (1 + math.cos(math.pi * p))
        assert warmup_cosine(s, N, W, hi, lo) == pytest.approx(want)


def _grads(seed, scale):
    rng = np.random.default_rng(seed)
    shapes = [(4, 3), (3,), (2, 2, 5)]
    return [(rng.standard_normal(s) * scale).astype("f4") for s in shapes]


@pytest.mark.parametrize("scale, max_norm", [(3.0, 1.0), (0.05, 1.0)])
def test_clip_grad_norm_matches_torch(close, scale, max_norm):
    gs = _grads(0, scale)
    params = []
    for g in gs:
        p = Tensor(np.zeros(g.shape, "f4"))
        p.grad = Tensor(g)
        params.append(p)
    norm = clip_grad_norm(params, max_norm)

    ref = [torch.zeros(g.shape, requires_grad=True) for g in gs]
    for p, g in zip(ref, gs):
        p.grad = torch.tensor(g)
    ref_norm = torch.nn.utils.clip_grad_norm_(ref, max_norm)

    assert float(norm.numpy()) == pytest.approx(float(ref_norm), rel=1e-5)
    for p, r in zip(params, ref):
        close(p.grad, r.grad, "裁剪后的梯度")
    clipped = math.sqrt(sum((p.grad.numpy() ** 2).sum() for p in params))
    assert clipped <= max_norm + 1e-5
    if float(ref_norm) < max_norm:  # 没超过阈值：梯度原样不变
        for p, g in zip(params, gs):
            np.testing.assert_allclose(p.grad.numpy(), g, rtol=1e-6)


def test_clip_grad_norm_after_backward_skips_params_without_grad(close):
    x = np.random.default_rng(1).standard_normal((5, 4)).astype("f4")
    w0 = np.random.default_rng(2).standard_normal((4, 3)).astype("f4")
    w, unused = Tensor(w0), Tensor.ones(3)
    ((Tensor(x) @ w) ** 2).sum().backward()
    assert unused.grad is None
    norm = clip_grad_norm([w, unused], max_norm=0.5)

    wt = torch.tensor(w0, requires_grad=True)
    ((torch.tensor(x) @ wt) ** 2).sum().backward()
    ref_norm = torch.nn.utils.clip_grad_norm_([wt], 0.5)
    assert float(norm.numpy()) == pytest.approx(float(ref_norm), rel=1e-5)
    close(w.grad, wt.grad, "backward 之后裁剪")
    assert unused.grad is None


def test_bad_arguments_name_the_parameter(err):
    with pytest.raises(ValueError) as e:
        warmup_cosine(0, 10, 10, 1e-3)
    err.names(e, "warmup", "total")
    with pytest.raises(ValueError) as e:
        warmup_cosine(-1, 10, 2, 1e-3)
    err.names(e, "step")
    with pytest.raises(ValueError) as e:
        warmup_cosine(0, 10, 2, 1e-3, lr_min=1e-2)
    err.names(e, "lr_min", "lr_max")
    p = Tensor(np.zeros(3, "f4"))
    with pytest.raises(ValueError) as e:
        clip_grad_norm([p], 1.0)
    err.names(e, "clip_grad_norm")
    p.grad = Tensor.ones(3)
    with pytest.raises(ValueError) as e:
        clip_grad_norm([p], 0.0)
    err.names(e, "max_norm")


def test_clip_grad_norm_inside_a_jit_train_step():
    """在 TinyJit 编译的训练步里裁剪：SGD 每步正好移动 lr × max_norm。"""
    from tinygrad import Context, TinyJit
    from tinygrad.nn.optim import SGD
    from tinygrad.nn.state import get_parameters

    from tinymodels import MLP, cross_entropy

    model = MLP([6, 8, 3])
    params = get_parameters(model)
    lr, max_norm = 0.1, 0.05
    opt = SGD(params, lr=lr)
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((4, 6)).astype("f4"))
    y = Tensor(rng.integers(0, 3, 4).astype("i4"))

    @TinyJit
    def step(x, y):
        opt.zero_grad()
        loss = cross_entropy(model(x), y)
        loss.backward()
        norm = clip_grad_norm(params, max_norm)
        return norm.realize(loss, *opt.schedule_step())

    with Context(TRAINING=1):
        for _ in range(3):  # 第 3 步起是 JIT 重放
            before = np.concatenate([p.numpy().ravel() for p in params])
            norm = float(step(x, y).numpy())
            after = np.concatenate([p.numpy().ravel() for p in params])
            assert norm > max_norm  # 这组数据的梯度确实被裁了
            moved = np.linalg.norm(after - before)
            assert moved == pytest.approx(lr * max_norm, rel=1e-3)
