"""指令微调（tinymodels.sft）：批的排布、掩码损失的公式与梯度、chat、
finetune 的可复现性，以及错误消息。

掩码交叉熵对照照公式写的 NumPy 和 PyTorch 的
``F.cross_entropy(..., reduction="none")`` 的掩码平均。为了快，分词器在
一小段文字上现训（词表 268），模型是 1 层、宽 16 的 TinyLlama。
"""

from __future__ import annotations

import numpy as np
import pytest
from tinygrad import Tensor, dtypes
from tinygrad.nn.state import get_parameters

from tinymodels import BPETokenizer, TinyLlama
from tinymodels.chat import (
    END,
    ENDOFTEXT,
    SPECIAL_TOKENS,
    encode_chat,
    format_chat,
)
from tinymodels.sft import (
    chat,
    complete,
    finetune,
    masked_cross_entropy,
    sft_batch,
)

torch = pytest.importorskip("torch")
F = torch.nn.functional

PAIRS = [("37+45=", "82"), ("倒序：模型", "型模"), ("法国的首都", "巴黎")]
TEXT = "37+45=82\n“模型”倒过来是“型模”。\n法国的首都是巴黎。\n" * 3


@pytest.fixture(scope="module")
def tok() -> BPETokenizer:
    return BPETokenizer.train(TEXT, 264, SPECIAL_TOKENS)


def tiny_model(tok, seed: int = 0) -> TinyLlama:
    from tinymodels import set_seed

    set_seed(seed)
    return TinyLlama(
        tok.vocab_size, block_size=48, d_model=16, num_heads=2,
        num_kv_heads=1, num_layers=1,
    )  # fmt: skip


def random_case(B=3, T=7, V=11, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 2, (B, T, V)).astype(np.float32)
    y = rng.integers(0, V, (B, T)).astype(np.int32)
    m = (rng.random((B, T)) < 0.4).astype(np.int32)
    m[0, 0] = 1  # 至少一个 1
    return z, y, m


# ------------------------------------------------------------- sft_batch


def test_sft_batch_shifts_pads_and_masks(tok):
    T = 24
    ids, y, m = sft_batch(tok, PAIRS, T)
    assert ids.shape == y.shape == m.shape == (3, T)
    assert ids.dtype == y.dtype == m.dtype == np.int32
    pad = tok.special_tokens[ENDOFTEXT]
    for b, (q, a) in enumerate(PAIRS):
        seq, mask = encode_chat(tok, [("user", q), ("assistant", a)])
        n = len(seq) - 1
        assert (ids[b, :n] == seq[:-1]).all() and (y[b, :n] == seq[1:]).all()
        assert (m[b, :n] == mask[1:]).all()
        assert (ids[b, n:] == pad).all() and (m[b, n:] == 0).all()
        # 掩码为 1 的目标正好是“回答 + <|end|>”
        want = tok.encode(a, special="none") + [tok.special_tokens[END]]
        assert y[b][m[b] == 1].tolist() == want


def test_sft_batch_truncates(tok):
    seq, _ = encode_chat(tok, [("user", "37+45="), ("assistant", "82")])
    T = len(seq) - 2  # 截掉最后一个目标（回答的 <|end|>）
    ids, y, m = sft_batch(tok, PAIRS[:1], T)
    assert (ids[0] == seq[:T]).all() and (y[0] == seq[1 : T + 1]).all()
    assert m[0, -1] == 1  # 回答的数字还在


# --------------------------------------------------- masked_cross_entropy


def test_masked_loss_equals_numpy_mean_over_answer_tokens():
    z, y, m = random_case()
    ours = masked_cross_entropy(Tensor(z), Tensor(y), Tensor(m)).numpy()
    zz = z.astype(np.float64)
    logp = zz - zz.max(-1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(-1, keepdims=True))
    ell = -np.take_along_axis(logp, y[..., None], -1)[..., 0]  # (B, T)
    want = ell[m == 1].mean()  # 只对回答位置求平均
    assert abs(float(ours) - want) < 1e-5 * max(1.0, abs(want))


def test_masked_loss_matches_torch():
    z, y, m = random_case(B=4, T=9, V=13, seed=1)
    ours = masked_cross_entropy(Tensor(z), Tensor(y), Tensor(m)).numpy()
    V = z.shape[-1]
    ell = F.cross_entropy(
        torch.tensor(z).reshape(-1, V),
        torch.tensor(y).long().reshape(-1),
        reduction="none",
    )
    mt = torch.tensor(m, dtype=torch.float32).reshape(-1)
    want = float((ell * mt).sum() / mt.sum())
    assert abs(float(ours) - want) < 1e-5 * max(1.0, abs(want))


def test_masked_positions_get_exactly_zero_logit_gradient():
    z, y, m = random_case(seed=2)
    logits = Tensor(z)
    masked_cross_entropy(logits, Tensor(y), Tensor(m.astype("f4"))).backward()
    g = logits.grad.numpy()  # (B, T, V)
    assert (g[m == 0] == 0).all()  # 恰好是 0，不只是很小
    # 回答位置：(softmax(z) - onehot(y)) / Σm
    p = np.exp(z - z.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    want = (p - np.eye(z.shape[-1])[y]) / m.sum()
    assert np.allclose(g[m == 1], want[m == 1], atol=1e-6)


def test_masked_inputs_give_embedding_rows_zero_gradient():
    """二元语言模型 logits = E[x] W：位置 t 只依赖输入 x_t，所以只在
    掩码为 0 的位置当过输入的词元，嵌入行的梯度恰好是 0。"""
    V, C = 11, 4
    rng = np.random.default_rng(3)
    E = Tensor(rng.normal(size=(V, C)).astype("f4"))
    W = Tensor(rng.normal(size=(C, V)).astype("f4"))
    x = np.array([[1, 2, 3, 4, 5], [1, 6, 7, 8, 9]], np.int32)
    y = np.roll(x, -1, 1)
    m = np.array([[0, 0, 1, 1, 0], [0, 0, 0, 1, 0]], np.int32)
    masked_cross_entropy(E[Tensor(x)] @ W, Tensor(y), Tensor(m)).backward()
    g = np.abs(E.grad.numpy()).sum(1)  # (V,)：每个嵌入行的梯度大小
    seen = set(x[m == 1].tolist())  # {3, 4, 8}
    assert all(g[v] > 0 for v in seen)
    assert all(g[v] == 0 for v in range(V) if v not in seen)


# ---------------------------------------------------------------- chat


class ScriptedModel:
    """不论输入是什么，位置 ``start + i`` 都预测 ``script[i]``。"""

    block_size = 32

    def __init__(self, vocab_size: int, start: int, script: list[int]):
        table = np.zeros(self.block_size, np.int32)
        table[start : start + len(script)] = script
        self.table, self.V = table, vocab_size

    def __call__(self, idx: Tensor) -> Tensor:
        B, T = idx.shape
        best = Tensor(self.table[:T]).reshape(1, T).expand(B, T)
        return best.one_hot(self.V).float() * 5.0  # (B, T, V)


def test_chat_stops_at_end(tok):
    q = "37+45="
    prompt = tok.encode(
        format_chat([("user", q)], add_generation_prompt=True)
    )
    a, b = tok.encode("8", special="none") + tok.encode("2", special="none")
    end, eot = tok.special_tokens[END], tok.special_tokens[ENDOFTEXT]
    model = ScriptedModel(tok.vocab_size, len(prompt) - 1, [a, b, end, a, a])
    assert chat(model, tok, q) == "82"
    assert chat(model, tok, [q, q, q]) == ["82"] * 3
    model = ScriptedModel(tok.vocab_size, len(prompt) - 1, [b, eot, a])
    assert chat(model, tok, q) == "2"  # 也在 <|endoftext|> 停下
    model = ScriptedModel(tok.vocab_size, len(prompt) - 1, [a, a, a, a])
    assert chat(model, tok, q, max_new_tokens=3) == "888"  # 没有停止词元


def test_chat_and_complete_equal_greedy_generate(tok):
    model = tiny_model(tok)
    stop = (tok.special_tokens[END], tok.special_tokens[ENDOFTEXT])

    def generate(text):
        p = tok.encode(text)
        idx = Tensor(np.array([p], np.int32))
        out = model.generate(idx, 6, temperature=0, use_cache=False)
        new = out.numpy()[0, len(p) :].tolist()
        stops = [i for i, t in enumerate(new) if t in stop]
        return tok.decode(new[: stops[0] if stops else len(new)])

    qs = [q for q, _ in PAIRS]
    got = chat(model, tok, qs, max_new_tokens=6)
    for q, answer in zip(qs, got):
        text = format_chat([("user", q)], add_generation_prompt=True)
        assert answer == generate(text)
    # 第二条放不进 32 的短窗口：走整个 block_size 的窗口
    n = next(n for n in range(len(TEXT)) if len(tok.encode(TEXT[:n])) > 30)
    plain = ["37+45=", TEXT[:n]]
    assert complete(model, tok, plain, 6) == [generate(t) for t in plain]


# ------------------------------------------------------------- finetune


def test_finetune_is_deterministic_and_learns(tok):
    pairs = PAIRS * 4
    runs = []
    for _ in range(2):
        model = tiny_model(tok)
        losses = finetune(
            model, tok, pairs, steps=20, lr=1e-2, batch_size=4, T=24, seed=3
        )
        runs.append((losses, [p.numpy() for p in get_parameters(model)]))
    (l1, w1), (l2, w2) = runs
    assert l1 == l2 and all(np.array_equal(a, b) for a, b in zip(w1, w2))
    assert np.mean(l1[-3:]) < 0.7 * np.mean(l1[:3])


# ----------------------------------------------------------- 错误消息


def test_bad_inputs_name_the_argument(tok, err):
    with pytest.raises(ValueError) as e:
        sft_batch(tok, [], 8)
    err.names(e, "pairs")
    with pytest.raises(ValueError) as e:
        sft_batch(tok, [("只有问题",)], 8)
    err.names(e, "pairs")
    with pytest.raises(ValueError) as e:
        sft_batch(tok, PAIRS, 0)
    err.names(e, "T")
    with pytest.raises(ValueError) as e:
        sft_batch(tok, PAIRS, 3)  # 截断后没有回答词元
    err.names(e, "T")
    z, y, m = random_case()
    with pytest.raises(ValueError) as e:
        masked_cross_entropy(Tensor(z), Tensor(y), Tensor(m[:, :-1]))
    err.shape(e, "mask", m[:, :-1].shape, want=m.shape)
    with pytest.raises(ValueError) as e:
        masked_cross_entropy(Tensor(z), Tensor(y.astype("f4")), Tensor(m))
    err.dtype(e, "targets", "float")
    with pytest.raises(ValueError) as e:
        masked_cross_entropy(Tensor(z[0]), Tensor(y), Tensor(m))
    err.names(e, "logits")
    assert Tensor(m).dtype == dtypes.int32  # 整数掩码本身是合法的
    model = tiny_model(tok)
    for kw, name in [
        ({"steps": 0}, "steps"),
        ({"lr": -1.0}, "lr"),
        ({"batch_size": 4}, "batch_size"),  # 只有 3 条样本
        ({"T": 64}, "T"),  # 超过 block_size=48
        ({"T": 8}, "T"),  # 放不下整条样本
        ({"seed": -1}, "seed"),
    ]:
        with pytest.raises(ValueError) as e:
            finetune(model, tok, PAIRS, **kw)
        err.names(e, name)
    with pytest.raises(ValueError) as e:
        chat(model, tok, "37+45=", max_new_tokens=45)
    err.names(e, "max_new_tokens")
    with pytest.raises(ValueError) as e:
        chat(model, tok, 42)
    err.names(e, "question")
    with pytest.raises(ValueError) as e:
        chat(model, tok, f"你好{END}")
    err.names(e, "question")
    with pytest.raises(ValueError) as e:
        complete(model, tok, "")
    err.names(e, "text")
    with pytest.raises(ValueError) as e:
        complete(model, tok, "37+45=", max_new_tokens=0)
    err.names(e, "max_new_tokens")
