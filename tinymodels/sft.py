"""指令微调（SFT）：把问答写成对话模板，只在回答的词元上算交叉熵。

一条样本 ``(问题, 回答)`` 先用 ``encode_chat`` 编成 ``ids`` 和掩码，
语言模型在位置 t 预测 ``ids[t+1]``，所以::

    x = ids[:-1]    y = ids[1:]    m = mask[1:]         各 (T,)
    ℓ_{bt} = -log softmax(z_{bt})[y_{bt}]               z = model(x)
    L = Σ_{b,t} m_{bt} ℓ_{bt} / Σ_{b,t} m_{bt}          只对回答求平均

``m = 1`` 是助手说的词元（回答和它的 ``<|end|>``），提示与补齐的位置
``m = 0``：它们的 ℓ 乘上 0，对 logits 和参数的梯度都恰好是 0。

后训练的其他几页（LoRA、偏好对齐、GRPO）也用这些函数：

* ``sft_batch(tok, pairs, T)``：一批样本补齐/截断到长度 T，返回 NumPy 的
  ``(ids, targets, mask)``；
* ``masked_cross_entropy(logits, targets, mask)``：上面的 L；
* ``finetune(model, tok, pairs, steps, lr, ...)``：固定形状 ``(B, T)`` 的
  训练步只编译一次（``tinymodels.train.train_step``），由种子决定结果；
* ``chat(model, tok, question)``：按对话模板提问，贪心生成到 ``<|end|>``；
  ``complete(model, tok, text)`` 贪心续写任意文本（如预训练格式的提示）。
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from tinygrad import Context, Tensor, dtypes
from tinygrad.nn.optim import AdamW
from tinygrad.nn.state import get_parameters

from tinymodels._contract import expect, is_int, require
from tinymodels._tinygrad import read_scalar, to_device
from tinymodels.chat import END, ENDOFTEXT, encode_chat, format_chat
from tinymodels.models._jit import cached_jit
from tinymodels.train import TrainingDivergedError, realize_state, train_step

__all__ = [
    "chat", "complete", "finetune", "masked_cross_entropy", "sft_batch",
]  # fmt: skip


def _check_pairs(pairs, where: str) -> list[tuple[str, str]]:
    ok = isinstance(pairs, Sequence) and not isinstance(pairs, str)
    require(
        ok and len(pairs) > 0,
        f"{where}: pairs 应为非空的 (问题, 回答) 列表，实际为 {pairs!r:.80}",
    )
    for i, p in enumerate(pairs):
        good = (
            isinstance(p, Sequence)
            and not isinstance(p, str)
            and len(p) == 2
            and all(isinstance(s, str) and s for s in p)
        )
        require(
            good,
            f"{where}: pairs[{i}] 应为 (问题, 回答) 两个非空字符串，"
            f"实际为 {p!r:.80}",
        )
    return [(q, a) for q, a in pairs]


def sft_batch(
    tok, pairs, T: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """把 ``[(问题, 回答), ...]`` 编成一批定长的训练数据。

    每条样本是一轮对话 ``<|user|>问题<|end|><|assistant|>回答<|end|>``。
    输入取 ``ids[:-1]``、目标取 ``ids[1:]``、掩码取 ``mask[1:]``，截断或
    补齐到长度 ``T``；补齐用 ``<|endoftext|>``，掩码为 0。

    Args:
        tok: 带对话特殊词元的分词器（``load_base_model()`` 返回的）。
        pairs: ``(问题, 回答)`` 的列表，都是非空字符串。
        T: 序列长度；截断后每条样本至少要留下一个回答词元。

    Returns:
        tuple: ``(ids, targets, mask)``，都是 ``(B, T)`` 的 ``int32``
        NumPy 数组，``B = len(pairs)``。
    """
    pairs = _check_pairs(pairs, "sft_batch")
    require(is_int(T, 1), f"sft_batch: T 应为正整数，实际为 {T!r}")
    pad = tok.special_tokens[ENDOFTEXT]
    B = len(pairs)
    ids = np.full((B, T), pad, np.int32)  # (B, T)
    targets = np.full((B, T), pad, np.int32)  # (B, T)
    mask = np.zeros((B, T), np.int32)  # (B, T)
    for b, (q, a) in enumerate(pairs):
        seq, m = encode_chat(tok, [("user", q), ("assistant", a)])
        n = min(len(seq) - 1, T)  # 截断：只留前 T 个位置
        ids[b, :n] = seq[:n]  # 输入：位置 0..n-1
        targets[b, :n] = seq[1 : n + 1]  # 目标：下一个词元
        mask[b, :n] = m[1 : n + 1]  # 目标是回答词元时为 1
        require(
            mask[b].any(),
            f"sft_batch: pairs[{b}] 截到 T={T} 后没有回答词元"
            f"（整条有 {len(seq) - 1} 个位置），请加大 T",
        )
    return ids, targets, mask


def masked_cross_entropy(
    logits: Tensor, targets: Tensor, mask: Tensor
) -> Tensor:
    """只在 ``mask = 1`` 的位置求平均的交叉熵 ``Σ m ℓ / Σ m``。

    Args:
        logits: ``(B, T, V)`` 浮点张量。
        targets: ``(B, T)`` 整数张量，取值 ``0..V-1``。
        mask: ``(B, T)`` 整数或浮点张量，1 表示计入损失，0 表示不计；
            至少要有一个 1（否则分母为 0）。

    Returns:
        Tensor: 标量损失。
    """
    where = "masked_cross_entropy"
    B, T, V = expect(logits, "B T V", "logits", where)
    expect(targets, "B T", "targets", where, dtype="int", B=B, T=T)
    is_int_mask = isinstance(mask, Tensor) and dtypes.is_int(mask.dtype)
    kind = "int" if is_int_mask else "float"
    expect(mask, "B T", "mask", where, dtype=kind, B=B, T=T)
    m = mask.float()  # (B, T)
    logp = logits.log_softmax(-1)  # (B, T, V)
    nll = -(logp * targets.one_hot(V)).sum(-1)  # (B, T)：每个位置的 ℓ
    return (m * nll).sum() / m.sum()


def finetune(
    model,
    tok,
    pairs,
    steps: int = 40,
    lr: float = 3e-3,
    *,
    batch_size: int = 16,
    T: int = 24,
    seed: int = 0,
    params=None,
) -> list[float]:
    """在 ``pairs`` 上做 ``steps`` 步指令微调，原地更新 ``model``。

    每一步从 ``sft_batch(tok, pairs, T)`` 里取 ``batch_size`` 条（每轮按
    种子打乱一次，取完再打乱），用 AdamW（不加权重衰减）最小化
    ``masked_cross_entropy``。训练步的形状固定为 ``(batch_size, T)``，
    只编译一次；同样的模型、数据和种子，结果逐位相同。

    Args:
        model: 语言模型，``model(idx (B, T)) -> logits (B, T, V)``，
            如 ``load_base_model()`` 的 ``TinyLlama``。
        tok: 带对话特殊词元的分词器。
        pairs: ``(问题, 回答)`` 的列表，至少 ``batch_size`` 条。
        steps: 训练步数。
        lr: AdamW 的学习率。
        batch_size: 每步的样本数 ``B``。
        T: 序列长度，不超过 ``model.block_size``；每条样本编码后都要
            放得下（``finetune`` 不截断）。
        seed: 决定取样本的顺序。
        params: 要训练的张量；默认是模型的全部参数（LoRA 只传适配器的）。

    Returns:
        list[float]: 每一步的损失。

    Raises:
        ValueError: 参数不合法（消息写明是哪个）。
        TrainingDivergedError: 损失变成 NaN 或无穷大。
    """
    where = "finetune"
    require(is_int(steps, 1), f"{where}: steps 应为正整数，实际为 {steps!r}")
    require(
        isinstance(lr, (int, float)) and lr > 0,
        f"{where}: lr 应为正数，实际为 {lr!r}",
    )
    require(
        is_int(batch_size, 1),
        f"{where}: batch_size 应为正整数，实际为 {batch_size!r}",
    )
    block = getattr(model, "block_size", None)
    require(
        is_int(T, 2) and (block is None or T <= block),
        f"{where}: T 应为 2..block_size={block} 的整数，实际为 {T!r}",
    )
    require(is_int(seed), f"{where}: seed 应为非负整数，实际为 {seed!r}")
    pairs = _check_pairs(pairs, where)
    for i, (q, a) in enumerate(pairs):  # 截断会丢掉回答的结尾：不允许
        n = len(encode_chat(tok, [("user", q), ("assistant", a)])[0]) - 1
        require(
            n <= T,
            f"{where}: pairs[{i}] 编码后有 {n} 个位置，超过了 T={T}，"
            "请加大 T",
        )
    ids, targets, mask = sft_batch(tok, pairs, T)
    N = len(ids)
    require(
        batch_size <= N,
        f"{where}: batch_size={batch_size} 不能多于样本数 len(pairs)={N}",
    )
    params = get_parameters(model) if params is None else list(params)
    require(
        any(isinstance(p, Tensor) and p.is_param for p in params),
        f"{where}: params 里没有可训练的张量",
    )
    # fused：全部参数拼成一个向量一起更新，内核少，首次编译快一些
    opt = AdamW(params, lr=lr, weight_decay=0.0, fused=True)
    step = train_step(
        lambda x, y, m: masked_cross_entropy(model(x), y, m), opt
    )
    realize_state(model, opt)  # 参数与优化器状态先算好，JIT 只录一张图
    rng = np.random.default_rng(seed)
    order: list[int] = []
    losses = []
    with Context(TRAINING=1):
        for i in range(steps):
            if len(order) < batch_size:  # 这一轮取完了：重新打乱
                order += rng.permutation(N).tolist()
            rows, order = order[:batch_size], order[batch_size:]
            batch = (to_device(a[rows]) for a in (ids, targets, mask))
            loss = read_scalar(step(*batch))
            if not np.isfinite(loss):
                raise TrainingDivergedError(
                    f"{where}: 第 {i + 1} 步损失为 {loss}；试试减小 lr"
                )
            losses.append(loss)
    return losses


#: ``chat``、``complete`` 每次前向的批大小：提示按 16 条一组，不足一组
#: 的用空行补齐，这样不论有多少条提示，前向都只编译一次。
CHAT_BATCH = 16
#: 提示加回答不超过这么长时，窗口只取这么长（否则取 ``block_size``）。
SHORT_WINDOW = 32


def chat(model, tok, question, max_new_tokens: int = 12):
    """按对话模板提问，贪心生成，返回助手的回答（不含 ``<|end|>``）。

    提示是 ``format_chat([("user", question)], add_generation_prompt=True)``
    即 ``<|user|>问题<|end|><|assistant|>``，之后同 ``complete``：生成到
    ``<|end|>`` 为止（也在 ``<|endoftext|>`` 停下）。

    Args:
        model: 语言模型，``model(idx (B, T)) -> logits (B, T, V)``，
            有 ``block_size``，如 ``TinyLlama``。
        tok: 带对话特殊词元的分词器。
        question: 问题字符串；也可以是字符串列表，返回同样长的列表。
        max_new_tokens: 最多生成多少个词元；提示加上它不能超过
            ``block_size``。

    Returns:
        str 或 list[str]：回答。
    """
    many = isinstance(question, (list, tuple))
    questions = list(question) if many else [question]
    require(
        len(questions) > 0 and all(isinstance(q, str) for q in questions),
        f"chat: question 应为字符串或字符串列表，实际为 {question!r:.80}",
    )
    for q in questions:
        bad = [s for s in tok.special_tokens if s in q]
        require(not bad, f"chat: question 里不能出现特殊词元 {bad[:1]}")
    texts = [
        format_chat([("user", q)], add_generation_prompt=True)
        for q in questions
    ]
    answers = _complete(model, tok, texts, max_new_tokens, "chat")
    return answers if many else answers[0]


def complete(model, tok, text, max_new_tokens: int = 12):
    """贪心续写 ``text``，在 ``<|end|>`` 或 ``<|endoftext|>`` 处停下。

    ``text`` 照原样编码（其中的特殊词元字符串编成特殊词元），所以既能
    续写预训练格式的纯文本，也能续写自己拼好的对话模板；``chat`` 就是
    套上模板的 ``complete``。结果与 ``model.generate(提示,
    max_new_tokens, temperature=0)`` 截到停止词元之前逐词元相同，只是
    一次续写 16 条：每条提示放在窗口开头（窗口长 32，放不下时取
    ``block_size``），每步整窗前向一次，各行读自己最后一个位置的
    logits（因果掩码保证后面的补齐影响不到它）；不论多少条提示，
    每种窗口的前向都只编译一次。

    Args:
        model: 语言模型，``model(idx (B, T)) -> logits (B, T, V)``，
            有 ``block_size``。
        tok: 分词器。
        text: 字符串或字符串列表。
        max_new_tokens: 最多生成多少个词元；提示加上它不能超过
            ``block_size``。

    Returns:
        str 或 list[str]：续写的文字（不含停止词元）。
    """
    many = isinstance(text, (list, tuple))
    texts = list(text) if many else [text]
    require(
        len(texts) > 0 and all(isinstance(t, str) and t for t in texts),
        f"complete: text 应为非空字符串或它们的列表，实际为 {text!r:.80}",
    )
    out = _complete(model, tok, texts, max_new_tokens, "complete")
    return out if many else out[0]


def _complete(model, tok, texts, max_new_tokens, where) -> list[str]:
    require(
        is_int(max_new_tokens, 1),
        f"{where}: max_new_tokens 应为正整数，实际为 {max_new_tokens!r}",
    )
    prompts = [tok.encode(t) for t in texts]
    block = model.block_size
    need = max(map(len, prompts)) + max_new_tokens
    require(
        need <= block,
        f"{where}: 最长的提示加上 max_new_tokens={max_new_tokens} 共 "
        f"{need} 个词元，超过了 block_size={block}",
    )
    # 短问答用 32 的窗口，前向便宜一半；放不下时才用整个上下文
    T = min(block, SHORT_WINDOW) if need <= SHORT_WINDOW else block
    stop = [tok.special_tokens[s] for s in (END, ENDOFTEXT)]
    answers = []
    for k in range(0, len(prompts), CHAT_BATCH):
        group = prompts[k : k + CHAT_BATCH]
        outs = _greedy(model, group, T, max_new_tokens, stop)
        answers += [tok.decode(o) for o in outs]
    return answers


def _greedy(model, prompts, T, max_new_tokens, stop) -> list[list[int]]:
    """一组（至多 ``CHAT_BATCH`` 条）提示在长 ``T`` 的窗口里贪心续写，
    到停止词元为止。"""
    B = CHAT_BATCH
    window = np.zeros((B, T), np.int32)  # (B, T)：提示左对齐，后面补 0
    n = np.zeros(B, np.int64)  # 每行已有的词元数
    for b, p in enumerate(prompts):
        window[b, : len(p)], n[b] = p, len(p)
    out: list[list[int]] = [[] for _ in prompts]
    done = [b >= len(prompts) for b in range(B)]  # 补齐的空行一开始就结束
    fwd = cached_jit(model, ("chat-argmax", B, T), _argmax_forward)
    for _ in range(max_new_tokens):
        best = fwd(to_device(window)).numpy()  # (B, T)：每个位置的 argmax
        for b in range(len(prompts)):
            if done[b]:
                continue
            nxt = int(best[b, n[b] - 1])  # 最后一个位置预测的下一个词元
            if nxt in stop:
                done[b] = True
                continue
            out[b].append(nxt)
            window[b, n[b]] = nxt
            n[b] += 1
        if all(done):
            break
    return out


def _argmax_forward(ref):
    def fwd(idx: Tensor) -> Tensor:
        with Context(TRAINING=0):
            return ref()(idx).argmax(-1).cast(dtypes.int32).realize()

    return fwd
