# 数参数：MLP 与 TinyGPT 的参数量随宽度、深度增长，
# 和正文推出的闭式公式逐个核对；
# 再把同一个公式套到 GPT-3 的超参数上，看看能不能得到“1750 亿”。
from tinymodels import MLP, TinyGPT, count_parameters, set_seed

set_seed(0)  # 初值无关紧要（只数个数），固定种子只是习惯


def mlp_params(sizes: list[int]) -> int:
    """层宽 d_0..d_L 的全连接网络：每层 d_{l-1}·d_l 个权重加 d_l 个偏置。"""
    return sum(
        d_in * d_out + d_out for d_in, d_out in zip(sizes[:-1], sizes[1:])
    )


def block_params(d: int, d_ff: int) -> int:
    """一个 Pre-LN 块：4 个 d×d 投影（含偏置）+ 前馈网络 + 2 个 LayerNorm。"""
    attention = 4 * (d * d + d)
    feed_forward = d * d_ff + d_ff + d_ff * d + d
    layer_norms = 2 * (2 * d)  # 每个 LayerNorm 有 d 个缩放、d 个平移
    return attention + feed_forward + layer_norms


def gpt_params(
    V: int, S: int, d: int, L: int, d_ff: int, tied: bool = False
) -> int:
    """词嵌入 V·d + 位置嵌入 S·d + L 个块 + 最后的 LayerNorm 2d + 输出层 d·V。

    输出层与词嵌入共享权重（tied）时不另计。
    """
    head = 0 if tied else d * V
    return V * d + S * d + L * block_params(d, d_ff) + 2 * d + head


# 1) MLP：加宽与加深。隐藏层越多，隐藏层之间的 w×w 矩阵越占主导，
# 宽度翻倍时参数量越接近翻两番。
print("MLP 层宽                      参数量")
for width in (32, 64, 128):
    for depth in (1, 2, 4):  # 隐藏层个数
        sizes = [64] + [width] * depth + [10]
        n = count_parameters(MLP(sizes))
        assert n == mlp_params(sizes), (sizes, n)
        print(f"{str(sizes):30s}{n:>8,d}")
# docstring 里的例子：MLP([64, 32, 10]) 有 64*32+32 + 32*10+10 = 2410 个参数
assert count_parameters(MLP([64, 32, 10])) == 2410

# 2) TinyGPT：d_ff 默认等于 4d，此时每个块有 12d² + 13d 个参数，深度 L
# 线性放大、宽度 d 平方放大。
print("\nTinyGPT (d, L)      参数量   其中 Transformer 块占比")
V, S = 64, 32  # 小词表与短上下文，只为数参数
for d in (32, 64, 128):
    for L in (1, 2, 4):
        n = count_parameters(
            TinyGPT(V, block_size=S, d_model=d, num_heads=4, num_layers=L)
        )
        assert n == gpt_params(V, S, d, L, 4 * d), (d, L, n)
        assert block_params(d, 4 * d) == 12 * d * d + 13 * d
        print(
            f"({d:3d}, {L})    {n:>12,d}   "
            f"{L * block_params(d, 4 * d) / n:6.1%}"
        )

# 3) 同一个公式套到 GPT-3 175B 的超参数（Brown 等，2020，表 2.1）：
# L = 96 层，d = 12288，d_ff = 4d，上下文 2048，沿用 GPT-2 的 50257 词表，
# 输入输出共享词嵌入。
n_gpt3 = gpt_params(V=50257, S=2048, d=12288, L=96, d_ff=4 * 12288, tied=True)
print(f"\nGPT-3 按公式估算：{n_gpt3:,d} ≈ {n_gpt3 / 1e9:.1f}B")
assert abs(n_gpt3 / 175e9 - 1) < 0.01  # 与论文的 175B 相差不到 1%
