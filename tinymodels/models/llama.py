"""TinyLlama：LLaMA 结构的小语言模型（TinyGPT 的现代版），全在这一个文件里。

    x = E[idx]                      只有词嵌入，没有位置嵌入
    x = x + Attn(RMSNorm_1(x))      因果自注意力：q、k 做 RoPE，K/V 分组共享
    x = x + FFN(RMSNorm_2(x))       FFN(x) = W_2 (SiLU(W_1 x) ⊙ W_3 x)
    logits = RMSNorm_f(x) E^T       输出层默认与词嵌入共享权重

    RMSNorm(x) = g ⊙ x / sqrt(mean(x^2) + eps)
    RoPE：每对分量 (x_{2i}, x_{2i+1}) 在位置 t 旋转角度 t θ_i，
          θ_i = theta^(-2i / d_h)，i = 0 .. d_h/2 - 1

符号：B 批大小，T 序列长度，C = d_model，h 查询头数，h_kv 键/值头数
（h_kv 整除 h，每 g = h / h_kv 个查询头共用一组 K/V），d_h = C / h，
V 词表大小，T_max = block_size，d_ff 前馈隐藏层宽度。

KV 缓存：生成时把每层算过的 k、v 存在 (B, h_kv, T_max, d_h) 的缓冲区里，
新位置只算自己的 q、k、v。为了在 tinygrad 上只编译一次，写入与掩码都由
位置张量 ``pos`` 算出（独热写入、``j <= pos`` 的掩码），形状不随位置变化。
"""

from __future__ import annotations

import math

import numpy as np
from tinygrad import Context, Tensor, TinyJit, nn

from tinymodels._contract import expect, is_int, require
from tinymodels._tinygrad import to_device
from tinymodels.layers import init
from tinymodels.layers.basic import Linear
from tinymodels.models._jit import cached_jit
from tinymodels.sampling import check_sampling_args, sample_next

__all__ = [
    "TinyLlama", "RMSNorm", "SwiGLU", "KVCache", "rope_tables", "apply_rope",
]  # fmt: skip


class RMSNorm(nn.RMSNorm):
    """``g ⊙ x / sqrt(mean(x^2) + eps)``：不减均值、没有偏置的层归一化。

    就是 ``tinygrad.nn.RMSNorm``（子类只为在 API 页上有说明）；它的 ``eps``
    默认 ``1e-6``，TinyLlama 传入 ``norm_eps``。同 ``torch.nn.RMSNorm``。
    """


def rope_tables(
    d_h: int, T_max: int, theta: float = 10000.0
) -> tuple[Tensor, Tensor]:
    """RoPE 的 ``cos``、``sin`` 表，各 ``(T_max, d_h/2)``，角度 ``t θ_i``。

    ``θ_i = theta^(-2i/d_h)``：i 越大转得越慢。表用 float64 算再存成
    float32，是不参与训练的缓冲区（``is_param=False``）。
    """
    i = np.arange(d_h // 2)
    angle = np.arange(T_max)[:, None] * theta ** (
        -2 * i / d_h
    )  # (T_max, d_h/2)
    return (
        Tensor(np.cos(angle).astype(np.float32)).is_param_(False),
        Tensor(np.sin(angle).astype(np.float32)).is_param_(False),
    )


def apply_rope(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """把 ``x (B, n, T, d_h)`` 的每对相邻分量 ``(2i, 2i+1)`` 旋转 ``t θ_i``。

    相邻两个分量成对，与 RoFormer 论文和 Meta 的 LLaMA 参考实现相同，
    也正好是复数写法：``x_{2i} + i x_{2i+1}`` 乘以 ``e^{i t θ_i}``。
    ``cos``、``sin`` 形状 ``(T, d_h/2)``，第 t 行对应 ``x`` 的第 t 个位置。
    """
    B, n, T, d_h = x.shape
    pairs = x.reshape(B, n, T, d_h // 2, 2)
    x1, x2 = pairs[..., 0], pairs[..., 1]  # 各 (B, n, T, d_h/2)
    out = Tensor.stack(x1 * cos - x2 * sin, x1 * sin + x2 * cos, dim=-1)
    return out.reshape(B, n, T, d_h)


class SwiGLU:
    """门控前馈网络 ``W_2 (SiLU(W_1 x) ⊙ W_3 x)``，没有偏置。

    SiLU(z) = z σ(z)。三个矩阵共 ``3 C d_ff`` 个参数；``d_ff ≈ 8C/3`` 时与
    隐藏层 ``4C`` 的两矩阵 MLP（``8C^2``）一样多。
    """

    def __init__(self, d_model: int, d_ff: int):
        self.w1 = Linear(d_model, d_ff, bias=False)  # 门
        self.w3 = Linear(d_model, d_ff, bias=False)  # 值
        self.w2 = Linear(d_ff, d_model, bias=False)

    def __call__(self, x: Tensor) -> Tensor:
        # 速度：先把 (B, T, d_ff) 的隐藏层算出来存好。不然 tinygrad 把 SiLU
        # 与逐元素乘融合进 W_2 的矩阵乘，每个输出列都重算一遍（CPU 上一个
        # 训练步慢约 40%，编译也更久；算的还是同样的数，损失不变）
        h = (self.w1(x).silu() * self.w3(x)).contiguous()  # (B, T, d_ff)
        return self.w2(h)


class Attention:
    """分组查询注意力（GQA）：h 个查询头，h_kv 组键/值，q、k 先做 RoPE。

    h_kv = h 就是普通的多头注意力，h_kv = 1 是多查询注意力（MQA）。
    """

    def __init__(self, d_model: int, num_heads: int, num_kv_heads: int):
        self.h, self.h_kv = num_heads, num_kv_heads
        self.d_h = d_model // num_heads
        self.wq = Linear(d_model, num_heads * self.d_h, bias=False)
        self.wk = Linear(d_model, num_kv_heads * self.d_h, bias=False)
        self.wv = Linear(d_model, num_kv_heads * self.d_h, bias=False)
        self.wo = Linear(num_heads * self.d_h, d_model, bias=False)

    def __call__(self, x, cos, sin, mask, cache=None, onehot=None) -> Tensor:
        B, T, C = x.shape
        q = self.wq(x).reshape(B, T, self.h, self.d_h).transpose(1, 2)
        k = self.wk(x).reshape(B, T, self.h_kv, self.d_h).transpose(1, 2)
        v = self.wv(x).reshape(B, T, self.h_kv, self.d_h).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if cache is not None:
            # 独热写入：onehot (T, T_max) 的第 t 行在 pos[t] 处为 1，
            # onehot^T @ k 把第 t 个新 k 放到缓存的第 pos[t] 行，其余行不动。
            ck, cv = cache  # 各 (B, h_kv, T_max, d_h)
            hit = onehot.sum(0).reshape(-1, 1) > 0  # (T_max, 1)
            k = ck.assign(hit.where(onehot.T @ k, ck))
            v = cv.assign(hit.where(onehot.T @ v, cv))
        # enable_gqa：每个 K/V 头重复 g = h / h_kv 次（repeat_interleave），
        # 查询头 j 用第 j // g 组；softmax(q k^T / sqrt(d_h) + 掩码) v
        y = q.scaled_dot_product_attention(
            k, v, attn_mask=mask, enable_gqa=self.h != self.h_kv
        )  # (B, h, T, d_h)
        return self.wo(y.transpose(1, 2).reshape(B, T, C))


class Block:
    """Pre-norm 解码器块：RMSNorm 后进子层，残差直接相加。"""

    def __init__(self, d_model, num_heads, num_kv_heads, d_ff, eps):
        self.attn_norm = RMSNorm(d_model, eps=eps)
        self.attn = Attention(d_model, num_heads, num_kv_heads)
        self.ffn_norm = RMSNorm(d_model, eps=eps)
        self.ffn = SwiGLU(d_model, d_ff)

    def __call__(self, x, cos, sin, mask, cache=None, onehot=None) -> Tensor:
        x = x + self.attn(self.attn_norm(x), cos, sin, mask, cache, onehot)
        return x + self.ffn(self.ffn_norm(x))


class KVCache:
    """每层一对预先分配的 ``k``、``v``，各 ``(B, h_kv, T_max, d_h)``。

    ``length`` 是已经写入的位置数（下一个位置从这里开始），``nbytes`` 是
    全部缓存张量实际占的字节数 ``2 · 层数 · B · h_kv · T_max · d_h · 4``。
    由 ``TinyLlama.new_cache(batch_size)`` 创建。
    """

    def __init__(self, num_layers, batch_size, num_kv_heads, max_len, d_h):
        shape = (batch_size, num_kv_heads, max_len, d_h)
        # 用 NumPy 的零初始化：不用为“填 0”编译内核
        zeros = [np.zeros(shape, np.float32) for _ in range(2 * num_layers)]
        self.k = [to_device(z) for z in zeros[:num_layers]]
        self.v = [to_device(z) for z in zeros[num_layers:]]
        self.batch_size, self.max_len, self.length = batch_size, max_len, 0

    @property
    def nbytes(self) -> int:
        """全部 ``k``、``v`` 张量占的字节数。"""
        return sum(t.nbytes() for t in self.k + self.v)


class TinyLlama:
    """LLaMA 结构的自回归语言模型：``idx (B, T)`` -> ``logits (B, T, V)``。

    与 TinyGPT 相比：RMSNorm 代替 LayerNorm，RoPE 代替可学习的位置嵌入，
    SwiGLU 代替 ReLU 的 MLP，K/V 可以分组共享（GQA），线性层都没有偏置，
    输出层默认与词嵌入共享权重。

    Args:
        vocab_size: 词表大小 ``V``。
        block_size: 最长上下文 ``T_max``（也是 KV 缓存的长度）。
        d_model: 模型宽度 ``C``。
        num_heads: 查询头数 ``h``（须整除 ``d_model``，``d_h`` 须为偶数）。
        num_kv_heads: 键/值头数 ``h_kv``（须整除 ``h``），默认等于 ``h``。
        num_layers: 块数。
        d_ff: SwiGLU 隐藏层宽度，默认 ``8C/3`` 向上取到 8 的倍数。
        rope_theta: RoPE 的底数 ``theta``。
        tie_weights: 输出层与词嵌入共用同一个 ``(V, C)`` 张量。
        norm_eps: RMSNorm 的 ``eps``。
    """

    def __init__(
        self,
        vocab_size: int,
        block_size: int = 64,
        d_model: int = 64,
        num_heads: int = 4,
        num_kv_heads: int | None = None,
        num_layers: int = 2,
        d_ff: int | None = None,
        rope_theta: float = 10000.0,
        tie_weights: bool = True,
        norm_eps: float = 1e-5,
    ):
        num_kv_heads = num_kv_heads or num_heads
        require(
            vocab_size >= 1 and block_size >= 1,
            f"TinyLlama: vocab_size={vocab_size}、block_size={block_size} "
            "应为正整数",
        )
        require(
            d_model % num_heads == 0 and (d_model // num_heads) % 2 == 0,
            f"TinyLlama: d_model={d_model} 应能被 num_heads={num_heads} "
            "整除，且每头维度 d_h 为偶数（RoPE 两两配对）",
        )
        require(
            num_heads % num_kv_heads == 0,
            f"TinyLlama: num_heads={num_heads} 应能被 "
            f"num_kv_heads={num_kv_heads} 整除",
        )
        self.vocab_size, self.block_size = vocab_size, block_size
        self.d_model, self.num_layers = d_model, num_layers
        self.num_heads, self.num_kv_heads = num_heads, num_kv_heads
        self.d_h = d_model // num_heads
        self.d_ff = d_ff or math.ceil(8 * d_model / 3 / 8) * 8
        self.tok_emb = init.normal((vocab_size, d_model), 0.02)  # (V, C)
        self.blocks = [
            Block(d_model, num_heads, num_kv_heads, self.d_ff, norm_eps)
            for _ in range(num_layers)
        ]
        self.norm_f = RMSNorm(d_model, eps=norm_eps)
        self.head = Linear(d_model, vocab_size, bias=False)
        if tie_weights:
            self.head.weight = self.tok_emb  # 同一个张量：logits = x E^T
        self.cos, self.sin = rope_tables(self.d_h, block_size, rope_theta)

    def __call__(
        self, idx: Tensor, start_pos: int = 0, cache: KVCache | None = None
    ) -> Tensor:
        """没有 ``cache`` 时是整段的因果前向；有 ``cache`` 时把位置
        ``start_pos .. start_pos+T-1`` 的 k、v 写进缓存，并让它们看
        ``0 .. start_pos+T-1``，之后 ``cache.length = start_pos + T``。
        """
        B, T = expect(idx, "B T", "idx", "TinyLlama", dtype="int")
        require(
            1 <= T <= self.block_size,
            f"TinyLlama: idx 的长度应满足 1 <= T <= "
            f"block_size={self.block_size}，实际形状为 ({B}, {T})",
        )
        if cache is None:
            # 只看自己和之前；放在 idx 所在的设备上（模型可能不在默认设备）
            mask = Tensor.ones(T, T, dtype="bool", device=idx.device).tril()
            return self._forward(idx, self.cos[:T], self.sin[:T], mask)
        want = (B, self.num_kv_heads, self.block_size, self.d_h)
        got = tuple(cache.k[0].shape)
        require(
            got == want and len(cache.k) == self.num_layers,
            f"TinyLlama: cache 每层的形状应为 (B, h_kv, T_max, d_h) = "
            f"{want}、共 {self.num_layers} 层，实际为 {got}、"
            f"{len(cache.k)} 层（用 model.new_cache(B) 创建）",
        )
        require(
            0 <= start_pos <= cache.length and start_pos + T <= cache.max_len,
            f"TinyLlama: 缓存已有 {cache.length} 个位置、最多 "
            f"{cache.max_len} 个，不能写入 start_pos={start_pos} 起的 "
            f"{T} 个（idx 形状 ({B}, {T})）",
        )
        pos = to_device(np.arange(start_pos, start_pos + T, dtype=np.int32))
        logits = self._cached(idx, pos, *cache.k, *cache.v)
        Tensor.realize(logits, *cache.k, *cache.v)
        cache.length = start_pos + T
        return logits

    def _forward(self, idx, cos, sin, mask, kv=None, onehot=None) -> Tensor:
        x = self.tok_emb[idx]  # (B, T, C)
        for i, block in enumerate(self.blocks):
            cache = kv[i] if kv else None  # 第 i 层的 (k, v) 缓存
            x = block(x, cos, sin, mask, cache, onehot)  # (B, T, C)
        return self.head(self.norm_f(x))  # (B, T, V)

    def _cached(self, idx: Tensor, pos: Tensor, *kv: Tensor) -> Tensor:
        """位置 ``pos (T,)`` 上的前向，k、v 写进缓存 ``kv``（先 k 后 v）。"""
        slots = Tensor.arange(self.block_size)  # (T_max,)
        onehot = (pos.reshape(-1, 1) == slots).float()  # (T, T_max)
        mask = slots.reshape(1, -1) <= pos.reshape(-1, 1)  # 键 j <= 查询位置
        L = self.num_layers
        pairs = list(zip(kv[:L], kv[L:]))
        # cos[pos]：用独热矩阵取行，与写缓存同一个矩阵
        return self._forward(
            idx, onehot @ self.cos, onehot @ self.sin, mask, pairs, onehot
        )

    def new_cache(self, batch_size: int) -> KVCache:
        """一个空的 KV 缓存，长度 ``block_size``。"""
        require(
            batch_size >= 1,
            f"TinyLlama.new_cache: batch_size={batch_size} 应为正整数",
        )
        return KVCache(
            self.num_layers, batch_size, self.num_kv_heads, self.block_size,
            self.d_h,
        )  # fmt: skip

    def generate(
        self,
        idx: Tensor,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        seed: int | None = None,
        use_cache: bool = True,
    ) -> Tensor:
        """自回归地生成 ``max_new_tokens`` 个 token，接在 ``idx`` 后面返回。

        ``use_cache=True`` 时先把提示整段算一遍填满缓存（prefill），之后每步
        只算新 token 的一个位置；否则每步都在整个窗口上重算。两种方式的
        结果逐 token 相同。上下文超过 ``block_size`` 后只看最后
        ``block_size`` 个（此时缓存每步重新填一遍）。

        Args:
            idx: ``(B, T)`` 的提示，``T <= block_size``。
            max_new_tokens: 生成多少个。
            temperature: 温度（>= 0），0 表示贪心。
            top_k: 只在概率最高的 ``top_k`` 个里抽。
            top_p: 只在累积概率达到 ``top_p`` 的最小集合里抽。
            seed: 随机种子；给出时结果可复现。
            use_cache: 是否用 KV 缓存。
        """
        B, T = expect(idx, "B T", "idx", "TinyLlama.generate", dtype="int")
        require(
            1 <= T <= self.block_size,
            f"TinyLlama.generate: 提示长度应在 1..block_size="
            f"{self.block_size} 之间，idx 形状为 ({B}, {T})",
        )
        require(
            is_int(max_new_tokens),
            f"TinyLlama.generate: max_new_tokens={max_new_tokens} 应不小于 0",
        )
        check_sampling_args(
            self.vocab_size, temperature, top_k, top_p, "TinyLlama.generate"
        )
        rng = init.rng() if seed is None else np.random.default_rng(seed)
        tokens = idx.numpy().astype(np.int32)
        cache = self.new_cache(B) if use_cache else None
        # 三个编译好的调用在循环外取好：整段前向、prefill、一步解码
        bs = self.block_size
        jits = _jit(self, "full", B, bs), _jit(self, "step", B, bs)
        jits += (_jit(self, "step", B, 1),)
        for _ in range(max_new_tokens):
            logits = self._next_logits(tokens, cache, jits)  # (B, V)
            # 温度、top-k、top-p 后按分布抽一个（tinymodels.sampling）
            nxt = sample_next(
                logits, rng, temperature=temperature, top_k=top_k, top_p=top_p
            )
            tokens = np.concatenate([tokens, nxt.reshape(B, 1)], 1)
            tokens = tokens.astype(np.int32)
        return Tensor(tokens)

    def _next_logits(self, tokens: np.ndarray, cache, jits) -> np.ndarray:
        """``tokens (B, n)`` 最后一个位置的 logits ``(B, V)``，float64。

        每种调用只编译一次：整段前向与 prefill 都在固定形状
        ``(B, block_size)`` 的窗口上做（上下文放开头、后面补 0，因果掩码
        保证补的 0 影响不到前面）；有缓存时之后每步是 ``(B, 1)`` 的一步。
        prefill 在补 0 的位置也写了缓存，但它们在被看到之前就会被覆盖。
        """
        B, n = tokens.shape
        bs = self.block_size
        full, prefill, step = jits
        if cache is not None and cache.length == n - 1 and n <= bs:
            pos = to_device(np.array([n - 1], np.int32))
            logits = step(to_device(tokens[:, -1:]), pos, *cache.k, *cache.v)
            cache.length = n
            return logits.numpy()[:, 0].astype(np.float64)
        ctx = tokens[:, -bs:]
        L = ctx.shape[1]
        window = np.zeros((B, bs), np.int32)
        window[:, :L] = ctx
        if cache is None:
            logits = full(to_device(window))
        else:
            pos = to_device(np.arange(bs, dtype=np.int32))
            logits = prefill(to_device(window), pos, *cache.k, *cache.v)
            cache.length = L
        return logits.numpy()[:, L - 1].astype(np.float64)


def _jit(model: TinyLlama, kind: str, B: int, T: int = 1) -> TinyJit:
    """整段前向（``"full"``）或一步解码/prefill（``"step"``），每种形状编译
    一次（见 ``models/_jit.py``）。"""

    def make(ref):
        def full(idx: Tensor) -> Tensor:
            with Context(TRAINING=0):
                return ref()(idx).realize()

        def step(idx: Tensor, pos: Tensor, *kv: Tensor) -> Tensor:
            # 缓存张量是 JIT 的输入：换一个缓存也不用重新编译
            with Context(TRAINING=0):
                logits = ref()._cached(idx, pos, *kv)
                Tensor.realize(logits, *kv)
                return logits

        return full if kind == "full" else step

    return cached_jit(model, (kind, B, T), make)
