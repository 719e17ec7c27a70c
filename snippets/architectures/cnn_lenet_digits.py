# 用 tinymodels 的 LeNet 在 8x8 手写数字上训练卷积网络，
# 断言测试准确率不低于 97%。
# 流程对应常见教程的“导入库、加载数据、预处理、构建模型、选择损失与优化器、训
# 练、测试”七步。
import numpy as np
from tinygrad import Tensor
from tinygrad.nn.optim import Adam
from tinygrad.nn.state import get_parameters

from tinymodels import (
    LeNet,
    count_parameters,
    evaluate,
    fit,
    load_digits,
    set_seed,
)

# 加载数据：随包附带、不联网。形状 (N, 1, 8, 8)，即“样本、通道、高、宽”，
# 像素已除以 16 缩放到 [0, 1]。
X_train, y_train = load_digits("train")  # 1442 张
X_test, y_test = load_digits("test")  # 355 张
assert (
    X_train.shape == (1442, 1, 8, 8)
    and 0.0 <= X_train.min()
    and X_train.max() <= 1.0
)

# 构建模型：两段“3x3 卷积 + ReLU + 2x2 最大池化”，再接两层全连接，
# 输出 10 个类别的 logits
set_seed(0)
model = LeNet(
    in_channels=1,
    num_classes=10,
    input_size=(8, 8),
    channels=(6, 16),
    kernel_size=3,
    hidden=64,
)
print("参数量", count_parameters(model))  # 5750

# 损失默认是 softmax 交叉熵（模型输出 logits，不要自己再加 softmax）；
# 优化器用 Adam
opt = Adam(get_parameters(model), lr=1e-2)

# 先用较大的学习率训练 8 轮，再把学习率降到十分之一训练 4 轮，
# 让参数在谷底附近稳定下来
history = fit(
    model, (X_train, y_train), optimizer=opt, epochs=8, batch_size=64, seed=0
)
opt.lr.assign(
    Tensor([1e-3])
).realize()  # 学习率是优化器里的一个张量，可以原地修改
history2 = fit(
    model,
    (X_train, y_train),
    optimizer=opt,
    epochs=4,
    batch_size=64,
    seed=100,
)
# 测试：一次前向算完全部 355 张测试图（batch_size 取测试集大小，只编译一种形
# 状）
result = evaluate(model, (X_test, y_test), batch_size=len(X_test))

losses = history["loss"] + history2["loss"]
print("各轮训练损失", np.round(losses, 3))
print(f"测试准确率 {result['accuracy']:.3f}")
assert losses[-1] < losses[0] / 10  # 训练损失下降了一个数量级以上
assert result["accuracy"] >= 0.97
