"""学习率预热加余弦衰减，以及按全局范数裁剪梯度。

大模型训练几乎每一步都用到这两样（``docs/llm/distributed/index.md``）::

    预热（step < W）：  lr = lr_max · (step + 1) / W
    余弦（W ≤ step）：  p  = min(1, (step − W) / (N − W))
                       lr = lr_min + ½ (lr_max − lr_min) (1 + cos(π p))
    裁剪：             ‖g‖ = sqrt(Σ_i Σ_j g_ij²)   （全部梯度拼成一个向量）
                       g ← g · min(1, max_norm / (‖g‖ + 1e-6))

符号：``step`` 从 0 数，N 是总步数 ``total``，W 是预热步数 ``warmup``。
两者都与 PyTorch 的做法逐步相同（见 ``tests/tinymodels/test_schedules.py``）。
"""

from __future__ import annotations

import math

from tinygrad import Tensor

from tinymodels._contract import is_int, require

__all__ = ["warmup_cosine", "clip_grad_norm"]


def warmup_cosine(
    step: int,
    total: int,
    warmup: int,
    lr_max: float,
    lr_min: float = 0.0,
) -> float:
    """第 ``step`` 步（从 0 数）的学习率：线性预热，再按余弦降到 ``lr_min``。

    预热从 ``lr_max / warmup`` 开始而不是从 0：第 0 步就有一点学习率，
    第 ``warmup − 1`` 步正好到 ``lr_max``。余弦段在第 ``total`` 步降到
    ``lr_min``，之后保持不变。与 PyTorch 的
    ``SequentialLR([LinearLR(start_factor=1/W, total_iters=W−1),
    CosineAnnealingLR(T_max=N−W, eta_min=lr_min)], milestones=[W])``
    每一步相同；``warmup=0`` 时就是 ``CosineAnnealingLR``。

    Args:
        step: 当前步数，``>= 0``。
        total: 总步数 N，``>= 1``。
        warmup: 预热步数 W，``0 <= W < N``。
        lr_max: 预热结束时的（最大）学习率。
        lr_min: 最后的学习率，``0 <= lr_min <= lr_max``。

    Returns:
        float: 这一步的学习率。
    """
    where = "warmup_cosine"
    require(is_int(step), f"{where}: step={step!r} 应为非负整数")
    require(is_int(total, 1), f"{where}: total={total!r} 应为正整数")
    require(
        is_int(warmup) and warmup < total,
        f"{where}: warmup={warmup!r} 应为整数且 0 <= warmup < total={total}",
    )
    require(
        0 <= lr_min <= lr_max,
        f"{where}: 应有 0 <= lr_min <= lr_max，实际 lr_min={lr_min}、"
        f"lr_max={lr_max}",
    )
    if step < warmup:
        return lr_max * (step + 1) / warmup
    p = min(1.0, (step - warmup) / (total - warmup))  # 余弦段走过的比例
    return lr_min + 0.5 * (lr_max - lr_min) * (1 + math.cos(math.pi * p))


def clip_grad_norm(params, max_norm: float) -> Tensor:
    """按全局范数裁剪梯度：总范数超过 ``max_norm`` 时全部梯度按同一比例缩小。

    把所有参数的梯度看成一个长向量，只改步长、不改方向（Pascanu 等，2013）。
    系数里的 ``1e-6`` 与 ``torch.nn.utils.clip_grad_norm_`` 相同，所以裁剪后
    的范数比 ``max_norm`` 略小一点点。没有梯度（``grad is None``）的参数跳过。

    张量是惰性的：这里只搭计算图，``p.grad`` 换成缩小后的张量，可以放进
    ``TinyJit`` 编译的训练步（在 ``backward`` 之后、``opt.schedule_step``
    之前调用）。用了损失缩放时，先把梯度除以缩放系数再裁剪。

    Args:
        params: 参数列表，如 ``get_parameters(model)``。
        max_norm: 阈值，``> 0``。

    Returns:
        Tensor: 裁剪**之前**的全局范数（0 维，float32）。
    """
    where = "clip_grad_norm"
    require(max_norm > 0, f"{where}: max_norm={max_norm} 应大于 0")
    params = list(params)
    with_grad = [p for p in params if p.grad is not None]
    require(
        len(with_grad) > 0,
        f"{where}: {len(params)} 个参数都没有梯度；先调用 loss.backward()",
    )
    squares = [(p.grad.float() ** 2).sum() for p in with_grad]  # 每个参数一项
    norm = Tensor.stack(*squares).sum().sqrt()  # ‖g‖：拼成一个向量的范数
    coef = (max_norm / (norm + 1e-6)).minimum(1.0)  # 没超过时为 1，梯度不变
    for p in with_grad:
        p.grad = (p.grad * coef).cast(p.grad.dtype)
    return norm
