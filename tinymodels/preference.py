"""偏好对齐：奖励模型的 Bradley–Terry 损失与 DPO。

一条偏好数据是 ``(提示 x, 更好的回答 y_w, 更差的回答 y_l)``。

    P(y_w ≻ y_l) = σ(r(x, y_w) - r(x, y_l))                   Bradley–Terry
    奖励模型：   L = -log σ(r_w - r_l)
    DPO：        L = -log σ(β [(log π(y_w) - log π_ref(y_w))
                                - (log π(y_l) - log π_ref(y_l))])

``log π(y)`` 是整个回答的对数概率：回答里每个词元的对数概率之和
（``sequence_logprob``）。DPO 的 ``β (log π(y) - log π_ref(y))`` 叫隐式奖励：
它在 DPO 里扮演奖励模型 ``r(x, y)`` 的角色（Rafailov 等，2023）。

序列的约定与 ``tinymodels.chat.encode_chat`` 相同：``ids (B, T)`` 与
``mask (B, T)`` 对齐，``mask[t] = 1`` 表示 ``ids[t]`` 是回答的一部分；
模型在位置 ``t`` 预测 ``ids[t+1]``，所以用 ``ids[1:]`` 与 ``mask[1:]``。
"""

from __future__ import annotations

import numpy as np
from tinygrad import Tensor, TinyJit

from tinymodels._contract import expect, is_int, require
from tinymodels.chat import ENDOFTEXT, encode_chat
from tinymodels.data.tasks import CAPITALS, chat_examples
from tinymodels.layers import init
from tinymodels.layers.basic import Linear
from tinymodels.models.llama import TinyLlama

__all__ = [
    "RewardModel",
    "bradley_terry_loss",
    "dpo_loss",
    "dpo_step",
    "encode_pairs",
    "hidden_states",
    "preference_pairs",
    "response_logprob",
    "sequence_logprob",
]  # fmt: skip


def _pair(a, b, name_a: str, name_b: str, where: str) -> int:
    """``a``、``b`` 都是 ``(B,)`` 的浮点张量：成对损失的入口检查。"""
    (B,) = expect(a, "B", name_a, where)
    expect(b, "B", name_b, where, B=B)
    return B


def response_logprob(logits: Tensor, ids: Tensor, mask: Tensor) -> Tensor:
    """已有 logits 时回答部分的对数概率之和，``sequence_logprob`` 的后半段。

    Args:
        logits: ``(B, T-1, V)``，位置 ``t`` 预测 ``ids[t+1]``，即
            ``model(ids[:, :-1])``。
        ids: 整数张量 ``(B, T)``。
        mask: 与 ``ids`` 同形状，回答的词元为 1。

    Returns:
        Tensor: ``(B,)``，``Σ_t mask[t] log p(ids[t] | ids[<t])``。
    """
    where = "response_logprob"
    B, T = expect(ids, "B T", "ids", where, dtype="int")
    expect(mask, "B T", "mask", where, dtype="int", B=B, T=T)
    expect(logits, "B T V", "logits", where, B=B, T=T - 1)
    logp = logits.log_softmax(-1)  # (B, T-1, V)
    target = ids[:, 1:]  # (B, T-1)：每个位置要预测的下一个词元
    picked = (logp * target.one_hot(logp.shape[-1])).sum(-1)  # (B, T-1)
    return (picked * mask[:, 1:].float()).sum(-1)  # (B,)


def sequence_logprob(model, ids: Tensor, mask: Tensor) -> Tensor:
    """整个回答的对数概率 ``log π(y | x)``：回答每个词元的对数概率之和。

    Args:
        model: 语言模型，``model(idx (B, T)) -> logits (B, T, V)``。
        ids: 整数张量 ``(B, T)``，提示与回答连在一起（末尾可以补齐）。
        mask: 与 ``ids`` 同形状，回答的词元为 1，提示和补齐为 0。

    Returns:
        Tensor: ``(B,)``。
    """
    B, T = expect(ids, "B T", "ids", "sequence_logprob", dtype="int")
    expect(mask, "B T", "mask", "sequence_logprob", dtype="int", B=B, T=T)
    require(
        T >= 2, f"sequence_logprob: ids 至少要 2 个位置，形状为 ({B}, {T})"
    )
    logits = model(ids[:, :-1])  # (B, T-1, V)：位置 t 预测 ids[t+1]
    return response_logprob(logits, ids, mask)


def hidden_states(model: TinyLlama, ids: Tensor) -> Tensor:
    """``TinyLlama`` 最后一层归一化后的隐状态 ``(B, T, C)``。

    语言模型的 logits 就是 ``hidden_states(model, ids) @ W_out^T``（共享
    权重时 ``W_out`` 是词嵌入 ``E``）；奖励模型在它上面接标量头。
    """
    B, T = expect(ids, "B T", "ids", "hidden_states", dtype="int")
    require(
        isinstance(model, TinyLlama) and T <= model.block_size,
        f"hidden_states: model 应为 TinyLlama，ids 形状 ({B}, {T}) 不超过 "
        f"block_size={getattr(model, 'block_size', None)}",
    )
    causal = Tensor.ones(T, T, dtype="bool").tril()  # 只看自己和之前
    x = model.tok_emb[ids]  # (B, T, C)
    for block in model.blocks:
        x = block(x, model.cos[:T], model.sin[:T], causal)  # (B, T, C)
    return model.norm_f(x)


def bradley_terry_loss(r_chosen: Tensor, r_rejected: Tensor) -> Tensor:
    """奖励模型的损失 ``mean(-log σ(r_w - r_l))``。

    对 ``r_w`` 的梯度是 ``(σ(r_w - r_l) - 1) / B``：模型已经把好回答排得
    越靠前（差越大），梯度越小。

    Args:
        r_chosen: ``(B,)``，好回答的奖励 ``r(x, y_w)``。
        r_rejected: ``(B,)``，差回答的奖励 ``r(x, y_l)``。

    Returns:
        Tensor: 标量损失。
    """
    _pair(
        r_chosen, r_rejected, "r_chosen", "r_rejected", "bradley_terry_loss"
    )
    # -log σ(z) = softplus(-z)：z 很负时也不会算出 log(0)
    return -(r_chosen - r_rejected).logsigmoid().mean()


def dpo_loss(
    pi_chosen: Tensor,
    pi_rejected: Tensor,
    ref_chosen: Tensor,
    ref_rejected: Tensor,
    beta: float = 0.1,
) -> tuple[Tensor, Tensor, Tensor]:
    """DPO 损失与两个隐式奖励。

    ``r_w = β (log π(y_w) - log π_ref(y_w))``，``r_l`` 同理，
    损失 ``mean(-log σ(r_w - r_l))``，就是把隐式奖励代进 Bradley–Terry。

    Args:
        pi_chosen: ``(B,)``，策略对好回答的 ``log π(y_w | x)``。
        pi_rejected: ``(B,)``，策略对差回答的 ``log π(y_l | x)``。
        ref_chosen: ``(B,)``，参考模型的 ``log π_ref(y_w | x)``（常数）。
        ref_rejected: ``(B,)``，参考模型的 ``log π_ref(y_l | x)``（常数）。
        beta: ``β > 0``，KL 惩罚的强度，越大越不愿离开参考模型。

    Returns:
        tuple: ``(loss, r_w, r_l)``：标量损失与 ``(B,)`` 的两个隐式奖励。
    """
    where = "dpo_loss"
    B = _pair(pi_chosen, pi_rejected, "pi_chosen", "pi_rejected", where)
    expect(ref_chosen, "B", "ref_chosen", where, B=B)
    expect(ref_rejected, "B", "ref_rejected", where, B=B)
    require(
        isinstance(beta, (int, float)) and beta > 0,
        f"{where}: beta 应为正数，实际为 {beta!r}",
    )
    r_w = beta * (pi_chosen - ref_chosen)  # (B,)
    r_l = beta * (pi_rejected - ref_rejected)  # (B,)
    loss = -(r_w - r_l).logsigmoid().mean()
    return loss, r_w, r_l


def dpo_step(policy, opt, beta: float = 0.1) -> TinyJit:
    """编译一次的 DPO 训练步：``step(ids, mask, ref) -> (3,)``。

    ``ids``、``mask`` 是 ``(2B, T)``：前 ``B`` 行是好回答，后 ``B`` 行是
    对应的差回答（``encode_pairs`` 的排法）；``ref (2B,)`` 是参考模型事先
    算好的 ``log π_ref``。返回 ``[损失, 平均奖励差 r_w - r_l, 偏好准确率]``，
    准确率是 ``r_w > r_l`` 的比例。要在 ``with Context(TRAINING=1):`` 里调用，
    每次形状相同。

    与 ``train_step`` 一样把损失和参数更新放进同一次 ``realize``，只是多带
    回两个指标（``train_step`` 只返回损失）。
    """
    require(
        isinstance(beta, (int, float)) and beta > 0,
        f"dpo_step: beta 应为正数，实际为 {beta!r}",
    )

    def step(ids: Tensor, mask: Tensor, ref: Tensor) -> Tensor:
        B = ids.shape[0] // 2
        opt.zero_grad()
        logp = sequence_logprob(policy, ids, mask)  # (2B,)
        loss, r_w, r_l = dpo_loss(logp[:B], logp[B:], ref[:B], ref[B:], beta)
        loss.backward()
        margin = r_w - r_l  # (B,)
        stats = Tensor.stack(
            loss, margin.mean(), (margin > 0).float().mean()
        )  # (3,)
        return stats.realize(*opt.schedule_step())

    return TinyJit(step)


class RewardModel:
    """奖励模型：TinyLlama 的主干加一个标量输出头，``(ids, mask) -> (B,)``。

    主干（词嵌入与各块、最后的 RMSNorm）读完整条对话，输出头
    ``r = w^T h + b``（初值全 0）只读回答最后一个词元（``mask`` 里最后一个 1，
    对话里是助手的 ``<|end|>``）的隐状态 ``h``：因果注意力下只有这个位置
    看过整个回答。语言模型的输出层用不上。

    Args:
        trunk: 一个 ``TinyLlama``，通常是预训练或指令微调过的模型。
    """

    def __init__(self, trunk: TinyLlama):
        require(
            isinstance(trunk, TinyLlama),
            "RewardModel: trunk 应为 TinyLlama，实际为 "
            f"{type(trunk).__name__}",
        )
        self.trunk = trunk
        self.score = Linear(trunk.d_model, 1)  # w: (1, C)，b: (1,)
        # 标量头从 0 开始：训练前所有回答同分，P(y_w ≻ y_l) = 1/2，
        # 损失 log 2，与 DPO 的起点一样；梯度 ∝ h 不为 0，照样能学
        self.score.weight = init.zeros((1, trunk.d_model))
        self.score.bias = init.zeros((1,))

    def features(self, ids: Tensor, mask: Tensor) -> Tensor:
        """回答最后一个词元的隐状态 ``h``，``(B, C)``。"""
        B, T = expect(ids, "B T", "ids", "RewardModel", dtype="int")
        expect(mask, "B T", "mask", "RewardModel", dtype="int", B=B, T=T)
        h = hidden_states(self.trunk, ids)  # (B, T, C)
        m = mask.float()
        nxt = m[:, 1:].pad(((0, 0), (0, 1)))  # (B, T)：下一个位置的掩码
        last = m * (1 - nxt)  # (B, T)：回答最后一个词元处为 1
        return (h * last.unsqueeze(-1)).sum(1)  # (B, C)

    def __call__(self, ids: Tensor, mask: Tensor) -> Tensor:
        return self.score(self.features(ids, mask)).squeeze(-1)  # (B,)


def preference_pairs(n: int, seed: int = 0) -> list[tuple[str, str, str]]:
    """``n`` 条合成偏好数据 ``(问题, 好回答, 差回答)``，答案可由程序核对。

    问题取自 ``chat_examples``，好回答是正确答案，差回答是一个错的：
    加法差 1..10（不为负），倒序题给出没倒过来的原词，查表题给出
    另一个国家的首都。
    """
    require(is_int(n, 1), f"preference_pairs: n 应为正整数，实际为 {n!r}")
    rng = np.random.default_rng(seed + 1000)
    others = list(CAPITALS.values())
    out = []
    for q, a in chat_examples(n, seed):
        if q.endswith("="):  # 加法
            off = int(rng.integers(1, 11)) * (1 if rng.random() < 0.5 else -1)
            bad = int(a) + off if int(a) + off >= 0 else int(a) - off
            wrong = str(bad)
        elif q.startswith("倒序："):
            wrong = q[3:]  # 原词，没有倒过来
        else:
            wrong = str(rng.choice([c for c in others if c != a]))
        out.append((q, a, wrong))
    return out


def encode_pairs(
    tok, pairs, block_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """把偏好数据编码成 ``(ids, mask)``，各 ``(2N, block_size)`` 的 int32。

    前 ``N`` 行是 ``[(user, 问题), (assistant, 好回答)]``，后 ``N`` 行是同样
    顺序的差回答；末尾用 ``<|endoftext|>`` 补齐，补齐处掩码为 0（因果
    注意力下，后面补的词元影响不到前面的位置）。
    """
    rows = [
        encode_chat(tok, [("user", q), ("assistant", a)]) for q, a, _ in pairs
    ]
    rows += [
        encode_chat(tok, [("user", q), ("assistant", b)]) for q, _, b in pairs
    ]
    longest = max(len(i) for i, _ in rows)
    require(
        longest <= block_size,
        f"encode_pairs: 最长的一条有 {longest} 个词元，超过 "
        f"block_size={block_size}",
    )
    ids = np.full((len(rows), block_size), tok.special_tokens[ENDOFTEXT])
    ids = ids.astype(np.int32)
    mask = np.zeros((len(rows), block_size), np.int32)
    for k, (i, m) in enumerate(rows):
        ids[k, : len(i)], mask[k, : len(m)] = i, m
    return ids, mask
