"""TinyGPT：GPT-2 结构的小语言模型，整个模型就在这一个文件里。

    x = E[idx] + P[:T]                       词嵌入 + 可学习的位置嵌入
    x = x + Attn(LN1(x))                     每个块：因果自注意力（Pre-LN）
    x = x + MLP(LN2(x))                      再接逐位置前馈网络
    logits = LN_f(x) W_head^T                最后归一化，投影到词表

符号：B 批大小，T 序列长度，C = d_model，h 头数，d_h = C / h，V 词表大小。
"""

from __future__ import annotations

import numpy as np
from tinygrad import Context, Tensor, TinyJit

from tinymodels._contract import expect, is_int, require
from tinymodels._tinygrad import to_device
from tinymodels.layers import init
from tinymodels.layers.basic import Dropout, LayerNorm, Linear
from tinymodels.models._jit import cached_jit
from tinymodels.sampling import check_sampling_args, sample_next

__all__ = ["TinyGPT"]


class CausalSelfAttention:
    """多头因果自注意力：位置 t 只看 0..t；q、k、v 由一个投影算出。"""

    def __init__(self, d_model: int, num_heads: int, dropout: float):
        self.n_head, self.dropout = num_heads, dropout
        self.qkv = Linear(d_model, 3 * d_model)  # 一次矩阵乘法算出 q、k、v
        self.proj = Linear(d_model, d_model)
        self.drop = Dropout(dropout)

    def __call__(self, x: Tensor) -> Tensor:
        B, T, C = x.shape
        qkv = self.qkv(x).reshape(B, T, 3, self.n_head, C // self.n_head)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # 各 (B, h, T, d_h)
        # softmax(q k^T / sqrt(d_h) + 因果掩码) v
        y = q.scaled_dot_product_attention(
            k, v, is_causal=True, dropout_p=self.dropout
        )  # (B, h, T, d_h)
        y = y.transpose(1, 2).reshape(B, T, C)  # 各头拼回 (B, T, C)
        return self.drop(self.proj(y))


class MLP:
    """逐位置前馈网络 ``ReLU(x W_1^T + b_1) W_2^T + b_2``，隐藏层宽 ``d_ff``。

    GPT-2 用 GELU；这里用 ReLU：在 tinygrad 的 CPU 后端上，GELU（tanh 近似）
    让本模型的训练步慢约 6 倍、首步编译也更慢（2026-12 实测）。
    """

    def __init__(self, d_model: int, d_ff: int, dropout: float):
        self.fc1 = Linear(d_model, d_ff)
        self.fc2 = Linear(d_ff, d_model)
        self.drop = Dropout(dropout)

    def __call__(self, x: Tensor) -> Tensor:
        return self.drop(self.fc2(self.fc1(x).relu()))


class Block:
    """Pre-LN 解码器块：先归一化再进子层，残差直接相加。"""

    def __init__(
        self, d_model: int, num_heads: int, d_ff: int, dropout: float
    ):
        self.ln1 = LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, num_heads, dropout)
        self.ln2 = LayerNorm(d_model)
        self.mlp = MLP(d_model, d_ff, dropout)

    def __call__(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class TinyGPT:
    """GPT-2 结构的自回归语言模型：``idx (B, T)`` -> ``logits (B, T, V)``。

    位置 ``t`` 的 logits 只依赖 ``idx[:, :t+1]``，用来预测第 ``t+1`` 个
    token。词嵌入与位置嵌入按 GPT-2 的做法取 ``N(0, 0.02^2)``。

    Args:
        vocab_size: 词表大小 ``V``。
        block_size: 最长上下文 ``T_max``。
        d_model: 模型宽度 ``C``。
        num_heads: 注意力头数 ``h``（须整除 ``d_model``）。
        num_layers: 块数。
        d_ff: 前馈隐藏层宽度，默认 ``4 * d_model``。
        dropout: dropout 概率（只在训练时生效）。
    """

    def __init__(
        self,
        vocab_size: int,
        block_size: int = 32,
        d_model: int = 64,
        num_heads: int = 4,
        num_layers: int = 2,
        d_ff: int | None = None,
        dropout: float = 0.0,
    ):
        require(
            vocab_size >= 1, f"TinyGPT: vocab_size={vocab_size} 应为正整数"
        )
        require(
            d_model % num_heads == 0,
            f"TinyGPT: d_model={d_model} 应能被 num_heads={num_heads} 整除",
        )
        self.vocab_size, self.block_size = vocab_size, block_size
        self.d_model, self.num_heads = d_model, num_heads
        self.num_layers = num_layers
        self.d_ff = d_ff or 4 * d_model
        self.tok_emb = init.normal((vocab_size, d_model), 0.02)  # (V, C)
        self.pos_emb = init.normal((block_size, d_model), 0.02)  # (T_max, C)
        self.drop = Dropout(dropout)
        self.blocks = [
            Block(d_model, num_heads, self.d_ff, dropout)
            for _ in range(num_layers)
        ]
        self.ln_f = LayerNorm(d_model)
        self.head = Linear(d_model, vocab_size, bias=False)

    def __call__(self, idx: Tensor) -> Tensor:
        B, T = expect(idx, "B T", "idx", "TinyGPT", dtype="int")
        require(
            1 <= T <= self.block_size,
            f"TinyGPT: idx 的长度应满足 1 <= T <= "
            f"block_size={self.block_size}，实际形状为 ({B}, {T})",
        )
        x = self.drop(self.tok_emb[idx] + self.pos_emb[:T])  # (B, T, C)
        for block in self.blocks:
            x = block(x)  # (B, T, C)
        return self.head(self.ln_f(x))  # (B, T, V)

    def generate(
        self,
        idx: Tensor,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        seed: int | None = None,
        top_p: float | None = None,
    ) -> Tensor:
        """自回归地采样 ``max_new_tokens`` 个 token，接在 ``idx`` 后面返回。

        每一步取最后一个位置的 logits，交给 ``sampling.sample_next``
        （温度、top-k、top-p，再按分布抽一个）接到末尾。上下文超过
        ``block_size`` 时只看最后 ``block_size`` 个。每一步都把整段上下文
        重新前向一遍（没有 KV 缓存，见“推理：KV 缓存与采样”一页）。

        Args:
            idx: ``(B, T)`` 的开头 token。
            max_new_tokens: 生成多少个。
            temperature: 温度（>= 0），越小越保守；0 即贪心（取 argmax）。
            top_k: 只在概率最高的 ``top_k`` 个里抽。
            seed: 随机种子；给出时结果可复现。
            top_p: 核采样：只在累积概率达到 ``top_p`` 的最小集合里抽。
        """
        B, _ = expect(idx, "B T", "idx", "TinyGPT.generate", dtype="int")
        require(
            is_int(max_new_tokens),
            f"TinyGPT.generate: max_new_tokens={max_new_tokens} 应不小于 0",
        )
        check_sampling_args(
            self.vocab_size, temperature, top_k, top_p, "TinyGPT.generate"
        )
        rng = init.rng() if seed is None else np.random.default_rng(seed)
        tokens = idx.numpy().astype(np.int32)
        for _ in range(max_new_tokens):
            ctx = tokens[:, -self.block_size :]
            logits = self._last_logits(ctx)  # (B, V)
            nxt = sample_next(logits, rng, temperature, top_k, top_p)  # (B,)
            tokens = np.concatenate(
                [tokens, nxt[:, None].astype(np.int32)], 1
            )
        return Tensor(tokens)

    def _last_logits(self, ctx: np.ndarray) -> np.ndarray:
        """``ctx`` ``(B, L)`` 最后一个位置的 logits ``(B, V)``，float64。

        为了只编译一次，总在固定形状 ``(B, block_size)`` 的窗口上前向：
        上下文放在开头、后面补 0。因果注意力保证补的 0 影响不到位置 L - 1。
        """
        B, L = ctx.shape
        window = np.zeros((B, self.block_size), np.int32)
        window[:, :L] = ctx
        logits = _forward_jit(self, B)(to_device(window)).numpy()
        return logits[:, L - 1].astype(np.float64)


def _forward_jit(model: TinyGPT, B: int) -> TinyJit:
    """批大小 ``B`` 的推理前向，编译一次（见 ``models/_jit.py``）。"""

    def make(ref):
        def forward(x: Tensor) -> Tensor:
            with Context(TRAINING=0):
                return ref()(x).realize()

        return forward

    return cached_jit(model, B, make)
