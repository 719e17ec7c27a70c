"""混合专家（MoE）层：路由器为每个词元挑 k 个 SwiGLU 专家，输出加权求和。

    p = softmax(W_r x)              路由概率，每个词元 E 个数
    S = TopK(p, k)                  概率最大的 k 个专家（并列时编号小的优先）
    g_i = p_i / Σ_{j∈S} p_j         门控（i ∈ S）：在选中的 k 个里重新归一化，
                                    Mixtral 的做法
    g_i = p_i                       renormalize=False：直接用概率（Switch）
    y = Σ_{i∈S} g_i · FFN_i(x)      被容量挡掉的那一路不算

    容量：每个专家一批最多收 cap = ceil(capacity_factor · k · N / E) 个词元，
    按词元在批里的先后排队，排不上的这一路输出为 0（词元只剩残差那条路）。

    辅助损失（Switch Transformer）：aux = α · E · Σ_i f_i · P_i
      f_i = 被路由器分给专家 i 的比例（按 k·N 个“名额”算，容量截断之前）
      P_i = 全部词元路由到专家 i 的平均概率

符号：N = B·T 个词元，C = d_model，E 个专家，每个专家隐藏层 d_ff。

实现说明：为了让 tinygrad 只编译固定形状，这里**每个专家都在全部 N 个词元上
算一遍**，再用分派掩码只留下被选中（且没被容量挡掉）的结果。数学上与只算选中
词元的稀疏实现完全相同，但计算量是 E/k 倍：只适合教学用的小模型。真正的实现按
专家把词元收集成 (E, cap, C) 的缓冲区，每个专家只算自己的 cap 个。
"""

from __future__ import annotations

import math

import numpy as np
from tinygrad import Tensor

from tinymodels._contract import is_int, require
from tinymodels.layers.basic import Linear
from tinymodels.models.llama import SwiGLU

__all__ = ["MoE", "RoutingStats", "topk_mask"]


def topk_mask(p: Tensor, k: int) -> Tensor:
    """``p (N, E)`` 每行最大的 ``k`` 个位置为 1 的掩码 ``(N, E)``（float）。

    不用排序：专家 i 的名次 = 有几个专家比它大（相等时编号更小的算更大），
    名次 < k 就入选。只有一次 ``(N, E, E)`` 的比较，形状固定，编译便宜。
    """
    E = p.shape[-1]
    pi, pj = p.unsqueeze(-1), p.unsqueeze(-2)  # (N, E, 1)、(N, 1, E)
    idx = Tensor.arange(E)
    earlier = idx.reshape(1, E) < idx.reshape(E, 1)  # [i, j]：j 比 i 编号小
    beats = (pj > pi) | ((pj == pi) & earlier)  # (N, E, E)：j 排在 i 前面
    rank = beats.float().sum(-1)  # (N, E)：专家 i 的名次 0..E-1
    return (rank < k).float()


class RoutingStats:
    """一次前向的路由统计量（都是惰性张量）。

    ``aux_loss``：辅助损失（已乘 α）；``f``、``P``：各 ``(E,)``；
    ``dropped``：被容量挡掉的名额比例。用 ``__slots__``、没有 ``__dict__``：
    ``get_parameters``、``get_state_dict`` 不会把它们当成模型的参数或状态
    （否则优化器、检查点和 JIT 缓存都会多出这几个张量）。
    """

    __slots__ = ("aux_loss", "f", "P", "dropped")


class MoE:
    """混合专家前馈层：``x (B, T, C)`` -> ``(B, T, C)``，可替换 ``SwiGLU``。

    每次调用后，本批的统计量留在 ``stats``（``RoutingStats``）：
    ``aux_loss``（已乘 α）、``f``、``P`` 与 ``dropped``。

    Args:
        d_model: 宽度 ``C``。
        d_ff: 每个专家 SwiGLU 的隐藏层宽度。
        num_experts: 专家数 ``E``。
        top_k: 每个词元用几个专家 ``k``（1 <= k <= E）。
        capacity_factor: 容量因子；``None`` 表示不限容量，不丢词元。
        aux_loss_coef: 辅助损失系数 ``α``（Switch Transformer 取 0.01）。
        renormalize: 门控是否在选中的 k 个里重新归一化（Mixtral 的做法）；
            ``False`` 时直接用路由概率（Switch 的做法）。k = 1 且归一化时
            门控恒为 1，路由器只能从辅助损失得到梯度。
    """

    def __init__(
        self,
        d_model: int,
        d_ff: int,
        num_experts: int,
        top_k: int = 2,
        capacity_factor: float | None = None,
        aux_loss_coef: float = 0.01,
        renormalize: bool = True,
    ):
        require(
            is_int(num_experts, 1) and is_int(d_model, 1) and is_int(d_ff, 1),
            f"MoE: num_experts={num_experts!r}、d_model={d_model!r}、"
            f"d_ff={d_ff!r} 应为正整数",
        )
        require(
            is_int(top_k, 1) and top_k <= num_experts,
            f"MoE: top_k={top_k!r} 应满足 1 <= top_k <= "
            f"num_experts={num_experts}",
        )
        require(
            capacity_factor is None or capacity_factor > 0,
            f"MoE: capacity_factor={capacity_factor!r} 应为正数或 None"
            "（不限容量）",
        )
        require(
            aux_loss_coef >= 0,
            f"MoE: aux_loss_coef={aux_loss_coef!r} 应不小于 0",
        )
        self.num_experts, self.top_k = num_experts, top_k
        self.capacity_factor = capacity_factor
        self.aux_loss_coef = aux_loss_coef
        self.renormalize = renormalize
        self.stats = RoutingStats()
        self.router = Linear(d_model, num_experts, bias=False)  # W_r (E, C)
        # E 个 SwiGLU 专家：按 SwiGLU 建好（初值与 E 个独立的 SwiGLU 相同），
        # 再把同名权重叠成一个张量，前向时一次批量矩阵乘法算完所有专家。
        # 初值是 NumPy 生成的现成数据，在 NumPy 里叠起来，不用编译内核
        experts = [SwiGLU(d_model, d_ff) for _ in range(num_experts)]
        self.w1, self.w3, self.w2 = (
            Tensor(np.stack([getattr(f, w).weight.numpy() for f in experts]))
            for w in ("w1", "w3", "w2")
        )  # (E, d_ff, C)、(E, d_ff, C)、(E, C, d_ff)

    def expert(self, i: int) -> SwiGLU:
        """第 ``i`` 个专家，当作一个普通的 ``SwiGLU``（与本层共用权重）。"""
        ffn = SwiGLU.__new__(SwiGLU)  # 不调 __init__：不新建、不初始化权重
        for name in ("w1", "w3", "w2"):
            linear = Linear.__new__(Linear)
            linear.weight, linear.bias = getattr(self, name)[i], None
            setattr(ffn, name, linear)
        return ffn

    def capacity(self, num_tokens: int) -> int:
        """``N`` 个词元时每个专家的容量 ``ceil(c · k · N / E)``。

        不限容量时是 ``N``：一个专家最多也只会被 N 个词元各选一次。
        """
        if self.capacity_factor is None:
            return num_tokens
        cap = (
            self.capacity_factor * self.top_k * num_tokens / self.num_experts
        )
        return min(num_tokens, math.ceil(cap))

    def route(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """路由 ``x (N, C)``：``p``、``sel``、``keep``、``g``，各 (N, E)。

        ``p`` 路由概率；``sel`` 路由器选中的 k 个（0/1）；``keep`` 其中没被
        容量挡掉的；``g`` 门控权重（只在 ``sel`` 处非零）。
        """
        N = x.shape[0]
        p = self.router(x).softmax(-1)  # (N, E)
        sel = topk_mask(p, self.top_k)  # (N, E)
        g = p * sel  # (N, E)
        if self.renormalize:
            g = g / g.sum(-1, keepdim=True)  # 选中的 k 个加起来为 1
        if self.capacity_factor is None:  # 不限容量：选中的都留下
            return p, sel, sel, g
        # 按先后排队：词元 n 是专家 i 的第几个客人（从 1 数）
        pos = sel.cumsum(0)  # (N, E)
        keep = sel * (pos <= self.capacity(N)).float()  # (N, E)
        return p, sel, keep, g

    def __call__(self, x: Tensor) -> Tensor:
        B, T, C = x.shape
        N, E, k = B * T, self.num_experts, self.top_k
        xf = x.reshape(N, C)  # (N, C)：路由按词元，不看位置
        p, sel, keep, g = self.route(xf)  # 各 (N, E)
        # 稠密计算：每个专家都算全部 N 个词元，再只留下分派到它的。
        # out[e] 就是 self.expert(e)(xf)，E 个专家一起算：内核少，编译快
        w1, w3, w2 = (w.transpose(1, 2) for w in (self.w1, self.w3, self.w2))
        # SiLU(W_1 x) ⊙ W_3 x，先存好再乘 W_2（理由同 llama.SwiGLU）
        h = ((xf @ w1).silu() * (xf @ w3)).contiguous()  # (E, N, d_ff)
        out = h @ w2  # (E, N, C)：专家 e 对词元 n 的输出
        w = (g * keep).T.unsqueeze(-1)  # (E, N, 1)：没分派到的是 0
        y = (w * out).sum(0)  # (N, C)
        # Switch 的负载均衡损失：f 是计数，不可导；梯度只经过 P
        st = self.stats
        st.f = sel.detach().sum(0) / (k * N)  # (E,)
        st.P = p.mean(0)  # (E,)
        st.aux_loss = self.aux_loss_coef * E * (st.f * st.P).sum()
        st.dropped = 1 - keep.detach().sum() / (k * N)  # 被挡掉的名额比例
        return y.reshape(B, T, C)
