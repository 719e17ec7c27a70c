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
# # 笔记本：GRPO 的奖励曲线
#
# 这个笔记本从随包的基座模型出发，在 4 道两位数加法题上跑 20 步 GRPO，
# 画出每一步的平均奖励、答对率和 KL，并比较训练前后在这 4 道题和 16 道
# 没练过的题上的答对率。公式与实现见
# [用强化学习训练推理：GRPO](grpo/index.md)，实验设置和它能说明、不能
# 说明什么见[训练与结果](grpo/training.md)。看图时看两件事：左图的奖励
# 是不是随步数上升（每步只有 32 个回答，抖动很大，看 5 步的滑动平均），
# 右图的 KL 是不是从 0 开始慢慢变大。整本在 2 核 CPU 上约需半分钟，
# 大部分时间花在为采样、log 概率和训练步各编译一次。

# %%
# 图输出成 SVG：矢量图，放大不模糊
# %config InlineBackend.figure_formats = ["svg"]
import matplotlib.pyplot as plt
import numpy as np

from tinymodels.chat import ENDOFTEXT
from tinymodels.data.tasks import addition_pairs
from tinymodels.grpo import (
    addition_reward,
    completion_mask,
    sample_group,
    train_grpo,
)
from tinymodels.pretrained import load_base_model

# 图里的汉字需要中文字体：用下面第一个装了的；
# 一个都没有时图照样画，但汉字会显示成方框（matplotlib 会警告缺字）
plt.rcParams["font.sans-serif"] = [
    "WenQuanYi Micro Hei",
    "Noto Sans CJK SC",
    "Microsoft YaHei",
    "PingFang SC",
    "DejaVu Sans",
]

# 两个数都在 10..20 的题（预训练见过的范围），去掉重复
pairs = list(
    dict.fromkeys(
        p for p in addition_pairs(400, seed=1, max_value=20) if len(p[0]) == 6
    )
)
train, held = pairs[:4], pairs[8:24]  # 训练用 4 道，另 16 道只用来检验
G, P = 8, 4  # 每题 8 个回答，每步 4 道题：一批 32 个回答
model, tok = load_base_model()
ref, _ = load_base_model()  # 参考模型：同一个基座，冻结
stop = tok.special_tokens[ENDOFTEXT]


def accuracy(problems, seed=99) -> float:
    """每题采样 G 个回答（温度 1），答对的比例。每次 P 道题，
    形状与训练时的采样相同，不用另外编译。"""
    right = []
    for i in range(0, len(problems), P):
        chunk = problems[i : i + P]
        prompts = [tok.encode(ENDOFTEXT + q) for q, _ in chunk]
        c = sample_group(model, prompts, G, 4, seed=seed + i)
        keep = completion_mask(c, stop)
        answers = np.repeat([a for _, a in chunk], G)
        texts = [tok.decode(row[m > 0]) for row, m in zip(c, keep)]
        right += [addition_reward(t, a) >= 1 for t, a in zip(texts, answers)]
    return float(np.mean(right))


before = accuracy(train), accuracy(held)
hist = train_grpo(
    model, ref, tok, train, steps=20, group_size=G, prompts_per_step=P,
    lr=1e-3, beta=0.04, seed=0,
)  # fmt: skip
after = accuracy(train), accuracy(held)
reward, kl = np.array(hist["reward"]), np.array(hist["kl"])
print("每步平均奖励", reward.round(2).tolist())
print("每步答对的比例", np.round(hist["correct"], 2).tolist())
print("每步 KL", kl.round(3).tolist())
print(
    f"答对率（每题 {G} 个回答）：训练的 4 道 {before[0]:.0%} -> "
    f"{after[0]:.0%}，没练过的 16 道 {before[1]:.0%} -> {after[1]:.0%}"
)

# %% [markdown]
# 每一步都是这 4 道题、每题 8 个回答，每步的平均奖励只是 32 个回答的
# 平均，上下跳动很大；5 步的滑动平均能看出趋势。KL 是采样到的回答词元上
# k3 估计的平均，第一步策略就是参考模型，KL 为 0。

# %%
window = 5
smooth = np.convolve(reward, np.ones(window) / window, mode="valid")
correct = np.array(hist["correct"])
steps = np.arange(1, len(reward) + 1)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(7, 3.2), layout="constrained")
ax1.plot(steps, reward, "o", ms=3, alpha=0.5, label="每步平均奖励")
ax1.plot(steps[window - 1 :], smooth, "-", label=f"{window} 步滑动平均")
ax1.plot(steps, correct, ":", label="答对的比例")
ax1.set_xlabel("训练步数")
ax1.set_ylabel("奖励 / 比例")
ax1.legend(fontsize=9)
ax2.plot(steps, kl, "o-", ms=3)
ax2.set_xlabel("训练步数")
ax2.set_ylabel(r"KL$(\pi_\theta \Vert \pi_{\mathrm{ref}})$ 估计")
plt.show()

# 断言：后 5 步的平均奖励明显高于前 5 步；第一步 KL 为 0，之后为正；
# 训练题的答对率上升
assert reward[-5:].mean() > reward[:5].mean() + 0.1
assert kl[0] < 1e-6 and kl[1:].min() > 0
assert after[0] > before[0] + 0.2
