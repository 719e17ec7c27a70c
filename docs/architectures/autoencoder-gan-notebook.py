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
# # 笔记本：重建与生成样本
#
# 本笔记本配合[自编码器与生成对抗网络](autoencoder-gan/index.md)一页，把三样东西画出来：
#
# 1. 自编码器把 8x8 手写数字压到 8 维再还原的效果（上排原图，下排重建）；
# 2. 一维例子里的两个密度 $p_{\mathrm{data}}$、$p_g$ 与最优判别器 $D^* = p_{\mathrm{data}} / (p_{\mathrm{data}} + p_g)$；
# 3. GAN 在“圆环上的 8 个高斯”上训练时，生成样本随训练步数的变化。

# %%
# 图输出成 SVG：矢量图，放大不模糊
# %config InlineBackend.figure_formats = ["svg"]
import matplotlib.pyplot as plt
import numpy as np
from tinygrad import Context, Tensor, TinyJit
from tinygrad.nn.optim import Adam
from tinygrad.nn.state import get_parameters

from tinymodels import (
    GAN,
    Autoencoder,
    bce_with_logits,
    evaluate,
    fit,
    gaussian_mixture,
    load_digits,
    mixture_centers,
    mse_loss,
    set_seed,
)

# 图里的汉字需要中文字体：用下面第一个装了的；
# 一个都没有时图照样画，但汉字会显示成方框（matplotlib 会警告缺字）
plt.rcParams["font.sans-serif"] = [
    "WenQuanYi Micro Hei",
    "Noto Sans CJK SC",
    "Microsoft YaHei",
    "PingFang SC",
    "DejaVu Sans",
]


# %% [markdown]
# ## 自编码器的重建
#
# 与正文相同的模型（编码器 $64 \to 32 \to 8$，解码器对称）和训练设置。

# %%
X_train, _ = load_digits("train", flatten=True)
X_test, y_test = load_digits("test", flatten=True)
set_seed(0)
ae = Autoencoder(input_dim=64, hidden_dims=(32,), latent_dim=8)
fit(
    ae,
    (X_train, X_train),
    loss_fn=mse_loss,
    epochs=20,
    batch_size=128,
    optimizer=Adam(get_parameters(ae), lr=1e-2),
)
test_mse = evaluate(ae, (X_test, X_test), loss_fn=mse_loss)["loss"]
baseline_mse = float(((X_test - X_train.mean(axis=0)) ** 2).mean())
print(f"测试集 MSE：自编码器 {test_mse:.4f}，平均图像基线 {baseline_mse:.4f}")
assert test_mse < 0.025 and test_mse < baseline_mse / 2

# 每个数字取测试集里的第一张
idx = np.array([np.flatnonzero(y_test == d)[0] for d in range(10)])
originals = X_test[idx]
recon = ae(Tensor(originals)).numpy()

fig, axes = plt.subplots(2, 10, figsize=(7, 1.9), layout="constrained")
for d in range(10):
    axes[0, d].imshow(
        originals[d].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1
    )
    axes[1, d].imshow(recon[d].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    axes[0, d].axis("off")
    axes[1, d].axis("off")
axes[0, 0].set_title("原图", fontsize=10, loc="left")
axes[1, 0].set_title("重建（经过 8 维编码）", fontsize=10, loc="left")
plt.show()

# %% [markdown]
# 重建图比原图模糊一些：8 个数只能记住笔画的大致位置和走向，细节被瓶颈丢掉了。

# %% [markdown]
# ## 一维最优判别器
#
# 正文用 $p_{\mathrm{data}} = \mathcal{N}(0, 1)$、$p_g = \mathcal{N}(1.5, 0.6^2)$ 训练了一个判别器并与 $D^*$ 比较。
# 下图只画公式：在 $p_g$ 占优的地方 $D^*$ 低，在 $p_{\mathrm{data}}$ 占优的地方 $D^*$ 高。
# $p_g$ 的方差更小、尾巴更薄，所以离开中间区域后，$D^*$ 在左右两侧都回升到 1 附近。


# %%
def normal_pdf(x, mu, sd):
    return np.exp(-0.5 * ((x - mu) / sd) ** 2) / (sd * np.sqrt(2 * np.pi))


x = np.linspace(-3, 4, 400)
p_data, p_g = normal_pdf(x, 0.0, 1.0), normal_pdf(x, 1.5, 0.6)
d_star = p_data / (p_data + p_g)
assert np.all((d_star > 0) & (d_star < 1))


def at(v):
    return d_star[np.abs(x - v).argmin()]


assert (
    at(1.5) < 0.5 < at(0.0)
)  # p_g 的中心处 D* < 1/2，p_data 的中心处 D* > 1/2
assert (
    at(-3.0) > 0.99 and at(4.0) > 0.5
)  # p_g 的尾巴更薄，离开中间区域后 D* 在两侧都回升

fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(x, p_data, label=r"$p_{\mathrm{data}} = \mathcal{N}(0, 1)$")
ax.plot(x, p_g, label=r"$p_g = \mathcal{N}(1.5, 0.6^2)$")
ax.plot(x, d_star, "k--", label=r"最优判别器 $D^*(x)$")
ax.set_xlabel(r"$x$")
ax.set_ylabel("概率密度 / 判别器输出")
ax.legend(fontsize=9)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## GAN 的样本随训练的变化
#
# 与正文相同的设置，每隔 500 步生成一次样本。灰点是真实数据，蓝点是生成的样本，红叉是 8 个中心。

# %%
MODES, N, B = 8, 512, 128
data_np = gaussian_mixture(N, modes=MODES, std=0.05, seed=0)
data = Tensor(data_np).realize()
set_seed(0)
gan = GAN(latent_dim=2, data_dim=2, hidden=(128,))
G, D = gan.generator, gan.discriminator
d_opt = Adam(get_parameters(D), lr=2e-3, b1=0.5)
g_opt = Adam(get_parameters(G), lr=2e-3, b1=0.5)
ones, zeros = (
    Tensor.ones(B, 1).contiguous().realize(),
    Tensor.zeros(B, 1).contiguous().realize(),
)


@TinyJit
def train_step():
    real = data[Tensor.randint(B, high=N)]
    fake = G(Tensor.randn(B, 2))
    d_opt.zero_grad()
    d_loss = bce_with_logits(D(real), ones) + bce_with_logits(
        D(fake.detach()), zeros
    )
    d_loss.backward()
    Tensor.realize(d_loss, *d_opt.schedule_step())
    g_opt.zero_grad()
    g_loss = bce_with_logits(D(G(Tensor.randn(B, 2))), ones)
    g_loss.backward()
    Tensor.realize(g_loss, *g_opt.schedule_step())
    return d_loss, g_loss


snapshots = {}
with Context(TRAINING=1):
    for step in range(1, 1501):
        train_step()
        if step % 500 == 0:
            snapshots[step] = gan.sample(2000, seed=1).numpy()

centers = mixture_centers(MODES)
fig, axes = plt.subplots(1, 3, figsize=(7, 2.7))
for ax, (step, s) in zip(axes, snapshots.items()):
    # 画一半样本就看得清；点画成位图（rasterized），坐标轴和文字仍是矢量，
    # 页面小得多
    ax.scatter(s[::2, 0], s[::2, 1], s=2, rasterized=True)
    ax.scatter(data_np[:, 0], data_np[:, 1], s=1, c="gray", rasterized=True)
    ax.scatter(centers[:, 0], centers[:, 1], marker="x", c="red")
    ax.set_title(f"训练 {step} 步后")
    ax.set_xlim(-3, 3)
    ax.set_ylim(-3, 3)
    ax.set_aspect("equal")
fig.tight_layout()
plt.show()

# 与正文相同的检查：一半以上的样本落在某个模式附近，
# 8 个模式都至少分到公平份额的一半
dist = np.linalg.norm(snapshots[1500][:, None, :] - centers[None], axis=-1)
near = dist.min(axis=1) < 0.25
counts = np.bincount(dist.argmin(axis=1)[near], minlength=MODES)
print(f"落在模式附近的样本占 {near.mean():.0%}，各模式计数 {counts.tolist()}")
assert near.mean() > 0.5 and counts.min() >= 0.5 * counts.sum() / MODES

# %% [markdown]
# 500 步时样本已经被拉到圆环上，但还很分散；之后逐渐聚到 8 个中心附近。
# 中心之间始终留着一些“桥”：生成器是连续函数，无法把连通的噪声分布完全切成 8 块。
