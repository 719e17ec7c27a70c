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
# # 笔记本：CNN 的特征图
#
# 这个笔记本配合[卷积神经网络](cnn/index.md)一文：先按正文的做法在 8x8 手写数字上训练 `tinymodels.LeNet`，
# 再把一张测试图片送进网络，画出第一层的 6 个卷积核、两个卷积阶段输出的特征图（卷积 + ReLU 之后、池化之前）。
# 第一阶段的特征图形状是 $(1, 6, 8, 8)$，第二阶段是 $(1, 16, 4, 4)$，与输出尺寸公式
# $\lfloor (H + 2P - K)/S \rfloor + 1$ 的推算一致（$K = 3$、$P = 1$、$S = 1$，中间经过一次 2x2 池化）。

# %%
# 图输出成 SVG：矢量图，放大不模糊
# %config InlineBackend.figure_formats = ["svg"]
import matplotlib.pyplot as plt
import numpy as np
from tinygrad import Tensor
from tinygrad.nn.optim import Adam
from tinygrad.nn.state import get_parameters

from tinymodels import LeNet, evaluate, fit, load_digits, set_seed

# 图里的汉字需要中文字体：用下面第一个装了的；
# 一个都没有时图照样画，但汉字会显示成方框（matplotlib 会警告缺字）
plt.rcParams["font.sans-serif"] = [
    "WenQuanYi Micro Hei",
    "Noto Sans CJK SC",
    "Microsoft YaHei",
    "PingFang SC",
    "DejaVu Sans",
]

X_train, y_train = load_digits("train")
X_test, y_test = load_digits("test")
set_seed(0)
model = LeNet()  # 默认 channels=(6, 16)、3x3 卷积、输入 1x8x8
opt = Adam(get_parameters(model), lr=1e-2)
fit(model, (X_train, y_train), optimizer=opt, epochs=8, batch_size=64, seed=0)
opt.lr.assign(Tensor([1e-3])).realize()  # 最后几轮把学习率降到十分之一
fit(
    model,
    (X_train, y_train),
    optimizer=opt,
    epochs=4,
    batch_size=64,
    seed=100,
)
acc = evaluate(model, (X_test, y_test), batch_size=len(X_test))["accuracy"]
print(f"测试准确率 {acc:.3f}")
assert acc >= 0.97

# %% [markdown]
# 取测试集里第一张“3”，计算它的特征图。`LeNet.features` 返回每个卷积阶段 ReLU 之后的输出，所以数值都不小于 0。

# %%
idx = int(np.flatnonzero(y_test == 3)[0])
image = X_test[idx : idx + 1]  # 形状 (1, 1, 8, 8)
maps = [m.numpy() for m in model.features(Tensor(image))]
pred = int(model(Tensor(image)).numpy().argmax())
kernels = model.convs[0].weight.numpy()  # (6, 1, 3, 3)
assert maps[0].shape == (1, 6, 8, 8) and maps[1].shape == (1, 16, 4, 4)
assert min(m.min() for m in maps) >= 0.0  # ReLU 之后没有负数
assert pred == 3

# 三行小图：第一行是输入和 6 个卷积核，第二行是每个卷积核算出的特征图（同一列），
# 最下面是第二阶段的 16 张特征图
fig = plt.figure(figsize=(7, 5.4), layout="constrained")
rows = fig.subfigures(3, 1, height_ratios=[1, 1, 2])
top, middle, bottom = (
    rows[0].subplots(1, 8),
    rows[1].subplots(1, 8),
    rows[2].subplots(2, 8),
)
rows[0].suptitle("输入与第一层的 6 个 3×3 卷积核（红正蓝负）", fontsize=10)
rows[1].suptitle("第一阶段的特征图（8×8），在各自卷积核的正下方", fontsize=10)
rows[2].suptitle("第二阶段的 16 张特征图（4×4）", fontsize=10)
for ax in [*top, *middle, *bottom.flat]:
    ax.axis("off")
top[0].imshow(image[0, 0], cmap="gray_r")
top[0].set_title(f"输入（预测 {pred}）", fontsize=9)
vmax = abs(kernels).max()
for k in range(6):
    top[k + 2].imshow(kernels[k, 0], cmap="RdBu_r", vmin=-vmax, vmax=vmax)
    top[k + 2].set_title(f"卷积核 {k}", fontsize=9)
    middle[k + 2].imshow(maps[0][0, k], cmap="viridis")
    middle[k + 2].set_title(f"通道 {k}", fontsize=9)
for k, ax in enumerate(bottom.flat):
    ax.imshow(maps[1][0, k], cmap="viridis")
    ax.set_title(f"通道 {k}", fontsize=9)
plt.show()

# %% [markdown]
# 怎样读这张图：第一行是输入和第一层的 6 个 $3 \times 3$ 卷积核（红色为正权重、蓝色为负权重），
# 第二行每张特征图都在算出它的那个卷积核正下方。
# 正负权重相邻的卷积核对某个方向上的明暗变化响应强，所以第一阶段的特征图大致是原图在不同方向上的“描边”，
# 每张图仍是 $8 \times 8$，只是突出了不同的局部笔画。第二阶段的特征图只有 $4 \times 4$，
# 但每个位置的感受野（receptive field）已达 $8 \times 8$，覆盖整张图，响应的是更大范围的笔画组合；
# 有的通道对这张图完全没有响应（ReLU 之后全为 0），它们在别的数字上才会被激活。
