# 单个感知机学不会 XOR，加一个隐藏层的 MLP 能学会。
# 先用 NumPy 重现 Rosenblatt 的感知机学习规则：它在 AND 上停下，
# 在 XOR 上永远停不下来；
# 再用 tinymodels 训练一个 2-8-1 的多层感知机，把 XOR 的 4 个点全部分对。
import numpy as np
from tinygrad import Tensor
from tinygrad.nn.optim import Adam
from tinygrad.nn.state import get_parameters

from tinymodels import MLP, bce_with_logits, fit, set_seed

# 两个逻辑函数的全部 4 个样本：AND 线性可分，XOR（两输入不同时为 1）不可分。
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
y_and = np.array([0, 0, 0, 1], dtype=np.float32)
y_xor = np.array([0, 1, 1, 0], dtype=np.float32)


def perceptron(X, y, epochs=30):
    """感知机学习规则：预测 ŷ = step(w·x + b)，分错时
    w ← w + (y − ŷ)x，b ← b + (y − ŷ)。
    返回每一轮的更新次数、这一轮结束时的 (w1, w2, b) 和准确率。"""
    w, b = np.zeros(2), 0.0
    updates, states, accs = [], [], []
    for _ in range(epochs):
        n = 0
        for x_i, y_i in zip(X, y):
            y_hat = float(w @ x_i + b > 0)  # 阶跃函数
            if y_hat != y_i:  # 分对时 y − ŷ = 0，不更新
                w, b = w + (y_i - y_hat) * x_i, b + (y_i - y_hat)
                n += 1
        updates.append(n)
        states.append((float(w[0]), float(w[1]), float(b)))
        accs.append(float(((X @ w + b > 0) == y).mean()))
    return updates, states, accs


# AND 线性可分：感知机收敛定理保证有限步内全部分对。一旦某一轮没有分错，
# 权重就不再改变，之后每一轮都是 0 次更新。
upd_and, states_and, acc_and = perceptron(X, y_and)
stop = upd_and.index(0)
assert all(n == 0 for n in upd_and[stop:]) and acc_and[-1] == 1.0
assert len(set(states_and[stop:])) == 1

# XOR：不存在分对全部 4 个点的权重（证明见正文），所以每一轮至少分错一个点、
# 权重至少被改动一次。过程是确定的：某一轮结束时的权重一旦与更早某一轮相同，
# 之后就会一模一样地重复下去，永远停不下来。
upd_xor, states_xor, acc_xor = perceptron(X, y_xor)
assert min(upd_xor) >= 1
first = {}
for t, state in enumerate(states_xor):
    if state in first:
        break
    first[state] = t
period = t - first[state]
print(f"AND：第 {stop + 1} 轮起不再更新")
print(
    f"XOR：每轮至少更新 {min(upd_xor)} 次；第 {t + 1} 轮结束时回到"
    f"第 {first[state] + 1} 轮的 (w1, w2, b) = {state}，周期 {period} 轮"
)
assert states_xor[t + period] == state  # 确实在循环
assert max(acc_xor) <= 0.75  # 任何一条直线最多分对 3 个点

# 多层感知机：2 -> 8 -> 1，隐藏层用 tanh；输出一个 logit，
# 配合 bce_with_logits（sigmoid + 交叉熵）。
set_seed(0)  # 固定初始化，结果可复现
mlp = MLP([2, 8, 1], activation="tanh")
opt = Adam(get_parameters(mlp), lr=0.1)
# batch_size=4：每个 epoch 正好是一步全批量梯度下降
history = fit(
    mlp,
    (X, y_xor[:, None]),
    loss_fn=bce_with_logits,
    optimizer=opt,
    epochs=60,
    batch_size=4,
)
logits = mlp(Tensor(X)).numpy()[:, 0]
# logit > 0 等价于 sigmoid > 0.5
acc_mlp = float(((logits > 0) == y_xor).mean())
losses = history.step_losses
print(
    f"MLP 在 XOR 上的准确率 {acc_mlp:.2f}，"
    f"损失 {losses[0]:.3f} → {losses[-1]:.3f}"
)
assert acc_mlp == 1.0
assert losses[-1] < losses[0] / 5
