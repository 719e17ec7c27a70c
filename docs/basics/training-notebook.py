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
# # 笔记本：训练曲线与过拟合
#
# 这个笔记本配合[训练基础](training/index.md)一文：故意让一个“大”的多层感知机只看 60 张手写数字，
# 画出训练损失和验证损失随训练轮数的变化，看过拟合是什么样子；再加上 L2 正则，比较两条验证曲线。
# 这里的 L2 正则是把惩罚项直接加进损失；用 Adam 时它与权重衰减并不等价（见训练基础）。
#
# 模型有 $64 \times 128 + 128 + 128 \times 128 + 128 + 128 \times 10 + 10 = 26122$ 个参数，远多于 60 个训练样本。
# 每一轮都用全部 60 个样本算一次梯度（全批量），用 Adam 更新；正则化版本的损失是
# $L(\theta) + \frac{\lambda}{2} \sum_{l} \lVert W_l \rVert_F^2$，其中 $W_l$ 是第 $l$ 层的权重矩阵，$\lambda = 0.01$。

# %%
# 图输出成 SVG：矢量图，放大不模糊
# %config InlineBackend.figure_formats = ["svg"]
import matplotlib.pyplot as plt
import numpy as np
from tinygrad import Context, Tensor, TinyJit
from tinygrad.nn.optim import Adam
from tinygrad.nn.state import get_parameters

from tinymodels import (
    MLP,
    count_parameters,
    cross_entropy,
    load_digits,
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

X, y = load_digits("train", flatten=True)
rng = np.random.default_rng(0)
perm = rng.permutation(len(X))
train_idx, val_idx = perm[:60], perm[60:316]  # 60 张训练，256 张验证
X_tr, y_tr = Tensor(X[train_idx]), Tensor(y[train_idx].astype(np.int32))
X_va, y_va = Tensor(X[val_idx]), Tensor(y[val_idx].astype(np.int32))
EPOCHS = 150


def train(lam: float) -> dict[str, np.ndarray]:
    """从同一个初始化出发训练 EPOCHS 轮，返回每轮的训练损失、验证损失和验证准确率。"""
    set_seed(0)
    model = MLP([64, 128, 128, 10])
    assert count_parameters(model) == 26122
    opt = Adam(get_parameters(model), lr=3e-3)
    # λ 放在张量里而不是写成 Python 常数：两次训练的计算图完全相同，
    # 第二次不必重新编译内核
    lam_t = Tensor([lam])

    @TinyJit
    def step() -> Tensor:
        opt.zero_grad()
        data_loss = cross_entropy(model(X_tr), y_tr)
        l2 = sum(
            (layer.weight**2).sum() for layer in model.layers
        )  # 只惩罚权重，不惩罚偏置
        (data_loss + 0.5 * lam_t * l2).sum().backward()
        return data_loss.realize(
            *opt.schedule_step()
        )  # 记录的是不含正则项的训练损失

    @TinyJit
    def validate() -> tuple[Tensor, Tensor]:
        logits = model(X_va)
        return cross_entropy(logits, y_va).realize(), (
            logits.argmax(-1) == y_va
        ).mean().realize()

    curves = {"train": [], "val": [], "val_acc": []}
    for _ in range(EPOCHS):
        with Context(TRAINING=1):  # 优化器只在训练模式下工作
            curves["train"].append(step().item())
        val_loss, val_acc = validate()
        curves["val"].append(val_loss.item())
        curves["val_acc"].append(val_acc.item())
    return {k: np.array(v) for k, v in curves.items()}


plain = train(0.0)
l2 = train(0.01)

# %% [markdown]
# 左图没有正则化：训练损失一路降到接近 0，验证损失却在某一轮之后掉头上升——模型开始记住这 60 个样本的细节，
# 而不是学到能推广的规律。虚线标出验证损失最低的那一轮，也就是早停（early stopping）会选中的检查点。
# 右图加了 L2 正则：训练损失停在一个不为 0 的水平，验证损失不再明显回升。

# %%
best = int(plain["val"].argmin())
fig, axes = plt.subplots(1, 2, figsize=(7, 3.2), sharey=True)
for ax, curves, title in (
    (axes[0], plain, "不加正则"),
    (axes[1], l2, "L2 正则（λ = 0.01）"),
):
    ax.plot(np.arange(1, EPOCHS + 1), curves["train"], label="训练损失")
    ax.plot(np.arange(1, EPOCHS + 1), curves["val"], label="验证损失")
    ax.set_title(title)
    ax.set_xlabel("训练轮数")
axes[0].axvline(best + 1, color="gray", linestyle="--", label="早停")
axes[0].set_ylabel("交叉熵损失")
axes[0].set_ylim(0, 2.5)
axes[0].legend()
fig.tight_layout()
plt.show()

print(
    f"无正则：最低验证损失 {plain['val'].min():.3f}（第 {best + 1} 轮），"
    f"最后 {plain['val'][-1]:.3f}"
)
print(
    f"L2 正则：最低验证损失 {l2['val'].min():.3f}，最后 {l2['val'][-1]:.3f}"
)
print(
    f"最后的验证准确率：无正则 {plain['val_acc'][-1]:.3f}，L2 正则 "
    f"{l2['val_acc'][-1]:.3f}"
)

# 断言过拟合的三个特征：训练损失几乎为 0；验证损失在前半程触底，
# 之后回升了 30% 以上
assert plain["train"][-1] < 0.01
assert best < EPOCHS // 2
assert plain["val"][-1] > 1.3 * plain["val"].min()
# 断言正则化的效果：最后的验证损失明显更低，训练与验证的差距更小
assert l2["val"][-1] < plain["val"][-1] - 0.2
assert l2["val"][-1] - l2["train"][-1] < plain["val"][-1] - plain["train"][-1]
