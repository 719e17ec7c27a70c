# 单个感知机学不会 XOR，加一个隐藏层的 MLP 能学会：先用 NumPy 重现 Rosenblatt 的感知机学习规则，
# 再用 tinymodels 训练一个 2-8-1 的多层感知机，最后断言两者的准确率。
import numpy as np
from tinygrad import Tensor
from tinygrad.nn.optim import Adam
from tinygrad.nn.state import get_parameters
from tinymodels import MLP, bce_with_logits, fit

# 两个逻辑函数的全部 4 个样本：AND 线性可分，XOR（两输入不同时为 1）线性不可分。
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
y_and = np.array([0, 0, 0, 1], dtype=np.float32)
y_xor = np.array([0, 1, 1, 0], dtype=np.float32)


def perceptron(X: np.ndarray, y: np.ndarray, epochs: int = 50) -> list[float]:
    """感知机学习规则：预测 step(w·x + b)，分错时 w ← w + (y − ŷ)x，b ← b + (y − ŷ)。
    返回每一轮结束时在 4 个点上的准确率。"""
    w, b = np.zeros(2), 0.0
    accs = []
    for _ in range(epochs):
        for x_i, y_i in zip(X, y):
            y_hat = float(w @ x_i + b > 0)  # 阶跃函数
            w, b = w + (y_i - y_hat) * x_i, b + (y_i - y_hat)  # 分对时 y − ŷ = 0，不更新
        accs.append(float(((X @ w + b > 0) == y).mean()))
    return accs


acc_and = perceptron(X, y_and)
acc_xor = perceptron(X, y_xor)
# AND 线性可分：感知机收敛定理保证有限步内全部分对。
assert acc_and[-1] == 1.0
# XOR：任何一条直线最多分对 3 个点（证明见正文），所以训练全程准确率都不超过 0.75。
assert max(acc_xor) <= 0.75

# 多层感知机：2 -> 8 -> 1，隐藏层用 tanh；输出一个 logit，配合 bce_with_logits（sigmoid + 交叉熵）。
Tensor.manual_seed(0)  # 固定初始化，结果可复现
mlp = MLP([2, 8, 1], activation="tanh")
opt = Adam(get_parameters(mlp), lr=0.1)
# batch_size=4：每个 epoch 正好是一步全批量梯度下降
history = fit(mlp, (X, y_xor[:, None]), loss_fn=bce_with_logits, optimizer=opt, epochs=60, batch_size=4)
logits = mlp(Tensor(X)).numpy()[:, 0]
acc_mlp = float(((logits > 0) == y_xor).mean())  # logit > 0 等价于 sigmoid > 0.5
print(f"感知机在 XOR 上的最高准确率 {max(acc_xor):.2f}，MLP 准确率 {acc_mlp:.2f}，"
      f"MLP 损失 {history.step_losses[0]:.3f} → {history.step_losses[-1]:.3f}")
assert acc_mlp == 1.0
assert history.step_losses[-1] < history.step_losses[0] / 5
