# 手写一个完整的训练循环：小批量 Adam、每轮在验证集上评估、早停，
# 并把最好的模型存成检查点。
# 最后把检查点加载进一个新建的模型，断言它的预测与保存时逐位相同、
# 测试准确率不低于 95%。
import tempfile
from pathlib import Path

import numpy as np
from tinygrad import Context, Tensor, TinyJit
from tinygrad.nn.optim import Adam
from tinygrad.nn.state import get_parameters

from tinymodels import (
    MLP,
    cross_entropy,
    load_checkpoint,
    load_digits,
    save_checkpoint,
    set_seed,
)

# 1. 数据：随包附带的 8x8 手写数字，展平成 64 维向量，像素已缩放到 [0, 1]。
X_all, y_all = load_digits("train", flatten=True)  # 1442 张
X_test, y_test = load_digits("test", flatten=True)  # 355 张，只在最后用一次
# 从训练集里再分出验证集，用来挑选轮数；测试集不参与任何决定。
# 验证集取 355 张，与测试集同样大小：两者的前向计算形状相同，只需编译一次。
rng = np.random.default_rng(0)
perm = rng.permutation(len(X_all))
X_val, y_val = X_all[perm[:355]], y_all[perm[:355]]
X_train, y_train = (
    X_all[perm[355:]],
    y_all[perm[355:]].astype(np.int32),
)  # 1087 张

# 2. 模型与优化器
set_seed(0)  # 固定初始化
model = MLP([64, 64, 10])
opt = Adam(get_parameters(model), lr=1e-2)


@TinyJit  # 形状固定的训练步只编译一次，之后直接重放
def train_step(xb: Tensor, yb: Tensor) -> Tensor:
    opt.zero_grad()
    loss = cross_entropy(model(xb), yb)  # 前向 + 损失
    loss.backward()  # 反向传播，梯度存进每个参数的 .grad
    return loss.realize(*opt.schedule_step())  # 更新参数，与损失一起执行


def logits_of(net, X: np.ndarray) -> np.ndarray:
    with Context(TRAINING=0):  # 评估模式：不更新参数，Dropout（若有）关闭
        return net(Tensor(X)).numpy()


def loss_and_acc(logits: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(y)), y].mean()), float(
        (logits.argmax(1) == y).mean()
    )


# 3. 训练循环：每个 epoch 打乱一次顺序，按批更新；结束时在验证集上评估
ckpt = Path(tempfile.mkdtemp()) / "mlp_digits.safetensors"
batch_size, max_epochs, patience = 64, 30, 3
best_loss, best_epoch, best_logits = float("inf"), 0, None
for epoch in range(1, max_epochs + 1):
    order = np.random.default_rng(epoch).permutation(len(X_train))
    with Context(TRAINING=1):  # tinygrad 的训练模式：优化器只在其中工作
        for start in range(
            0, len(order) - batch_size + 1, batch_size
        ):  # 丢弃不足一批的尾巴
            idx = order[start : start + batch_size]
            train_step(Tensor(X_train[idx]), Tensor(y_train[idx]))
    val_logits = logits_of(model, X_val)
    val_loss, val_acc = loss_and_acc(val_logits, y_val)
    if val_loss < best_loss:  # 验证损失创新低：保存检查点
        best_loss, best_epoch, best_logits = val_loss, epoch, val_logits
        save_checkpoint(
            model, ckpt, metadata={"epoch": epoch, "val_loss": val_loss}
        )
    elif epoch - best_epoch >= patience:  # 连续 patience 轮没有进步：早停
        break
print(
    f"训练了 {epoch} 轮，最好的是第 {best_epoch} 轮，验证损失 {best_loss:.4f}"
)

# 4. 把最好的检查点加载进一个全新的模型（它的初始权重与训练好的完全不同）
fresh = MLP([64, 64, 10])
meta = load_checkpoint(fresh, ckpt)
assert meta["epoch"] == best_epoch
assert np.array_equal(logits_of(fresh, X_val), best_logits)  # 预测逐位相同

# 5. 只在最后用一次测试集
test_loss, test_acc = loss_and_acc(logits_of(fresh, X_test), y_test)
print(f"测试准确率 {test_acc:.3f}")
assert test_acc >= 0.95
