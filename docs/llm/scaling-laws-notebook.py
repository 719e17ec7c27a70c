# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 笔记本：在本站语料上拟合 L(N)
#
# 这个笔记本训练 5 个宽度不同的 `TinyLlama`，用同样的数据、同样的步数，
# 再把验证损失拟合成 $L(N) = E + A / N^{\alpha}$，画出拟合曲线，并用残差自助法
# 给出指数 $\alpha$ 的不确定度。实验设计和它能说明、不能说明什么，见
# [在本站语料上测规模定律](scaling-laws/experiment.md)；公式见
# [规模定律](scaling-laws/index.md)。看图时看两件事：左图的点是否落在拟合
# 曲线上，右图减去 $E$ 之后是不是一条直线。整本在 2 核 CPU 上约需一分钟，
# 大部分时间花在为每个宽度编译一次训练步。

# %%
# 图输出成 SVG：矢量图，放大不模糊
# %config InlineBackend.figure_formats = ["svg"]
import math

import matplotlib.pyplot as plt
import numpy as np
from tinygrad import Context, Tensor
from tinygrad.nn.optim import Adam
from tinygrad.nn.state import get_parameters

from tinymodels import (
    TinyLlama,
    count_parameters,
    cross_entropy,
    load_corpus,
    next_token_windows,
    realize_state,
    set_seed,
    train_step,
)
from tinymodels.scaling import fit_power_law

# 图里的汉字需要中文字体：用下面第一个装了的；
# 一个都没有时图照样画，但汉字会显示成方框（matplotlib 会警告缺字）
plt.rcParams["font.sans-serif"] = [
    "WenQuanYi Micro Hei",
    "Noto Sans CJK SC",
    "Microsoft YaHei",
    "PingFang SC",
    "DejaVu Sans",
]

# 字节级词元：UTF-8 的每个字节是一个词元，V = 256，一个汉字 3 个词元
ids = np.frombuffer(load_corpus().encode("utf-8"), np.uint8)
V, T, BATCH, LR = 256, 32, 64, 1e-2
split = int(len(ids) * 0.9)  # 前 90% 训练，后 10% 验证
X, Y = next_token_windows(ids[:split], T, stride=T)  # 不重叠的窗口
Xv, Yv = next_token_windows(ids[split:], T, stride=T)
steps = len(X) // BATCH  # 正好一轮：每个训练词元只看一次
order = np.random.default_rng(0).permutation(len(X))[: steps * BATCH]
order = order.reshape(steps, BATCH)  # 所有模型按同样的顺序看同样的批
n_val = len(Xv) // BATCH
D = steps * BATCH * T  # 每个模型训练的词元数
print(f"{len(ids):,} 个字节词元；每个模型训练 {steps} 步、D = {D:,}")


def batch(x, y, rows):
    return Tensor(x[rows].astype(np.int32)), Tensor(y[rows].astype(np.int32))


def train_one(width: int) -> dict:
    """训练一个 1 层、2 个头的 TinyLlama，返回参数量与验证损失。"""
    set_seed(0)
    model = TinyLlama(
        V, block_size=T, d_model=width, num_heads=2, num_layers=1
    )
    opt = Adam(get_parameters(model), lr=LR)
    realize_state(model, opt)  # 先算出初值，JIT 录制时不用再编译一遍
    step = train_step(lambda x, y: cross_entropy(model(x), y), opt)
    with Context(TRAINING=1):
        for k in range(steps):
            # 余弦调度，周期正好是这次训练的长度（Hoffmann 等 2022 的做法）
            lr = LR * 0.5 * (1 + math.cos(math.pi * k / steps))
            opt.lr.assign(Tensor([lr], dtype=opt.lr.dtype)).realize()
            step(*batch(X, Y, order[k]))
        # 学习率设为 0 再调用同一个训练步：参数不变，返回的就是验证批上的
        # 损失，不用为评估另外编译一个图
        opt.lr.assign(Tensor([0.0], dtype=opt.lr.dtype)).realize()
        val = [
            step(*batch(Xv, Yv, np.arange(j * BATCH, (j + 1) * BATCH))).item()
            for j in range(n_val)
        ]
    N_total = count_parameters(model)
    return dict(
        width=width, N=N_total - V * width, N_total=N_total, L=np.mean(val)
    )


runs = [train_one(w) for w in (8, 12, 16, 24, 32)]
print("宽度  非嵌入 N  全部参数  6ND（次运算）  验证损失")
for r in runs:
    print(
        f"{r['width']:4d} {r['N']:9,d} {r['N_total']:9,d} "
        f"{6 * r['N'] * D:13.2e} {r['L']:9.3f}"
    )
N = np.array([r["N"] for r in runs], float)
L = np.array([r["L"] for r in runs])
# 断言：模型越大，验证损失越低；都远好于均匀猜测的 ln 256 ≈ 5.55
assert np.all(np.diff(L) < 0) and L[-1] < math.log(V) - 1

# %% [markdown]
# 用 `fit_power_law` 拟合（在 $E$ 的网格上做对数线性回归，方法见
# [实验页](scaling-laws/experiment.md#拟合方法)）。不确定度用残差自助法：
# 把 5 个残差放大 $\sqrt{n / (n - 3)}$ 倍（3 个参数用掉了自由度），有放回地
# 抽样加回拟合值，重新拟合 300 次，取 $\alpha$ 的 2.5% 与 97.5% 分位数。
# 它只反映这 5 个点偏离曲线的程度，不包括换随机种子、换学习率带来的变化。

# %%
fit = fit_power_law(N, L)
resid = (L - fit.predict(N)) * math.sqrt(len(N) / (len(N) - 3))
rng = np.random.default_rng(0)
boot = np.array(
    [
        fit_power_law(N, fit.predict(N) + rng.choice(resid, len(N))).alpha
        for _ in range(300)
    ]
)
lo, hi = np.percentile(boot, [2.5, 97.5])
fit_total = fit_power_law([r["N_total"] for r in runs], L)  # 数上嵌入
print(
    f"非嵌入 N：E = {fit.E:.2f}，A = {fit.A:.2f}，alpha = {fit.alpha:.3f}"
    f"（95% 区间 {lo:.3f} ~ {hi:.3f}），残差最大 "
    f"{np.abs(L - fit.predict(N)).max():.4f}"
)
print(f"数上嵌入参数：alpha = {fit_total.alpha:.3f}，E = {fit_total.E:.2f}")
# 断言：拟合曲线贴着 5 个点（残差远小于相邻两点的差距）
assert np.abs(L - fit.predict(N)).max() < 0.3 * np.abs(np.diff(L)).min()
assert 0 < lo < fit.alpha < hi

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(6.8, 3.2), layout="constrained")
grid = np.logspace(np.log10(N[0] / 1.5), np.log10(N[-1] * 1.5), 100)
ax1.plot(N, L, "o", label="验证损失")
ax1.plot(grid, fit.predict(grid), "-", label=r"$E + A/N^{\alpha}$")
ax1.axhline(fit.E, color="gray", ls="--", label=f"E = {fit.E:.2f}")
ax1.set_xscale("log")
ax1.set_xlabel("非嵌入参数量 N")
ax1.set_ylabel("验证损失（nat / 字节）")
ax1.legend(fontsize=9)
ax2.loglog(N, L - fit.E, "o")
ax2.loglog(grid, fit.A * grid**-fit.alpha, "-")
ax2.set_xlabel("非嵌入参数量 N")
ax2.set_ylabel(r"$L - E$（对数刻度）")
ax2.set_title(rf"斜率 $-\alpha$ = {-fit.alpha:.3f}", fontsize=10)
plt.show()
