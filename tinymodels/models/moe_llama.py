"""TinyMoELlama：每个块的 SwiGLU 换成混合专家层（MoE）的 TinyLlama。

    x = x + Attn(RMSNorm_1(x))      与 TinyLlama 相同
    x = x + MoE(RMSNorm_2(x))       E 个 SwiGLU 专家，每个词元用 k 个

其余（词嵌入、RoPE、GQA、KV 缓存、generate）全部继承 TinyLlama。训练时把
``model.aux_loss``（各层辅助损失之和）加到交叉熵上::

    loss = cross_entropy(model(x), y) + model.aux_loss
"""

from __future__ import annotations

from tinygrad import Tensor

from tinymodels._contract import require
from tinymodels.layers.moe import MoE
from tinymodels.models.llama import TinyLlama

__all__ = ["TinyMoELlama"]


class TinyMoELlama(TinyLlama):
    """前馈网络是 MoE 的 TinyLlama：``idx (B, T)`` -> ``logits (B, T, V)``。

    先照常建一个 TinyLlama，再把每个块的 ``ffn`` 换成 ``MoE``。所以同一个
    种子下，词嵌入、注意力与输出层的初值与同配置的 TinyLlama 逐位相同，两者
    只差前馈网络。

    Args:
        vocab_size: 词表大小 ``V``。
        num_experts: 每层专家数 ``E``。
        top_k: 每个词元用几个专家 ``k``。
        expert_d_ff: 每个专家的隐藏层宽度，默认与 TinyLlama 的 ``d_ff``
            相同（这时 k = 1 的激活参数量与稠密模型相同）。
        capacity_factor: 容量因子，``None`` 不限容量。
        aux_loss_coef: 辅助损失系数 ``α``。
        renormalize: 门控是否在选中的 k 个里重新归一化（Mixtral）。
        **kwargs: 其余参数同 ``TinyLlama``（``block_size``、``d_model``、
            ``num_heads``、``num_kv_heads``、``num_layers``、``d_ff`` 等）。
    """

    def __init__(
        self,
        vocab_size: int,
        num_experts: int = 4,
        top_k: int = 2,
        expert_d_ff: int | None = None,
        capacity_factor: float | None = None,
        aux_loss_coef: float = 0.01,
        renormalize: bool = True,
        **kwargs,
    ):
        super().__init__(vocab_size, **kwargs)
        require(
            expert_d_ff is None or expert_d_ff >= 1,
            f"TinyMoELlama: expert_d_ff={expert_d_ff!r} 应为正整数或 None",
        )
        self.expert_d_ff = expert_d_ff or self.d_ff
        for block in self.blocks:
            block.ffn = MoE(
                self.d_model, self.expert_d_ff, num_experts, top_k,
                capacity_factor, aux_loss_coef, renormalize,
            )  # fmt: skip

    @property
    def moe_layers(self) -> list[MoE]:
        """各块的 MoE 层。"""
        return [block.ffn for block in self.blocks]

    @property
    def aux_loss(self) -> Tensor:
        """上一次前向里各层辅助损失之和（标量张量）。"""
        require(
            hasattr(self.moe_layers[0].stats, "aux_loss"),
            "TinyMoELlama.aux_loss: 先做一次前向 model(idx) 再取辅助损失",
        )
        return Tensor.stack(
            *[m.stats.aux_loss for m in self.moe_layers]
        ).sum()
