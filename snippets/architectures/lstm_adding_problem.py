# 加法问题（Hochreiter & Schmidhuber, 1997）之二：LSTM。
# 与 rnn_adding_problem.py 只差模型类型和最后的断言。
# 每条序列 T 步，每步两个特征：[0, 1) 上的随机数和一个 0/1 标记；
# 目标是两个被标记的数之和。
# 总是预测 1（目标的均值）的均方误差是 Var(u1 + u2) = 2 × 1/12 ≈ 0.167：
# 学不会时就停在这里。
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

T, H = 8, 32  # 序列长度、隐状态维数：保持很小，编译才快
X_train, y_train = adding_problem(2048, seq_len=T, seed=0)
X_test, y_test = adding_problem(
    512, seq_len=T, seed=1
)  # 另一个种子：模型从没见过的序列
baseline = float(np.mean((y_test - 1.0) ** 2))
print(f"基线（总是预测 1）：测试 MSE = {baseline:.3f}")

set_seed(0)  # 固定初始化；fit 的 seed 参数（默认 0）固定数据顺序
model = SequenceClassifier(
    input_size=2, hidden_size=H, num_outputs=1, cell="lstm"
)
# 输出层偏置设为目标的均值 1：模型一开始就等于基线，
# 训练步数全部用在“记住被标记的数”上
model.head.bias.assign(Tensor([1.0])).realize()
fit(
    model,
    (X_train, y_train),
    loss_fn=mse_loss,
    optimizer=Adam(get_parameters(model), lr=0.02),
    epochs=5,
    batch_size=64,
)  # 5 轮 × 32 步 = 160 个训练步
test = evaluate(model, (X_test, y_test), loss_fn=mse_loss, batch_size=64)
mse = test["loss"]
print(f"LSTM：测试 MSE = {mse:.4f}（基线的 {mse / baseline:.1%}）")

# 断言：同样 160 步，LSTM 的误差不到基线的 1/20。
assert abs(baseline - 1 / 6) < 0.02
assert mse < baseline / 20
