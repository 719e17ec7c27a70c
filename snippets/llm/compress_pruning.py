# 幅值剪枝：训练一个 MLP，再把每层中绝对值最小的一部分权重置零，
# 看测试准确率随稀疏度怎样变化。
# 断言：一次性剪掉 50% 准确率几乎不变；剪掉 90% 后准确率大跌，
# 但固定掩码再训练几轮就能基本恢复；
# 剪掉 99% 时模型崩溃。
import numpy as np
from tinygrad import Tensor
from tinygrad.nn.optim import Adam
from tinygrad.nn.state import get_parameters

from tinymodels import MLP, evaluate, fit, load_digits, set_seed

X_train, y_train = load_digits("train", flatten=True)  # (1442, 64)
X_test, y_test = load_digits("test", flatten=True)  # (355, 64)

set_seed(0)
model = MLP(
    [64, 128, 10]
)  # 两个权重矩阵：(128, 64) 与 (10, 128)，共 9472 个权重
fit(
    model,
    (X_train, y_train),
    epochs=15,
    batch_size=128,
    optimizer=Adam(get_parameters(model), lr=5e-3),
)

dense = [
    layer.weight.numpy() for layer in model.layers
]  # 保存稠密权重，每种稀疏度都从它出发


def magnitude_prune(w: np.ndarray, sparsity: float) -> np.ndarray:
    """把 w 中绝对值最小的 sparsity 比例的元素置零（逐层剪枝，偏置不剪）。"""
    k = int(round(sparsity * w.size))  # 要剪掉的个数
    if k == 0:
        return w.copy()
    order = np.argsort(np.abs(w), axis=None)  # 按绝对值从小到大排列的扁平下标
    pruned = w.copy().reshape(-1)
    pruned[order[:k]] = 0.0
    return pruned.reshape(w.shape)


accuracy = {}
for sparsity in (0.0, 0.5, 0.8, 0.9, 0.99):
    for layer, w in zip(model.layers, dense):
        layer.weight.assign(
            Tensor(magnitude_prune(w, sparsity))
        ).realize()  # 原地替换权重
    zeros = sum(
        int((layer.weight.numpy() == 0).sum()) for layer in model.layers
    )
    assert (
        zeros >= round(sparsity * 9472) - 2
    )  # 确实剪掉了这么多（每层取整，允许差一两个）
    accuracy[sparsity] = evaluate(model, (X_test, y_test))["accuracy"]
    print(
        f"一次性剪枝，稀疏度 {sparsity:4.0%}：测试准确率 "
        f"{accuracy[sparsity]:.3f}"
    )


class MaskedMLP:
    """前向时用 W ⊙ M 代替 W：剪掉的权重不影响输出，也得不到有用的梯度。"""

    def __init__(self, mlp: MLP, masks: list[Tensor]):
        self.mlp, self.masks = mlp, masks

    def __call__(self, x: Tensor) -> Tensor:
        for i, (layer, mask) in enumerate(zip(self.mlp.layers, self.masks)):
            x = x.linear((layer.weight * mask).T, layer.bias)
            if i < len(self.masks) - 1:
                x = x.relu()
        return x


# 剪掉 90%，然后固定掩码、用训练集再训练 10 轮（Han 等，2015 的“剪枝 + 再训
# 练”）
for layer, w in zip(model.layers, dense):
    layer.weight.assign(Tensor(magnitude_prune(w, 0.9))).realize()
masks = [
    Tensor((layer.weight.numpy() != 0).astype(np.float32))
    for layer in model.layers
]
params = [
    p for layer in model.layers for p in (layer.weight, layer.bias)
]  # 只优化权重和偏置，掩码不动
fit(
    MaskedMLP(model, masks),
    (X_train, y_train),
    epochs=10,
    batch_size=128,
    optimizer=Adam(params, lr=5e-3),
)
for layer, mask in zip(model.layers, masks):
    layer.weight.assign(
        layer.weight * mask
    ).realize()  # 把掩码乘进权重，得到真正稀疏的模型
assert (
    sum(int((layer.weight.numpy() != 0).sum()) for layer in model.layers)
    <= round(0.1 * 9472) + 2
)
retrained = evaluate(model, (X_test, y_test))["accuracy"]
print(f"剪掉 90% 后再训练：测试准确率 {retrained:.3f}")

assert accuracy[0.0] > 0.95
assert (
    accuracy[0.5] > accuracy[0.0] - 0.02
)  # 一次性剪掉一半权重，准确率几乎不变
assert accuracy[0.9] < accuracy[0.0] - 0.3  # 一次性剪掉 90%：准确率大跌
assert retrained > accuracy[0.0] - 0.05  # 再训练后基本恢复
assert accuracy[0.99] < 0.3  # 只剩 1% 的权重：接近随机猜测（10 类为 0.1）
