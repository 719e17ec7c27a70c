# 用梯度下降拟合一条直线 y = w·x + b，并断言它真的学会了。
# 只依赖 tinygrad（tinymodels 的底座）和 NumPy，
# 复制到任何装了 tinymodels 的 Python 里都能运行。
import numpy as np
from tinygrad import Tensor, TinyJit

# 固定随机种子：每次运行得到同样的数据和结果，断言才有意义。
rng = np.random.default_rng(0)
N = 64  # 样本数 N
x_np = rng.uniform(-1.0, 1.0, size=(N,)).astype(np.float32)
# 真实参数 w=2.0、b=-0.5，再加一点高斯噪声
y_np = (2.0 * x_np - 0.5 + 0.05 * rng.standard_normal(N)).astype(np.float32)
x, y = Tensor(x_np), Tensor(y_np)

# 参数从 0 开始。tinygrad 0.14 中浮点张量默认都可求梯度，
# 不需要 requires_grad。
w = Tensor([0.0])
b = Tensor([0.0])
eta = 0.5  # 学习率 η


def mse() -> Tensor:
    """均方误差 L(w, b) = (1/N) Σ_i (ŷ_i − y_i)²。"""
    y_hat = w * x + b
    return ((y_hat - y) ** 2).mean()


@TinyJit  # 每一步的计算图形状相同，JIT 只编译一次，之后直接重放内核。
def step() -> Tensor:
    loss = mse()
    loss.backward()
    # θ ← θ − η ∇θ L；assign 原地更新参数，detach 避免把更新本身记进计算图。
    w.assign((w - eta * w.grad).detach())
    b.assign((b - eta * b.grad).detach())
    w.grad, b.grad = None, None  # 清空梯度，下一步重新累积
    return loss.realize(w, b)


losses = [step().item() for _ in range(60)]

print(f"初始损失 {losses[0]:.4f}，最终损失 {losses[-1]:.4f}")
print(f"学到的 w = {w.item():.3f}，b = {b.item():.3f}")
# 断言：损失下降了两个数量级以上，参数接近真实值。
assert losses[-1] < losses[0] / 100
assert abs(w.item() - 2.0) < 0.05 and abs(b.item() + 0.5) < 0.05
