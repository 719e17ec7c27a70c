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
# # 笔记本：RNN 与 LSTM 的学习曲线
#
# 普通 RNN 和 LSTM 做同一道题，哪个学得快？这个笔记本把两者的学习曲线画在一起：看 LSTM 的误差在哪一轮突然下降，RNN 又停在哪里。
# 题目是[循环神经网络与 LSTM](rnn-lstm/index.md)中的加法问题：序列长度 $T = 8$，每步输入一个 $[0, 1)$ 上的随机数和一个 0/1 标记，
# 目标是两个被标记的数之和。总是预测 1 的均方误差是 $2 \times \frac{1}{12} = \frac{1}{6} \approx 0.167$，这是“什么都没学会”的基线。
# 两个模型用同样的隐状态维数 $H = 32$、同样的初始化种子、同样的数据顺序和同样的优化器（Adam，学习率 0.02）各训练 5 轮（160 步），
# 每轮结束后在 512 条没见过的序列上测一次均方误差。

# %%
# 图输出成 SVG：矢量图，放大不模糊
# %config InlineBackend.figure_formats = ["svg"]
import matplotlib.pyplot as plt
import numpy as np
from tinygrad import Tensor
from tinygrad.nn.optim import Adam
from tinygrad.nn.state import get_parameters

from tinymodels import (
    SequenceClassifier,
    adding_problem,
    evaluate,
    fit,
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

T, H, EPOCHS = 8, 32, 5
X_train, y_train = adding_problem(2048, seq_len=T, seed=0)
X_test, y_test = adding_problem(512, seq_len=T, seed=1)
baseline = float(np.mean((y_test - 1.0) ** 2))

curves, step_losses = {}, {}
for cell in ("rnn", "lstm"):
    set_seed(0)
    model = SequenceClassifier(
        input_size=2, hidden_size=H, num_outputs=1, cell=cell
    )
    model.head.bias.assign(
        Tensor([1.0])
    ).realize()  # 输出层偏置 = 目标均值：起点就是基线
    # fit 每轮结束时用 256 一批评估验证集；训练前先用同样的批大小评估一次，
    # 作为第 0 轮
    start = evaluate(
        model, (X_test, y_test), loss_fn=mse_loss, batch_size=256
    )["loss"]
    history = fit(
        model,
        (X_train, y_train),
        loss_fn=mse_loss,
        optimizer=Adam(get_parameters(model), lr=0.02),
        epochs=EPOCHS,
        batch_size=64,
        val_data=(X_test, y_test),
    )
    curves[cell] = [start] + history["val_loss"]
    step_losses[cell] = np.asarray(history.step_losses)
    print(f"{cell.upper():>4}: 每轮测试 MSE {np.round(curves[cell], 4)}")

# %% [markdown]
# 左图是每轮结束时的测试 MSE（第 0 轮是训练前），右图是每个训练步的训练 MSE（对数坐标，8 步滑动平均）。
# 两个模型的起点都是基线。大约从第 60 步起，LSTM 找到了“记住被标记的数”的办法，测试误差在第 3 轮迅速下降，
# 5 轮结束时降到基线的百分之一以下；普通 RNN 在同样的 160 步里只比基线好一点。在 $T = 8$ 这么短的序列上，RNN 多训练几倍的步数也能慢慢学会：它慢，而不是完全学不会；
# 序列越长，两者的差距越大。

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(7, 3.2))
window = 8
for cell, color in (("rnn", "tab:orange"), ("lstm", "tab:blue")):
    ax1.semilogy(
        np.arange(EPOCHS + 1),
        curves[cell],
        "o-",
        color=color,
        label=cell.upper(),
    )
    smooth = np.convolve(
        step_losses[cell], np.ones(window) / window, mode="valid"
    )
    ax2.semilogy(
        np.arange(window, len(step_losses[cell]) + 1), smooth, color=color
    )
for ax in (ax1, ax2):
    ax.axhline(
        baseline, color="gray", linestyle="--", label="基线：总是预测 1"
    )
    ax.set_ylabel("均方误差（对数坐标）")
ax1.legend()
ax1.set_xlabel("轮")
ax1.set_title("测试误差（每轮结束时）")
ax2.set_xlabel("训练步数")
ax2.set_title("训练误差（8 步滑动平均）")
fig.tight_layout()
plt.show()

# 断言：起点都在基线附近；LSTM 最后不到基线的 1/20，
# RNN 的误差至少是 LSTM 的 10 倍。
for cell in ("rnn", "lstm"):
    assert abs(curves[cell][0] - baseline) < 0.05 * baseline
assert curves["lstm"][-1] < baseline / 20
assert curves["rnn"][-1] > 10 * curves["lstm"][-1]
