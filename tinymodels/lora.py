"""LoRA（低秩适配）：冻结预训练的线性层，只训练旁边的低秩增量。

    h = W x + (α / r) · B (A x)

符号：``W (d_out, d_in)`` 是冻结的原权重；``A (r, d_in)``、``B (d_out, r)``
是新增的可训练矩阵，秩 ``r << min(d_in, d_out)``；``α`` 是缩放常数，
增量 ``ΔW = (α / r) B A`` 的秩不超过 ``r``。初值：``A`` 是小随机数，
``B = 0``，所以刚加上适配器时 ``ΔW = 0``，模型与原来逐位相同；训练开始后
梯度先流到 ``B``。每层多出 ``r (d_in + d_out)`` 个可训练参数，而不是
``d_in · d_out`` 个。训练完可以把增量并进 ``W``（``merge``），推理时与
原模型一样快；``unmerge`` 再把它减掉。

冻结（tinygrad 0.14 没有 ``requires_grad``）：把原模型的参数标成
``is_param=False``。优化器和 ``count_parameters`` 都跳过这样的张量；
``backward`` 虽然也为它们建好梯度的计算图，但没人 ``realize``，
不会真的算。
"""

from __future__ import annotations

import math

from tinygrad import Tensor, nn
from tinygrad.nn.state import get_parameters

from tinymodels._contract import is_int, require
from tinymodels.layers import init

__all__ = [
    "LoRALinear",
    "apply_lora",
    "lora_layers",
    "lora_parameter_count",
    "lora_parameters",
]  # fmt: skip


def lora_parameter_count(d_in: int, d_out: int, r: int) -> int:
    """一个适配器的可训练参数数 ``r (d_in + d_out)``（A 与 B 之和）。"""
    return r * (d_in + d_out)


class LoRALinear:
    """包住一个 ``Linear``：``h = x W^T (+ b) + s · x A^T B^T``。

    ``s = α / r``。原层的 ``weight``、``bias`` 被冻结（``is_param=False``），
    只有 ``A``、``B`` 是参数。先算 ``x A^T``（宽 ``r``）再乘 ``B^T``，
    每个位置多花 ``r (d_in + d_out)`` 次乘加，不必构造 ``d_out × d_in`` 的
    ``B A``。

    Args:
        base: 要适配的 ``tinygrad.nn.Linear``（``tinymodels.Linear`` 也是）。
        r: 秩，``1 <= r <= min(d_in, d_out)``。
        alpha: 缩放常数 ``α > 0``；换 ``r`` 时保持 ``α`` 不变，增量的大小
            大致不变，学习率不用重调。
    """

    def __init__(self, base, r: int = 4, alpha: float = 8.0):
        require(
            isinstance(base, nn.Linear),
            f"LoRALinear: base 应为 Linear 层，实际为 {type(base).__name__}",
        )
        d_out, d_in = base.weight.shape
        require(
            is_int(r, 1) and r <= min(d_in, d_out),
            f"LoRALinear: 秩 r 应为 1..min(d_in, d_out)={min(d_in, d_out)} "
            f"之间的整数，实际为 {r!r}（权重形状 ({d_out}, {d_in})）",
        )
        require(
            isinstance(alpha, (int, float)) and alpha > 0,
            f"LoRALinear: alpha 应为正数，实际为 {alpha!r}",
        )
        for t in (base.weight, base.bias):
            if t is not None:
                t.is_param_(False)  # 冻结：优化器与参数计数都跳过它
        self.base, self.r, self.alpha = base, r, alpha
        self.d_in, self.d_out = d_in, d_out
        self.scale = alpha / r  # s = α / r
        # A 与 Linear 的默认初值同分布；B = 0 让 ΔW 从 0 开始
        self.A = init.uniform((r, d_in), 1 / math.sqrt(d_in))  # (r, d_in)
        self.B = init.zeros((d_out, r))  # (d_out, r)
        self.merged = False

    def __call__(self, x: Tensor) -> Tensor:
        h = self.base(x)  # (..., d_out)：x W^T (+ b)
        if self.merged:  # ΔW 已经在 W 里
            return h
        return h + self.scale * (x @ self.A.T) @ self.B.T  # (..., d_out)

    def delta(self) -> Tensor:
        """增量 ``ΔW = (α / r) B A``，形状 ``(d_out, d_in)``，秩 <= r。"""
        return self.scale * self.B @ self.A

    def merge(self) -> None:
        """``W <- W + ΔW``：之后前向只算一次矩阵乘法，与原模型一样快。

        换成一个新的权重张量（不原地改写），生成用的 JIT 缓存据此知道要
        重新编译。
        """
        require(not self.merged, "LoRALinear.merge: 增量已经合并过了")
        self._set_weight(self.base.weight + self.delta())
        self.merged = True

    def unmerge(self) -> None:
        """``W <- W - ΔW``：取回原权重（差一点浮点舍入），可以接着训练。"""
        require(self.merged, "LoRALinear.unmerge: 增量还没有合并")
        self._set_weight(self.base.weight - self.delta())
        self.merged = False

    def _set_weight(self, w: Tensor) -> None:
        self.base.weight = w.contiguous().realize().is_param_(False)


def _linears(obj, path: str = "", seen=None):
    """递归找出 ``obj`` 属性里的 Linear 与 LoRALinear：``(路径, 主人, 属性名,
    层)``。"""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return
    seen.add(id(obj))
    items = (
        enumerate(obj)
        if isinstance(obj, (list, tuple))
        else getattr(obj, "__dict__", {}).items()
    )
    for name, child in list(items):
        here = f"{path}.{name}" if path else str(name)
        if isinstance(child, (nn.Linear, LoRALinear)):
            yield here, obj, name, child
        elif isinstance(child, (list, tuple)) or hasattr(child, "__dict__"):
            if not isinstance(child, Tensor):
                yield from _linears(child, here, seen)


def lora_layers(model) -> dict[str, LoRALinear]:
    """模型里所有的 LoRALinear：``{"blocks.0.attn.wq": 层, ...}``。"""
    return {
        p: layer
        for p, _, _, layer in _linears(model)
        if isinstance(layer, LoRALinear)
    }


def lora_parameters(model) -> list[Tensor]:
    """模型里全部适配器的参数 ``[A, B, A, B, ...]``：只把它们交给优化器。"""
    return [
        t for layer in lora_layers(model).values() for t in (layer.A, layer.B)
    ]


def apply_lora(
    model, r: int = 4, alpha: float = 8.0, targets=("wq", "wv")
) -> list[Tensor]:
    """冻结 ``model`` 的全部参数，把名字在 ``targets`` 里的 Linear 换成
    ``LoRALinear``，返回新增的可训练参数（同 ``lora_parameters(model)``）。

    例如 TinyLlama 的 ``targets=("wq", "wv")`` 给每层注意力的 ``W_q``、
    ``W_v`` 加适配器（Hu 等，2022 的默认做法）；可选的名字还有 ``wk``、
    ``wo``、``w1``、``w2``、``w3``、``head``。之后 ``count_parameters(model)``
    只数可训练的参数。

    Args:
        model: 任何在属性里放着 ``Linear`` 的模型（如 ``TinyLlama``）。
        r: 秩。
        alpha: 缩放常数 ``α``。
        targets: 要适配的层的属性名（不是路径），一个或多个。
    """
    if isinstance(targets, str):
        targets = (targets,)
    found = list(_linears(model))
    linear_names = sorted({name for _, _, name, _ in found})
    require(
        len(targets) > 0,
        f"apply_lora: targets 不能为空，可选的 Linear 层名：{linear_names}",
    )
    for name in targets:
        attrs = _attribute_types(model, name)
        require(
            bool(attrs),
            f"apply_lora: 模型里没有叫 {name!r} 的层，"
            f"可选的 Linear 层名：{linear_names}",
        )
        require(
            attrs <= {"Linear"},
            f"apply_lora: {name!r} 是 {'、'.join(sorted(attrs))}，"
            "不是 Linear（已经是 LoRALinear 的层不能再套一层），"
            f"可选的 Linear 层名：{linear_names}",
        )
    for t in get_parameters(model):
        t.is_param_(False)  # 冻结原模型的一切（包括词嵌入、RMSNorm）
    for _, owner, name, layer in found:
        if name in targets:
            setattr(owner, name, LoRALinear(layer, r, alpha))
    return lora_parameters(model)


def _attribute_types(model, name: str) -> set[str]:
    """模型各处名为 ``name`` 的属性是什么类型（Linear 类都记作 "Linear"）。"""
    kinds, todo, seen = set(), [model], set()
    while todo:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, Tensor):
            continue
        seen.add(id(obj))
        if isinstance(obj, (list, tuple)):
            todo += list(obj)
            continue
        attrs = getattr(obj, "__dict__", {})
        if name in attrs:
            v = attrs[name]
            kind = type(v).__name__
            kinds.add("Linear" if isinstance(v, nn.Linear) else kind)
        todo += [v for v in attrs.values() if not isinstance(v, Tensor)]
    return kinds
