"""偏好对齐：Bradley–Terry 与 DPO 的损失对照 PyTorch，序列对数概率对照
NumPy，训练步、奖励模型、合成偏好数据与错误消息。

模型都用很小的形状（V = 23、C = 16、上下文 8、1 层），在 ``fast``（不做内核
优化）下编译，编译结果在测试之间复用。
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from tinygrad import Context, Tensor
from tinygrad.nn.optim import Adam
from tinygrad.nn.state import get_parameters

from tests.tinymodels.conftest import check_names, check_shape_error
from tinymodels.chat import SPECIAL_TOKENS, encode_chat
from tinymodels.data.bpe import BPETokenizer
from tinymodels.data.tasks import CAPITALS, WORDS
from tinymodels.models.llama import TinyLlama
from tinymodels.preference import (
    RewardModel,
    bradley_terry_loss,
    dpo_loss,
    dpo_step,
    encode_pairs,
    hidden_states,
    preference_pairs,
    response_logprob,
    sequence_logprob,
)

torch = pytest.importorskip("torch")
F = torch.nn.functional
torch.set_num_threads(1)

V, BS, C = 23, 8, 16  # 词表、上下文、宽度


def small() -> TinyLlama:
    # 1 层：反向传播的内核少，编译快
    return TinyLlama(
        V, block_size=BS, d_model=C, num_heads=4, num_kv_heads=2, num_layers=1
    )


def seqs(B=4, seed=0) -> tuple[np.ndarray, np.ndarray]:
    """随机词元与“后半段是回答”的掩码，各 (B, BS)。"""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, V, (B, BS)).astype(np.int32)
    mask = np.zeros((B, BS), np.int32)
    for b in range(B):
        mask[b, 3 : 4 + b % 3] = 1  # 长短不一的回答，后面是补齐
    return ids, mask


R_W = np.array([1.5, -0.3, 0.2, 2.0], np.float32)
R_L = np.array([0.5, 0.4, 0.2, -1.0], np.float32)


def test_bradley_terry_matches_torch_and_closed_form_gradient(close):
    rw, rl = Tensor(R_W), Tensor(R_L)
    loss = bradley_terry_loss(rw, rl)
    loss.backward()
    tw = torch.tensor(R_W, requires_grad=True)
    tl = torch.tensor(R_L, requires_grad=True)
    ref = -F.logsigmoid(tw - tl).mean()
    ref.backward()
    close(loss, ref, "BT 损失")
    close(rw.grad, tw.grad, "对 r_w 的梯度")
    # 闭式：∂L/∂r_w = (σ(r_w - r_l) - 1) / B，∂L/∂r_l 是它的相反数
    sig = 1 / (1 + np.exp(-(R_W - R_L)))
    close(rw.grad, (sig - 1) / len(R_W), "闭式梯度")
    close(rl.grad, (1 - sig) / len(R_W), "对 r_l 的闭式梯度")


def test_bradley_terry_is_stable_for_large_margins():
    big = np.array([-200.0, 200.0], np.float32)
    loss = bradley_terry_loss(Tensor(big), Tensor(-big)).numpy()
    assert np.isfinite(loss) and abs(loss - 200.0) < 1e-3  # (400 + 0) / 2


def test_dpo_loss_matches_torch(close):
    rng = np.random.default_rng(0)
    pw, pl, qw, ql = rng.normal(-8, 3, (4, 5)).astype(np.float32)
    beta = 0.3
    loss, r_w, r_l = dpo_loss(
        Tensor(pw), Tensor(pl), Tensor(qw), Tensor(ql), beta
    )
    t = [torch.tensor(a) for a in (pw, pl, qw, ql)]
    z = beta * ((t[0] - t[2]) - (t[1] - t[3]))
    close(loss, -F.logsigmoid(z).mean(), "DPO 损失")
    close(r_w, beta * (pw - qw), "隐式奖励 r_w")
    close(r_l, beta * (pl - ql), "隐式奖励 r_l")


def test_dpo_at_reference_is_log2():
    logp = Tensor(np.array([-3.0, -7.5, -1.25], np.float32))
    other = Tensor(np.array([-2.0, -9.0, -4.0], np.float32))
    loss, r_w, r_l = dpo_loss(logp, other, logp, other, beta=0.5)
    assert abs(loss.item() - math.log(2)) < 1e-6
    assert np.all(r_w.numpy() == 0) and np.all(r_l.numpy() == 0)


def test_sequence_logprob_matches_numpy(close, fast):
    model = small()
    ids, mask = seqs()
    got = sequence_logprob(model, Tensor(ids), Tensor(mask))
    logits = model(Tensor(ids[:, :-1])).numpy().astype(np.float64)
    z = logits - logits.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))  # log-softmax
    picked = np.take_along_axis(logp, ids[:, 1:, None], -1)[..., 0]
    want = (picked * mask[:, 1:]).sum(-1)
    close(got, want, "sequence_logprob")
    # 冻结主干的写法：隐状态乘输出层（共享权重时是 E）得到同样的 logits
    h = hidden_states(model, Tensor(ids[:, :-1]))  # (B, T-1, C)
    frozen = response_logprob(h @ model.tok_emb.T, Tensor(ids), Tensor(mask))
    close(frozen, want, "hidden_states + response_logprob")


def test_sequence_logprob_ignores_padding_after_the_answer(close, fast):
    model = small()
    ids, mask = seqs()
    other = ids.copy()
    other[:, -2:] = (other[:, -2:] + 1) % V  # 只改掩码为 0 的末尾
    assert not mask[:, -2:].any()
    a = sequence_logprob(model, Tensor(ids), Tensor(mask))
    b = sequence_logprob(model, Tensor(other), Tensor(mask))
    close(a, b, "补齐不影响回答的对数概率")


class Bigram:
    """最小的语言模型 ``logits[t] = table[idx[t]]``：``dpo_step`` 对任何
    ``policy(idx) -> logits`` 都适用，用它测试训练步，免得编译整个
    TinyLlama 的反向传播。"""

    def __init__(self):
        rng = np.random.default_rng(0)
        self.table = Tensor(rng.normal(0, 0.1, (V, V)).astype(np.float32))

    def __call__(self, idx: Tensor) -> Tensor:
        return self.table[idx]  # (B, T, V)


def test_dpo_step_moves_policy_toward_chosen():
    policy = Bigram()
    ids, mask = seqs(B=4)
    ids[2:, :3] = ids[:2, :3]  # 差回答：同样的提示（前 3 个词元），
    ids[2:, 3:] = (ids[:2, 3:] + 5) % V  # 回答换成别的词元
    mask[2:] = mask[:2]
    ids_t, mask_t = Tensor(ids), Tensor(mask)
    ref = sequence_logprob(policy, ids_t, mask_t).realize()
    opt = Adam(get_parameters(policy), lr=0.1)
    step = dpo_step(policy, opt, beta=0.5)
    with Context(TRAINING=1):
        stats = [step(ids_t, mask_t, ref).numpy() for _ in range(8)]
    assert abs(stats[0][0] - math.log(2)) < 1e-4  # 第一步 π = π_ref
    assert stats[-1][0] < stats[0][0] - 0.1  # 损失下降
    assert stats[-1][1] > 0.2 and stats[-1][2] == 1.0  # 奖励差为正、全对
    # 返回的统计与用更新前的参数重算的一致：第一步的奖励差为 0
    assert stats[0][1] == 0.0 and stats[0][2] == 0.0


def test_reward_model_reads_the_last_answer_token(close, fast):
    trunk = small()
    rm = RewardModel(trunk)
    ids, mask = seqs()
    zero = rm(Tensor(ids), Tensor(mask)).numpy()
    assert np.all(zero == 0)  # 标量头初值为 0：训练前所有回答同分
    rng = np.random.default_rng(1)
    w = rng.normal(size=C).astype(np.float32)
    b = np.float32(0.3)
    rm.score.weight, rm.score.bias = Tensor(w[None]), Tensor(np.array([b]))
    r = rm(Tensor(ids), Tensor(mask)).numpy()  # (B,)
    h = hidden_states(trunk, Tensor(ids)).numpy()  # (B, T, C)
    last = mask.shape[1] - 1 - np.argmax(mask[:, ::-1], axis=1)  # 最后一个 1
    close(r, h[np.arange(len(ids)), last] @ w + b, "读最后一个回答词元")
    later = ids.copy()
    later[:, -1] = (later[:, -1] + 1) % V  # 回答之后的词元不影响奖励
    close(rm(Tensor(later), Tensor(mask)), r, "回答之后的补齐")


def test_preference_pairs_are_checkable():
    pairs = preference_pairs(30, seed=3)
    assert pairs == preference_pairs(30, seed=3)  # 由种子决定
    kinds = set()
    for q, good, bad in pairs:
        assert good != bad
        if q.endswith("="):
            a, b = map(int, q[:-1].split("+"))
            assert int(good) == a + b and int(bad) >= 0
            assert 1 <= abs(int(bad) - (a + b)) <= 10
            kinds.add("add")
        elif q.startswith("倒序："):
            assert good == q[3:][::-1] and bad == q[3:] and bad in WORDS
            kinds.add("rev")
        else:
            country = q.removesuffix("的首都")
            assert good == CAPITALS[country] and bad in CAPITALS.values()
            kinds.add("cap")
    assert kinds == {"add", "rev", "cap"}


def test_encode_pairs_layout():
    tok = BPETokenizer(special_tokens=SPECIAL_TOKENS)
    pairs = [("1+2=", "3", "5"), ("倒序：模型", "型模", "模型")]
    ids, mask = encode_pairs(tok, pairs, 40)
    assert ids.shape == mask.shape == (4, 40) and ids.dtype == np.int32
    for k, (q, a) in enumerate(
        [(p[0], p[1]) for p in pairs] + [(p[0], p[2]) for p in pairs]
    ):
        want, m = encode_chat(tok, [("user", q), ("assistant", a)])
        assert ids[k, : len(want)].tolist() == want.tolist()
        assert mask[k, : len(m)].tolist() == m.tolist()
        assert not mask[k, len(m) :].any()


def test_bad_inputs():
    a = Tensor(np.zeros(4, np.float32))
    with pytest.raises(ValueError) as e:
        bradley_terry_loss(a, Tensor(np.zeros((4, 1), np.float32)))
    check_shape_error(e, "r_rejected", (4, 1), (4,))
    with pytest.raises(ValueError) as e:
        dpo_loss(a, a, a, Tensor(np.zeros(3, np.float32)))
    check_shape_error(e, "ref_rejected", (3,), (4,))
    with pytest.raises(ValueError) as e:
        dpo_loss(a, a, a, a, beta=0.0)
    check_names(e, "beta")
    model = small()
    ids, mask = seqs()
    with pytest.raises(ValueError) as e:
        sequence_logprob(model, Tensor(ids.astype(np.float32)), Tensor(mask))
    check_names(e, "ids")
    with pytest.raises(ValueError) as e:
        sequence_logprob(model, Tensor(ids), Tensor(mask[:, :5]))
    check_shape_error(e, "mask", (4, 5), (4, 8))
    with pytest.raises(ValueError) as e:
        RewardModel(object())
    check_names(e, "trunk")
    with pytest.raises(ValueError) as e:
        response_logprob(
            Tensor(np.zeros((4, 8, V), np.float32)), *map(Tensor, (ids, mask))
        )
    check_shape_error(e, "logits", (4, 8, V), (4, 7))
    with pytest.raises(ValueError) as e:
        preference_pairs(0)
    check_names(e, "n")
    tok = BPETokenizer(special_tokens=SPECIAL_TOKENS)
    with pytest.raises(ValueError) as e:
        encode_pairs(tok, [("1+2=", "3", "5")], 4)
    check_names(e, "block_size")
