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
# # 笔记本：梯度下降的学习率
#
# 同一个线性回归问题，用三个学习率 $\eta$ 各跑 30 步梯度下降，把损失画在一张图上。
# 看图时注意三条曲线的走向：太小的学习率下降得慢，合适的学习率很快到底，太大的学习率让损失越来越大。
# 问题与更新规则 $\theta \leftarrow \theta - \eta \, \nabla_{\theta} L(\theta)$ 都沿用[线性回归与梯度下降](gradient-descent.md)一文。

# %%
# 图输出成 SVG：矢量图，放大不模糊
# %config InlineBackend.figure_formats = ["svg"]
import matplotlib.pyplot as plt
import numpy as np
from tinygrad import Tensor, TinyJit

# 图里的汉字需要中文字体：用下面第一个装了的；
# 一个都没有时图照样画，但汉字会显示成方框（matplotlib 会警告缺字）
plt.rcParams["font.sans-serif"] = [
    "WenQuanYi Micro Hei",
    "Noto Sans CJK SC",
    "Microsoft YaHei",
    "PingFang SC",
    "DejaVu Sans",
]

rng = np.random.default_rng(0)
N = 64
x_np = rng.uniform(-1.0, 1.0, size=(N,)).astype(np.float32)
y_np = (2.0 * x_np - 0.5 + 0.05 * rng.standard_normal(N)).astype(np.float32)
x, y = Tensor(x_np), Tensor(y_np)


w, b = Tensor([0.0]).contiguous(), Tensor([0.0]).contiguous()
eta_t = Tensor(
    [0.0]
).contiguous()  # 学习率也放进张量，三种学习率共用一份编译好的内核


@TinyJit
def step() -> Tensor:
    loss = ((w * x + b - y) ** 2).mean()
    loss.backward()
    w.assign((w - eta_t * w.grad).detach())
    b.assign((b - eta_t * b.grad).detach())
    w.grad = b.grad = None
    return loss.realize(w, b)


def train(eta: float, steps: int = 30) -> list[float]:
    """从 w=b=0 出发做 steps 步梯度下降，返回每一步的损失。"""
    w.assign(Tensor([0.0])).realize()
    b.assign(Tensor([0.0])).realize()
    eta_t.assign(Tensor([eta])).realize()
    return [step().item() for _ in range(steps)]


curves = {eta: train(eta) for eta in (0.05, 0.5, 1.05)}

# %% [markdown]
# 学习率 $\eta = 0.05$ 太小，30 步后损失仍很高；$\eta = 0.5$ 很快收敛；
# $\eta = 1.05$ 太大，对 $b$ 的更新每一步都“跨过”谷底，损失越来越大。

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
for eta, losses in curves.items():
    ax.semilogy(losses, label=f"η = {eta}")
ax.set_xlabel("步数")
ax.set_ylabel("均方误差（对数坐标）")
ax.legend()
fig.tight_layout()
plt.show()

# 断言：小学习率下降但慢，合适的学习率收敛，过大的学习率发散
assert curves[0.05][-1] < curves[0.05][0]
assert curves[0.5][-1] < 0.01
assert curves[1.05][-1] > curves[1.05][0]
