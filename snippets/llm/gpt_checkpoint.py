# 断点续训：训练一段后把模型与优化器状态存成检查点，模拟“进程崩溃”再读回来，
# 确认分毫不差，然后接着训练。
import tempfile
from pathlib import Path

import numpy as np
from tinygrad import Context, Tensor, TinyJit
from tinygrad.nn.optim import Adam
from tinygrad.nn.state import get_parameters

from tinymodels import (
    CharTokenizer,
    TinyGPT,
    cross_entropy,
    load_checkpoint,
    load_corpus,
    next_token_windows,
    read_checkpoint_metadata,
    save_checkpoint,
    set_seed,
)

BLOCK, BATCH = 16, 16
text = load_corpus()[:15000]
tok = CharTokenizer(text)
ids = np.array(tok.encode(text))
split = int(len(ids) * 0.9)
X_train, Y_train = next_token_windows(ids[:split], BLOCK, stride=8)
X_val, Y_val = next_token_windows(ids[split:], BLOCK)
n_val = len(X_val) // BATCH * BATCH
X_val, Y_val = (
    Tensor(X_val[:n_val].astype(np.int32)),
    Tensor(Y_val[:n_val].astype(np.int32)),
)


def new_model() -> TinyGPT:
    return TinyGPT(
        tok.vocab_size,
        block_size=BLOCK,
        d_model=32,
        num_heads=4,
        num_layers=1,
    )


set_seed(0)
model = new_model()
opt = Adam(get_parameters(model), lr=1e-2)


# fit() 每次调用都会新建训练步并重新编译；这里自己写一个 TinyJit 训练步，
# 保存前后共用同一份编译结果。
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


def train(steps: int, rng: np.random.Generator) -> None:
    with Context(TRAINING=1):
        for _ in range(steps):
            i = rng.integers(0, len(X_train), BATCH)
            train_step(
                Tensor(X_train[i].astype(np.int32)),
                Tensor(Y_train[i].astype(np.int32)),
            )


train(20, np.random.default_rng(0))
before = val_loss().item()

ckpt = Path(tempfile.mkdtemp())
# 模型参数和 Adam 的一阶、二阶矩估计都要存：只存模型的话，
# 续训时优化器要从零开始估计梯度的尺度。
save_checkpoint(
    model,
    ckpt / "gpt.safetensors",
    metadata={"steps": 20, "val_loss": before, "vocab": "".join(tok.chars)},
)
save_checkpoint(opt, ckpt / "adam.safetensors")

# 模拟崩溃：把所有参数换成另一组随机初值，模型“忘光了”。
set_seed(123)
for p, q in zip(get_parameters(model), get_parameters(new_model())):
    p.assign(q).realize()
broken = val_loss().item()

# 从检查点恢复模型和优化器，再验证一个全新进程的做法：新建模型、只凭文件读回，
# 输出逐位相同。
load_checkpoint(model, ckpt / "gpt.safetensors")
load_checkpoint(opt, ckpt / "adam.safetensors")
restored = val_loss().item()
meta = read_checkpoint_metadata(ckpt / "gpt.safetensors")
fresh = new_model()
load_checkpoint(fresh, ckpt / "gpt.safetensors")
x = X_val[:BATCH]
same = np.array_equal(model(x).numpy(), fresh(x).numpy())

train(20, np.random.default_rng(1))  # 接着训练 20 步
after = val_loss().item()

print(
    f"验证损失：保存时 {before:.3f}，参数被打乱后 {broken:.3f}，读回后 "
    f"{restored:.3f}，续训 20 步后 {after:.3f}"
)
assert restored == before and broken > before + 0.5  # 读回后与保存时分毫不差
assert same and CharTokenizer.from_vocab(meta["vocab"]).chars == tok.chars
assert after <= before
