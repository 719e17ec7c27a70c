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
# # 笔记本：小 GPT 的损失曲线
#
# 一个只有 1 层的字符级 GPT 在几十步里能学到多少？这个笔记本把训练损失和验证损失画出来，
# 并和两条参考线比较：均匀猜测的 $\ln V$，和只看字频的一元模型。验证损失跌破一元模型的那一刻，就是模型开始利用前文的时候。
# 设置沿用[从零训练一个小 GPT](tiny-gpt/index.md)：在本站语料的前 15000 个字符上训练 60 步，
# 每 10 步在验证文本上算一次平均下一字损失 $L$（定义见正文，对所有验证窗口取平均）。

# %%
# 图输出成 SVG：矢量图，放大不模糊
# %config InlineBackend.figure_formats = ["svg"]
import math

import matplotlib.pyplot as plt
import numpy as np
from tinygrad import Context, Tensor, TinyJit
from tinygrad.nn.optim import Adam
from tinygrad.nn.state import get_parameters

from tinymodels import (
    CharTokenizer,
    TinyGPT,
    cross_entropy,
    load_corpus,
    next_token_windows,
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

BLOCK, BATCH, STEPS = 16, 16, 60
text = load_corpus()[:15000]
tok = CharTokenizer(text)
V = tok.vocab_size
ids = np.array(tok.encode(text))
split = int(len(ids) * 0.9)
X_train, Y_train = next_token_windows(ids[:split], BLOCK, stride=8)
X_val, Y_val = next_token_windows(ids[split:], BLOCK)
X_val, Y_val = Tensor(X_val.astype(np.int32)), Tensor(Y_val.astype(np.int32))
counts = np.bincount(ids[:split], minlength=V) + 1.0
unigram = float(-np.log(counts / counts.sum())[Y_val.numpy()].mean())

set_seed(0)
model = TinyGPT(V, block_size=BLOCK, d_model=32, num_heads=4, num_layers=1)
opt = Adam(get_parameters(model), lr=1e-2)


@TinyJit
def train_step(x: Tensor, y: Tensor) -> Tensor:
    opt.zero_grad()
    loss = cross_entropy(model(x), y)
    loss.backward()
    return loss.realize(*opt.schedule_step())


@TinyJit
def val_loss() -> Tensor:
    with Context(TRAINING=0):
        return cross_entropy(model(X_val), Y_val).realize()


rng = np.random.default_rng(0)
train_curve, val_steps, val_curve = [], [], []
for step in range(STEPS + 1):
    if step % 10 == 0:  # 每 10 步评估一次验证损失
        val_steps.append(step)
        val_curve.append(val_loss().item())
    if step == STEPS:
        break
    i = rng.integers(0, len(X_train), BATCH)
    with Context(TRAINING=1):
        loss = train_step(
            Tensor(X_train[i].astype(np.int32)),
            Tensor(Y_train[i].astype(np.int32)),
        )
    train_curve.append(loss.item())
print(
    f"V = {V}，ln V = {math.log(V):.2f}，一元模型 {unigram:.2f}，验证损失 "
    f"{[round(v, 2) for v in val_curve]}"
)

# %% [markdown]
# 训练开始时损失比 $\ln V$ 略高：随机初始化的输出层让各个字的 logits 有些随机起伏，概率不完全均匀。
# 几十步之后验证损失就跌破了只看字频的一元模型，说明模型开始利用前文；训练损失（每步只看一个小批量，所以抖动大）
# 与验证损失一起下降。这份语料只有一万多字：模型再大一些、训练再久一些，训练损失会继续降，
# 验证损失却不再跟着降，模型开始背诵训练文本，这就是过拟合。

# %%
fig, ax = plt.subplots(figsize=(6.5, 3.6))
ax.plot(
    range(1, STEPS + 1),
    train_curve,
    alpha=0.5,
    label="训练损失（单个小批量）",
)
ax.plot(val_steps, val_curve, "o-", label="验证损失")
ax.axhline(math.log(V), color="gray", ls="--", label=r"均匀猜测：$\ln V$")
ax.axhline(unigram, color="gray", ls=":", label="一元模型（只看字频）")
ax.set_xlabel("训练步数")
ax.set_ylabel("交叉熵（nat / 字符）")
ax.legend()
fig.tight_layout()
plt.show()

# 断言：初始损失在 ln V 附近；验证损失降到一元模型之下；
# 最后 10 步的训练损失也远低于开头。
assert abs(val_curve[0] - math.log(V)) < 0.5
assert val_curve[-1] < unigram - 0.3 and val_curve[-1] < val_curve[0] - 1.2
assert np.mean(train_curve[-10:]) < np.mean(train_curve[:10]) - 1.0
