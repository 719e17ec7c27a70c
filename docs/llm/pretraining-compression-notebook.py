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
# # 笔记本：剪枝率与准确率
#
# 本笔记本配合[预训练、微调与模型压缩](pretraining-compression/index.md)一页，画出两张图：
#
# 1. 一个 $64 \to 128 \to 10$ 的 MLP 在手写数字上的测试准确率随稀疏度的变化：一次性剪枝 vs 剪枝后固定掩码再训练；
# 2. int8 对称量化的还原误差 $(W - \hat{W}) / S$ 的直方图，它应当全部落在 $[-1/2, 1/2]$ 内。

# %%
# 图输出成 SVG：矢量图，放大不模糊
# %config InlineBackend.figure_formats = ["svg"]
import matplotlib.pyplot as plt
import numpy as np
from tinygrad import Tensor
from tinygrad.nn.optim import Adam
from tinygrad.nn.state import get_parameters

from tinymodels import MLP, evaluate, fit, load_digits, set_seed

# 图里的汉字需要中文字体：用下面第一个装了的；
# 一个都没有时图照样画，但汉字会显示成方框（matplotlib 会警告缺字）
plt.rcParams["font.sans-serif"] = [
    "WenQuanYi Micro Hei",
    "Noto Sans CJK SC",
    "Microsoft YaHei",
    "PingFang SC",
    "DejaVu Sans",
]

X_train, y_train = load_digits("train", flatten=True)
X_test, y_test = load_digits("test", flatten=True)
set_seed(0)
model = MLP([64, 128, 10])
fit(
    model,
    (X_train, y_train),
    epochs=15,
    batch_size=128,
    optimizer=Adam(get_parameters(model), lr=5e-3),
)
dense = [layer.weight.numpy() for layer in model.layers]
dense_bias = [layer.bias.numpy() for layer in model.layers]


def magnitude_prune(w, sparsity):
    """把 w 中绝对值最小的 sparsity 比例的元素置零。"""
    pruned = w.copy().reshape(-1)
    pruned[
        np.argsort(np.abs(w), axis=None)[: int(round(sparsity * w.size))]
    ] = 0.0
    return pruned.reshape(w.shape)


class MaskedMLP:
    """前向时用 W ⊙ M 代替 W，再训练时被剪掉的权重保持为零。"""

    def __init__(self, mlp, masks):
        self.mlp, self.masks = mlp, masks

    def __call__(self, x):
        for i, (layer, mask) in enumerate(zip(self.mlp.layers, self.masks)):
            x = x.linear((layer.weight * mask).T, layer.bias)
            if i < len(self.masks) - 1:
                x = x.relu()
        return x


def load_pruned(sparsity):
    """从稠密权重出发剪枝（偏置也恢复成稠密模型的值），返回掩码。"""
    for layer, w, b in zip(model.layers, dense, dense_bias):
        layer.weight.assign(Tensor(magnitude_prune(w, sparsity))).realize()
        layer.bias.assign(Tensor(b)).realize()
    return [
        Tensor((layer.weight.numpy() != 0).astype(np.float32))
        for layer in model.layers
    ]


# %% [markdown]
# ## 准确率与稀疏度
#
# 每个稀疏度都从同一个稠密模型出发：先一次性剪枝并测准确率，再固定掩码训练 10 轮后再测一次。

# %%
sparsities = [0.0, 0.5, 0.8, 0.9, 0.95, 0.99]
one_shot, retrained = [], []
params = [p for layer in model.layers for p in (layer.weight, layer.bias)]
for s in sparsities:
    masks = load_pruned(s)
    one_shot.append(evaluate(model, (X_test, y_test))["accuracy"])
    if s == 0.0:
        retrained.append(one_shot[-1])
        continue
    fit(
        MaskedMLP(model, masks),
        (X_train, y_train),
        epochs=10,
        batch_size=128,
        optimizer=Adam(params, lr=5e-3),
    )
    for layer, mask in zip(model.layers, masks):
        layer.weight.assign(layer.weight * mask).realize()
    retrained.append(evaluate(model, (X_test, y_test))["accuracy"])
for s, a, b in zip(sparsities, one_shot, retrained):
    print(f"稀疏度 {s:4.0%}：一次性剪枝 {a:.3f}，再训练后 {b:.3f}")

percent = [100 * s for s in sparsities]
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(percent, one_shot, "o-", label="一次性剪枝")
ax.plot(percent, retrained, "s-", label="剪枝后固定掩码再训练 10 轮")
ax.axhline(0.1, color="gray", linestyle=":", label="随机猜测（10 类）")
ax.set_xlabel("稀疏度（置零的权重占比，%）")
ax.set_ylabel("测试准确率")
ax.set_ylim(0, 1.02)
ax.legend(fontsize=9)
fig.tight_layout()
plt.show()

acc = dict(zip(sparsities, one_shot))
acc_re = dict(zip(sparsities, retrained))
assert acc[0.5] > acc[0.0] - 0.02  # 一次性剪掉一半，几乎不掉
assert acc_re[0.8] > acc[0.0] - 0.02  # 再训练后，剪掉八成也几乎不掉
assert acc_re[0.9] > acc[0.9] + 0.3  # 再训练把 90% 稀疏度下的准确率大幅拉回
assert (
    acc[0.99] < 0.3 and acc_re[0.99] < acc[0.0] - 0.2
)  # 只剩 1% 的权重，怎么训练都不够

# %% [markdown]
# 两条曲线的差别说明了 Han 等强调的一点：剪枝之后要再训练，让剩下的权重补偿被剪掉的部分。
# 稀疏度很高时（只剩 1% 的权重，第二层每个输出平均只连着一两个隐藏单元），再训练也救不回来。

# %% [markdown]
# ## int8 量化误差
#
# 对称量化 $q = \mathrm{clip}(\mathrm{round}(W / S), -127, 127)$，$S = \max \lvert W \rvert / 127$，还原 $\hat{W} = S q$。
# 误差除以 $S$ 后就是四舍五入的误差，应当落在 $[-1/2, 1/2]$ 内，并且近似均匀分布。

# %%
W1 = dense[0]
S = float(np.abs(W1).max()) / 127
q = np.clip(np.round(W1 / S), -127, 127)
rel_err = ((W1 - S * q) / S).reshape(-1)

fig, ax = plt.subplots(figsize=(6, 3))
ax.hist(rel_err, bins=40, range=(-0.5, 0.5))
ax.set_xlabel(r"还原误差 $(W - \hat{W}) / S$")
ax.set_ylabel("权重个数")
ax.set_title(f"第一层的 {W1.size} 个权重，S = {S:.5f}")
fig.tight_layout()
plt.show()

assert np.abs(rel_err).max() <= 0.5 + 1e-4
# 近似均匀：误差的标准差接近均匀分布 U(-1/2, 1/2) 的 1/sqrt(12) ≈ 0.289
assert abs(rel_err.std() - 1 / np.sqrt(12)) < 0.02
