"""GRPO：组相对策略优化（Shao 等，2024），用程序核对的奖励训练语言模型。

一步 GRPO（结果奖励，每批样本只更新一次，同 DeepSeekMath 的做法）::

    1. 每道题 q 用当前策略 π_old 采样 G 个回答 o_1 .. o_G
    2. 程序核对每个回答，得到奖励 r_i（答对 + 格式，见 addition_reward）
    3. 组内标准化：A_i = (r_i - mean(r)) / (std(r) + eps)，o_i 的每个词元
       都用同一个 A_i；没有价值网络，基线就是同组的平均奖励
    4. 最小化 -J：
       J = 1/G Σ_i 1/|o_i| Σ_t [ min(ρ A_i, clip(ρ, 1-ε, 1+ε) A_i) - β KL ]
       ρ_{i,t} = π_θ(o_{i,t} | q, o_{i,<t}) / π_old(o_{i,t} | q, o_{i,<t})
       KL_{i,t} = π_ref/π_θ - log(π_ref/π_θ) - 1     （k3 估计，恒 >= 0）

符号：G 组大小，P 每步的题数，B = P G 一批的回答数，T 提示的词元数，
N 每个回答生成的词元数，W = T + N 一条“提示 + 回答”的长度；π_ref 是训练开始
时的模型（冻结），π_old 是采样时的模型。log 概率都按词元计，形状
``(B, W-1)``：第 t 列是 ``log π(ids[:, t+1] | ids[:, :t+1])``。

这里的任务是两位数以内的加法：提示 ``<|endoftext|>13+5=``（与预训练
里一行加法的开头相同），回答应是 ``18<|endoftext|>``。
"""

from __future__ import annotations

import re

import numpy as np
from tinygrad import Context, Tensor, TinyJit
from tinygrad.nn.optim import AdamW
from tinygrad.nn.state import get_parameters

from tinymodels._contract import expect, is_int, require
from tinymodels.chat import ENDOFTEXT
from tinymodels.layers import init
from tinymodels.models._jit import cached_jit
from tinymodels.sampling import check_sampling_args, sample_next
from tinymodels.train import realize_state, train_step

__all__ = [
    "FORMAT_REWARD",
    "addition_reward",
    "group_advantages",
    "sample_group",
    "completion_mask",
    "token_logprobs",
    "k3_kl",
    "grpo_loss",
    "train_grpo",
]

#: 格式奖励：回答只写一个数、紧接着 ``<|endoftext|>`` 停下时加的分。
FORMAT_REWARD = 0.2


def addition_reward(text: str, answer: str) -> float:
    """加法回答的奖励 = 正确奖励（0 或 1）+ 格式奖励（0 或 0.2）。

    * 正确：``text`` 开头的一串数字恰好是 ``answer``；
    * 格式：``text`` 就是“一串数字 + ``<|endoftext|>``”，写完答案就停。

    ``"82<|endoftext|>"`` 得 1.2，``"83<|endoftext|>"`` 得 0.2，
    ``"82+1"`` 得 1.0，``"8"`` 得 0。
    """
    require(
        isinstance(text, str) and isinstance(answer, str),
        f"addition_reward: text 与 answer 应为字符串，实际为 "
        f"{type(text).__name__}、{type(answer).__name__}",
    )
    require(
        answer.isdigit(),
        f"addition_reward: answer 应为一串数字，实际为 {answer!r}",
    )
    digits = re.match(r"\d*", text).group()
    correct = float(digits == answer)
    well_formed = digits != "" and text == digits + ENDOFTEXT
    return correct + FORMAT_REWARD * well_formed


def group_advantages(rewards, group_size: int, eps: float = 1e-4):
    """组相对优势：每组 G 个奖励各减组均值、除以组标准差（加 ``eps``）。

    ``rewards`` 是 ``(P G,)`` 的一维数组，同一道题的 G 个回答相邻。
    标准差按总体计算（除以 G）。一组的奖励全都相同时，这组的优势全是 0：
    这道题对梯度毫无贡献。

    Returns:
        np.ndarray: ``(P G,)`` 的 float64 优势。
    """
    r = np.asarray(rewards, dtype=np.float64)
    require(
        is_int(group_size, 2),
        f"group_advantages: group_size 应为不小于 2 的整数，"
        f"实际为 {group_size!r}",
    )
    require(
        r.ndim == 1 and r.size > 0 and r.size % group_size == 0,
        f"group_advantages: rewards 应为一维、长度是 group_size="
        f"{group_size} 的倍数，实际形状为 {r.shape}",
    )
    require(
        bool(np.isfinite(r).all()) and eps >= 0,
        f"group_advantages: rewards 应全是有限值、eps={eps} 应不小于 0",
    )
    r = r.reshape(-1, group_size)  # (P, G)
    A = (r - r.mean(1, keepdims=True)) / (r.std(1, keepdims=True) + eps)
    return A.reshape(-1)  # (P G,)


def sample_group(
    model,
    prompt_ids,
    group_size: int,
    max_new_tokens: int,
    temperature: float = 1.0,
    seed: int | None = None,
) -> np.ndarray:
    """每个提示采样 ``G = group_size`` 个回答，返回 ``(P G, N)`` 的词元。

    ``prompt_ids`` 是一个提示 ``(T,)`` 或等长的 P 个提示 ``(P, T)``。每个
    提示复制 G 行：第 p 个提示的回答是第 ``p G .. p G + G - 1`` 行。回答
    一律生成 N 个词元，停止词元之后的部分由 ``completion_mask`` 挡掉。

    与 ``TinyLlama.generate`` 的分布、随机数用法都相同（``sample_next``，
    种子相同时结果相同），只是不用 KV 缓存：回答只有几个词元，每一步都在
    固定的 ``(P G, T + N - 1)`` 窗口上整段前向（后面没写到的位置补 0，
    因果掩码让它们影响不到前面）。这个形状与算 log 概率时的前向相同，
    两者共用编译好的内核，比 ``generate`` 的预填充和单步解码少编译两个图。
    """
    prompts = np.atleast_2d(np.asarray(prompt_ids, dtype=np.int32))
    require(
        prompts.ndim == 2 and prompts.size >= 1,
        f"sample_group: prompt_ids 应为 (T,) 或 (P, T) 的词元，"
        f"实际形状为 {np.shape(prompt_ids)}",
    )
    require(
        is_int(group_size, 1) and is_int(max_new_tokens, 1),
        f"sample_group: group_size={group_size!r}、max_new_tokens="
        f"{max_new_tokens!r} 应为正整数",
    )
    P, T = prompts.shape
    B, W = P * group_size, T + max_new_tokens - 1
    require(
        W <= model.block_size,
        f"sample_group: 提示 {T} 个词元加回答 {max_new_tokens} 个，超过 "
        f"block_size={model.block_size}",
    )
    check_sampling_args(model.vocab_size, temperature, where="sample_group")
    rng = init.rng() if seed is None else np.random.default_rng(seed)
    window = np.zeros((B, W), np.int32)
    window[:, :T] = np.repeat(prompts, group_size, axis=0)  # 同题相邻
    out = np.zeros((B, max_new_tokens), np.int32)
    forward = _forward_jit(model, B, W)
    for k in range(max_new_tokens):
        logits = forward(Tensor(window)).numpy()[:, T - 1 + k]  # (B, V)
        out[:, k] = sample_next(logits.astype(np.float64), rng, temperature)
        if T + k < W:
            window[:, T + k] = out[:, k]
    return out  # (P G, N)


def _forward_jit(model, B: int, W: int):
    """``(B, W)`` 的整段前向（推理模式），每个模型、每种形状编译一次。"""

    def make(ref):
        def forward(idx: Tensor) -> Tensor:
            with Context(TRAINING=0):
                return ref()(idx).realize()

        return forward

    return cached_jit(model, ("grpo-window", B, W), make)


def completion_mask(completions, stop_id: int) -> np.ndarray:
    """``(B, N)`` 的回答词元 -> 同形的 0/1 掩码：到第一个停止词元为止
    （含它）为 1，之后为 0；没有停止词元时 N 个全是 1。"""
    c = np.asarray(completions)
    stopped = np.cumsum(c == stop_id, axis=1)  # 到 t 为止见过几个停止词元
    # 第一个停止词元本身：累计数是 1 且它就是停止词元
    first = (stopped == 1) & (c == stop_id)
    return ((stopped == 0) | first).astype(np.float32)


def token_logprobs(model, ids: Tensor) -> Tensor:
    """``ids (B, W)`` -> ``(B, W-1)`` 的逐词元 log 概率。

    第 t 列是 ``log π(ids[:, t+1] | ids[:, :t+1])``：位置 t 的 logits 经
    log-softmax 后取下一个词元那一项。
    """
    logits = model(ids[:, :-1])  # (B, W-1, V)
    logp = logits.log_softmax(-1)
    return logp.gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)  # (B, W-1)


def k3_kl(logp: Tensor, ref_logp: Tensor) -> Tensor:
    """逐词元的 KL(π_θ || π_ref) 估计 ``π_ref/π_θ - log(π_ref/π_θ) - 1``。

    ``x - log x - 1 >= 0``，``x = 1``（两者相同）时为 0；样本来自 π_θ 时
    它的期望正好是 KL（Schulman，2020 的 k3；DeepSeekMath 用的就是它）。
    """
    log_ratio = ref_logp - logp  # log(π_ref / π_θ)
    return log_ratio.exp() - log_ratio - 1


def grpo_loss(
    logp: Tensor,
    old_logp: Tensor,
    ref_logp: Tensor,
    advantages: Tensor,
    mask: Tensor,
    clip_eps: float = 0.2,
    beta: float = 0.04,
) -> Tensor:
    """GRPO 的损失 ``-J``（标量）。

    Args:
        logp: ``(B, W-1)`` 当前策略 π_θ 的逐词元 log 概率（带梯度）。
        old_logp: ``(B, W-1)`` 采样时的 π_old 的 log 概率（常数）。
        ref_logp: ``(B, W-1)`` 参考模型 π_ref 的 log 概率（常数）。
        advantages: ``(B,)`` 每个回答的优势 A_i。
        mask: ``(B, W-1)`` 回答词元为 1，提示和停止词元之后的位置为 0；
            每行至少一个 1。
        clip_eps: 比率的裁剪范围 ε。
        beta: KL 惩罚的系数 β。
    """
    B, W1 = expect(logp, "B T", "logp", "grpo_loss")
    for name, t in (("old_logp", old_logp), ("ref_logp", ref_logp)):
        expect(t, "B T", name, "grpo_loss", B=B, T=W1)
    expect(mask, "B T", "mask", "grpo_loss", B=B, T=W1)
    expect(advantages, "B", "advantages", "grpo_loss", B=B)
    A = advantages.reshape(B, 1)  # (B, 1)：一个回答的每个词元同一个优势
    ratio = (logp - old_logp.detach()).exp()  # ρ (B, W-1)
    clipped = ratio.clip(1 - clip_eps, 1 + clip_eps)
    surrogate = (ratio * A).minimum(clipped * A)  # (B, W-1)
    per_token = surrogate - beta * k3_kl(logp, ref_logp.detach())
    # 先在每个回答的词元上平均（1/|o_i|），再在 B 个回答上平均
    per_answer = (per_token * mask).sum(1) / mask.sum(1)  # (B,)
    return -per_answer.mean()


def train_grpo(
    model,
    ref_model,
    tok,
    pairs,
    steps: int,
    group_size: int = 8,
    prompts_per_step: int = 2,
    max_new_tokens: int = 4,
    lr: float = 1e-3,
    beta: float = 0.04,
    clip_eps: float = 0.2,
    temperature: float = 1.0,
    eps: float = 1e-4,
    seed: int = 0,
) -> dict:
    """在加法题 ``pairs = [("13+15=", "28"), ...]`` 上做 ``steps`` 步 GRPO。

    每步随机取 ``P = prompts_per_step`` 道题，每题采样 ``G = group_size``
    个回答，算奖励与组相对优势，再做一次 AdamW 更新。每批样本只用一次，
    所以 π_old 就是更新前的 π_θ（比率的值是 1，梯度照常）。题目编码后
    必须一样长（例如都是两个两位数相加）：采样、log 概率与训练步的形状
    每步相同，各编译一次（训练步由 ``train_step`` 编译成 TinyJit）。
    ``ref_model`` 是结构相同、不训练的参考模型（通常再读一次基座模型）。

    Returns:
        dict: 每步一个值的列表：``reward``（平均奖励）、``correct``（答对
        的比例）、``kl``（采样词元上 k3 KL 的平均）、``loss``；以及每步
        的 ``picks``（这一步的 P 道题在 ``pairs`` 里的下标）和
        ``group_reward``（这 P 道题各自的平均奖励）。
    """
    require(
        isinstance(pairs, (list, tuple)) and len(pairs) > 0,
        "train_grpo: pairs 应为非空的 (题目, 答案) 列表",
    )
    require(
        is_int(steps, 1) and is_int(prompts_per_step, 1)
        and prompts_per_step <= len(pairs),
        f"train_grpo: steps={steps!r} 应为正整数，prompts_per_step="
        f"{prompts_per_step!r} 应在 1..len(pairs)={len(pairs)} 之间",
    )  # fmt: skip
    stop = tok.special_tokens[ENDOFTEXT]
    prompts = [tok.encode(ENDOFTEXT + q) for q, _ in pairs]
    lengths = sorted({len(p) for p in prompts})
    require(
        len(lengths) == 1,
        f"train_grpo: pairs 的题目编码后应一样长，实际有 {lengths} 几种"
        "长度（例如只用两个两位数相加的题）",
    )
    T = lengths[0]
    require(
        T + max_new_tokens <= model.block_size,
        f"train_grpo: 提示 {T} 个词元加回答 {max_new_tokens} 个，超过 "
        f"block_size={model.block_size}",
    )
    prompts = np.array(prompts, np.int32)  # (题数, T)
    opt = AdamW(get_parameters(model), lr=lr, weight_decay=0.0)
    realize_state(model, opt)

    @TinyJit
    def logprobs(ids: Tensor) -> tuple[Tensor, Tensor]:
        # π_old（就是现在的 π_θ）与 π_ref 在采样到的词元上的 log 概率
        with Context(TRAINING=0):
            old = token_logprobs(model, ids)
            ref = token_logprobs(ref_model, ids)
            Tensor.realize(old, ref)
        return old, ref

    def loss_fn(ids, mask, adv, old, ref):
        logp = token_logprobs(model, ids)
        return grpo_loss(logp, old, ref, adv, mask, clip_eps, beta)

    step = train_step(loss_fn, opt)
    rng = np.random.default_rng(seed)
    hist = {"reward": [], "correct": [], "kl": [], "loss": []}
    hist |= {"picks": [], "group_reward": []}
    for s in range(steps):
        picks = rng.choice(len(pairs), prompts_per_step, replace=False)
        # 同一道题的 G 个回答相邻：(P G, N)
        c = sample_group(
            model, prompts[picks], group_size, max_new_tokens, temperature,
            seed=seed * 100_003 + s,
        )  # fmt: skip
        keep = completion_mask(c, stop)  # (P G, N)
        answers = np.repeat([pairs[i][1] for i in picks], group_size)
        r = np.array([
            addition_reward(tok.decode(row[m > 0]), a)
            for row, m, a in zip(c, keep, answers)
        ])  # fmt: skip
        adv = group_advantages(r, group_size, eps)  # (P G,)
        ids = np.concatenate([np.repeat(prompts[picks], group_size, 0), c], 1)
        mask = np.zeros((len(ids), ids.shape[1] - 1), np.float32)
        mask[:, T - 1 :] = keep  # 回答的第 j 个词元由位置 T-1+j 预测
        ids_t, mask_t = Tensor(ids), Tensor(mask)
        old, ref = logprobs(ids_t)
        kl = (k3_kl(old, ref) * mask_t).sum() / mask_t.sum()
        kl = float(kl.item())  # 先读出来：下一次调用会覆盖 old、ref
        with Context(TRAINING=1):
            loss = step(
                ids_t, mask_t, Tensor(adv.astype(np.float32)), old, ref
            )
        hist["reward"].append(float(r.mean()))
        hist["correct"].append(float((r >= 1).mean()))
        hist["kl"].append(kl)
        hist["loss"].append(float(loss.item()))
        hist["picks"].append(picks.tolist())
        hist["group_reward"].append(
            r.reshape(-1, group_size).mean(1).tolist()
        )
    return hist
