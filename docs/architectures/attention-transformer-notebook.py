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
# # 笔记本：注意力权重热力图
#
# 一个训练好的 Transformer 编码器在做“把序列倒过来”时，每个输出位置看的是输入的哪里？
# 这个笔记本训练一个 1 层、4 个头的编码器（任务与设置同[注意力机制与 Transformer](attention-transformer/encoder-decoder.md#训练一个编码器把序列倒过来)），
# 再把它在一条测试序列上的注意力权重 $\alpha_{ij}$ 画成热力图。
# 第 $i$ 行是输出位置 $i$（查询），第 $j$ 列是输入位置 $j$（键），颜色越亮表示位置 $i$ 从位置 $j$ 取的信息越多：
# 要看的是亮格子排成的那条斜线。

# %%
# 图输出成 SVG：矢量图，放大不模糊
# %config InlineBackend.figure_formats = ["svg"]
import matplotlib.pyplot as plt
import numpy as np
from tinygrad import Tensor
from tinygrad.nn.optim import Adam
from tinygrad.nn.state import get_parameters

from tinymodels import (
    TransformerEncoder,
    evaluate,
    fit,
    reversal_task,
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

T, VOCAB = 8, 10
X_train, Y_train = reversal_task(2048, seq_len=T, vocab=VOCAB, seed=0)
X_test, Y_test = reversal_task(512, seq_len=T, vocab=VOCAB, seed=1)

set_seed(0)
model = TransformerEncoder(
    VOCAB, VOCAB, d_model=32, num_heads=4, num_layers=1, d_ff=64, max_len=T
)
fit(
    model,
    (X_train, Y_train),
    optimizer=Adam(get_parameters(model), lr=1e-2),
    epochs=3,
    batch_size=64,
)
acc = evaluate(model, (X_test, Y_test), batch_size=64)["accuracy"]
# return_attention=True 时模型还返回每一层的注意力权重，形状 (B, 头数, T, T)
_, attention = model(
    Tensor(X_test[:1].astype(np.int32)), return_attention=True
)
weights = attention[0].numpy()[0]  # 唯一一层、第一条序列：(4, T, T)
mean = weights.mean(0)  # 4 个头的平均
print(f"测试集逐位准确率：{acc:.1%}")
print("输入序列：", X_test[0])

# %% [markdown]
# 前 4 幅图是 4 个头各自的权重，最后一幅是它们的平均。亮带沿着反对角线：输出位置 $i$ 主要看输入位置 $T-1-i$，
# 这正是“倒过来”需要的信息。每个头的亮带宽窄不同，说明它们分工略有差别；输出投影 $W^O$ 再把它们合起来。

# %%
fig, axes = plt.subplots(1, 5, figsize=(7, 2.1), layout="constrained")
titles = [f"头 {i + 1}" for i in range(4)] + ["4 个头的平均"]
for ax, w, title in zip(axes, [*weights, mean], titles):
    im = ax.imshow(w, cmap="viridis", vmin=0, vmax=1)
    ax.set_title(title)
    ax.set_xlabel("键的位置 j")
    ax.set_xticks(range(0, T, 2))
    ax.set_yticks(range(0, T, 2))
axes[0].set_ylabel("查询的位置 i")
fig.colorbar(im, ax=axes, shrink=0.8, label="注意力权重")
plt.show()

# 断言：模型学会了任务；每行权重之和为 1（softmax 的定义）；
# 头平均后，每一行的最大值恰好落在反对角线 j = T−1−i 上，
# 并且反对角线附近（|j − (T−1−i)| ≤ 1）占了大部分权重。
anti = np.arange(T)[::-1]
near = np.abs(np.arange(T)[None, :] - anti[:, None]) <= 1
assert acc >= 0.95
assert np.allclose(weights.sum(-1), 1.0, atol=1e-5)
assert (mean.argmax(1) == anti).all()
assert (np.where(near, mean, 0).sum(1) > 0.7).all()
