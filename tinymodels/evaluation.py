"""评估语言模型：困惑度、多项选择的对数似然打分、pass@k。

    log p(x_t | x_<t) = log_softmax(z_{t-1})[x_t]   z_{t-1}：位置 t-1 的输出
    PPL = exp(-(1/N) Σ_t log p(x_t | x_<t))         N 个被预测的词元
    选项 o = (o_1..o_m) 接在提示 q 后面：
        s_sum(o)  = Σ_j log p(o_j | q, o_<j)        整个选项的对数似然
        s_mean(o) = s_sum(o) / m                    按词元数平均
        s_char(o) = s_sum(o) / len(o)               按字符数平均（acc_norm）
    pass@k = 1 - C(n-c, k) / C(n, k) = 1 - Π_{i=0}^{c-1} (n-k-i) / (n-i)

符号：N 序列条数（或题数），T 序列长度，V 词表大小，K 每题的选项数；
pass@k 里 n 是每题的样本数，c 是其中正确的个数，k 是允许尝试的次数。

模型只要能把 ``idx (B, T)`` 映射成 ``logits (B, T, V)`` 就行（TinyGPT、
TinyLlama 都可以）。前向按固定形状 ``(batch_size, T)`` 分批做，最后一批补
全零行，所以同一个 ``T`` 只编译一次；补在右边的词元因为因果掩码影响不到
前面的位置。log-softmax 在 NumPy 里用 float64 算。
"""

from __future__ import annotations

import math

import numpy as np
from tinygrad import Context, Tensor

from tinymodels._contract import fmt, is_int, require
from tinymodels.chat import ENDOFTEXT
from tinymodels.data.tasks import CAPITALS, WORDS, addition_pairs

__all__ = [
    "multiple_choice",
    "option_logprobs",
    "pass_at_k",
    "perplexity",
    "task_questions",
    "token_logprobs",
]  # fmt: skip


def _log_softmax(z: np.ndarray) -> np.ndarray:
    """最后一维的 log-softmax：``z - logsumexp(z)``，先减最大值防溢出。"""
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def token_logprobs(model, ids, batch_size: int = 1024) -> np.ndarray:
    """每个位置上真实下一个词元的对数概率。

    Args:
        model: ``idx (B, T)`` -> ``logits (B, T, V)`` 的语言模型。
        ids: ``(N, T)`` 的整数数组（或嵌套列表），``T >= 2``。
        batch_size: 每次前向的行数。

    Returns:
        np.ndarray: ``(N, T-1)`` 的 float64，第 ``t`` 列是
        ``log p(ids[:, t+1] | ids[:, :t+1])``。
    """
    x = np.asarray(ids)
    require(
        x.ndim == 2
        and x.shape[0] >= 1
        and x.shape[1] >= 2
        and np.issubdtype(x.dtype, np.integer),
        "token_logprobs: ids 的形状应为 (N, T)、T >= 2 的整数数组，"
        f"实际形状 {fmt(x.shape)}、dtype {x.dtype}",
    )
    require(
        is_int(batch_size, 1),
        f"token_logprobs: batch_size={batch_size!r} 应为正整数",
    )
    N, T = x.shape
    B = min(batch_size, N)  # 每批固定 B 行：只编译一种形状
    out = np.empty((N, T - 1))
    for s in range(0, N, B):
        xb = np.zeros((B, T), np.int32)
        n = min(B, N - s)
        xb[:n] = x[s : s + n]
        with Context(TRAINING=0):
            z = model(Tensor(xb)).numpy()[:n, :-1]  # (n, T-1, V)
        logp = _log_softmax(z.astype(np.float64))  # (n, T-1, V)
        target = x[s : s + n, 1:, None]  # (n, T-1, 1)：下一个词元
        out[s : s + n] = np.take_along_axis(logp, target, -1)[..., 0]
    return out


def perplexity(model, ids, batch_size: int = 1024) -> float:
    """困惑度 ``exp(-mean log p(x_t | x_<t))``，对 ``ids (N, T)`` 每行的
    第 2 到第 T 个词元求平均（第 1 个没有前文，不计）。"""
    return math.exp(-token_logprobs(model, ids, batch_size).mean())


def _split(tok, prompt, option, where: str) -> tuple[list[int], list[int]]:
    """``(提示的词元, 选项的词元)``：提示单独编码，选项的词元取自
    ``提示 + 选项`` 整体编码后提示之后的部分。

    整体编码与模型训练时看到的切法相同；如果 BPE 把提示结尾和选项开头合并
    成了一个词元，提示的编码就不再是整体编码的前缀，这时报错而不是悄悄地
    给一串模型从没见过的切法打分。
    """
    for text in (prompt, option):
        require(
            isinstance(text, str) and text != "",
            f"{where}: 提示与选项应为非空字符串，实际为 {text!r}",
        )
    p = tok.encode(prompt)  # 提示里可以有 <|endoftext|> 这样的特殊词元
    whole = tok.encode(prompt + option)
    require(
        whole[: len(p)] == p and len(whole) > len(p),
        f"{where}: 提示 {prompt!r} 与选项 {option!r} 的分词边界对不上："
        f"提示单独编码为 {p}，整体编码为 {whole}。BPE 把两边合并成了同一个"
        "词元；让提示停在标点处，或把提示写进选项、给整句打分",
    )
    return p, whole[len(p) :]


def _check_questions(questions, where: str) -> None:
    require(
        isinstance(questions, (list, tuple)) and len(questions) > 0,
        f"{where}: questions 应为非空的 (提示, 选项列表) 列表",
    )
    for i, q in enumerate(questions):
        ok = isinstance(q, (list, tuple)) and len(q) == 2
        require(ok, f"{where}: questions[{i}] 应为 (提示, 选项列表)")
        require(
            isinstance(q[1], (list, tuple)) and len(q[1]) >= 1,
            f"{where}: questions[{i}] 的选项应为非空列表，实际为 {q[1]!r}",
        )


def _choice_logprobs(model, tok, questions, batch_size, where):
    """全部题目的全部选项拼成一批，一次（分批）前向，返回每个选项的
    逐词元对数概率 ``lp[i][j]``（一维数组，长度为选项 j 的词元数）。"""
    seqs, spans = [], []  # spans：(题号, 提示长度, 选项长度)
    for i, (prompt, options) in enumerate(questions):
        for option in options:
            p, o = _split(tok, prompt, option, where)
            seqs.append(p + o)
            spans.append((i, len(p), len(o)))
    T = max(map(len, seqs))
    limit = getattr(model, "block_size", T)
    require(
        T <= limit,
        f"{where}: 最长的 提示+选项 有 {T} 个词元，超过模型的上下文 "
        f"block_size={limit}",
    )
    ids = np.zeros((len(seqs), T), np.int32)  # 右边补 0：因果掩码下无影响
    for r, s in enumerate(seqs):
        ids[r, : len(s)] = s
    lp = token_logprobs(model, ids, batch_size)  # (行数, T-1)
    out = [[] for _ in questions]
    for r, (i, P, m) in enumerate(spans):
        # 选项的第 j 个词元在序列的 P+j 处，由位置 P+j-1 的 logits 预测
        out[i].append(lp[r, P - 1 : P - 1 + m])
    return out


def option_logprobs(model, tok, prompt: str, options, batch_size: int = 1024):
    """一道题每个选项的逐词元对数概率 ``log p(o_j | 提示, o_<j)``。

    ``提示 + 选项`` 整体编码，选项的词元是提示的词元之后的部分（提示里的
    ``<|endoftext|>`` 等按特殊词元编码）；分词边界对不上时报错。全部选项
    放在一批里做一次前向。

    Args:
        model: ``idx (B, T)`` -> ``logits (B, T, V)`` 的语言模型。
        tok: 有 ``encode(text)`` 的分词器。
        prompt: 提示，非空字符串。
        options: 选项字符串的列表。

    Returns:
        list[np.ndarray]: 每个选项一个一维数组，长度是它的词元数。
    """
    qs, where = [(prompt, options)], "option_logprobs"
    _check_questions(qs, where)
    return _choice_logprobs(model, tok, qs, batch_size, where)[0]


def multiple_choice(model, tok, questions, batch_size: int = 1024) -> dict:
    """多道选择题的三种打分，全部选项拼成一批前向。

    Args:
        model: ``idx (B, T)`` -> ``logits (B, T, V)`` 的语言模型。
        tok: 有 ``encode(text)`` 的分词器。
        questions: ``[(提示, [选项, ...]), ...]``，每题的选项数相同（K）。
        batch_size: 每次前向的行数。

    Returns:
        dict: ``"sum"``、``"mean"``、``"char"`` 三个 ``(N, K)`` 数组，分别是
        选项的对数似然之和、按词元数平均、按字符数平均（lm-evaluation-harness
        的 ``acc_norm`` 用的是最后一种）。预测是每行的 ``argmax``。
    """
    where = "multiple_choice"
    _check_questions(questions, where)
    K = {len(q[1]) for q in questions}
    require(
        len(K) == 1,
        f"{where}: 每题的选项数应相同，实际为 {sorted(K)}",
    )
    lp = _choice_logprobs(model, tok, questions, batch_size, where)
    total = np.array([[a.sum() for a in row] for row in lp])  # (N, K)
    n_tok = np.array([[len(a) for a in row] for row in lp])  # (N, K)
    n_chr = np.array([[len(o) for o in q[1]] for q in questions])  # (N, K)
    return {"sum": total, "mean": total / n_tok, "char": total / n_chr}


def pass_at_k(n: int, c: int, k: int) -> float:
    """Chen 等（2021）的 pass@k 无偏估计：n 个样本里 c 个正确时，随机取
    k 个至少有一个正确的概率 ``1 - C(n-c, k) / C(n, k)``。

    两个组合数之比约去阶乘后是 c 个分数之积
    ``Π_{i=0}^{c-1} (n-k-i) / (n-i)``，每个因子都在 [0, 1] 里，不出现巨大
    的组合数。``n - c < k`` 时任取 k 个都必然含正确样本，返回 1.0。
    """
    require(
        is_int(n, 1) and is_int(c) and is_int(k, 1),
        f"pass_at_k: n、c、k 应为整数，n >= 1、c >= 0、k >= 1，"
        f"实际为 n={n!r}、c={c!r}、k={k!r}",
    )
    require(
        c <= n and k <= n,
        f"pass_at_k: 应满足 c <= n 且 k <= n，实际为 n={n}、c={c}、k={k}",
    )
    if n - c < k:
        return 1.0
    i = np.arange(c)  # c 个因子
    return float(1.0 - np.prod((n - k - i) / (n - i)))


def task_questions(n_addition: int = 100, seed: int = 1, max_value: int = 20):
    """玩具基准：用 ``tinymodels.data.tasks`` 的三种任务出四选一的选择题。

    题目写成预训练时纯文本的样子（``task_text``），提示都以
    ``<|endoftext|>`` 开头（预训练的文档之间用它隔开，相当于“一篇新文档的
    开头”），停在答案前的标点处：

    * 查首都：``CAPITALS`` 的每个国家一题，提示 ``法国的首都：``，选项是
      正确的首都和另外三个首都，都以“。”结尾；
    * 倒序：``WORDS`` 的每个词一题，提示 ``“模型”倒过来是“``，选项是倒过来的
      词、原词、另一个词倒过来和另一个词，都以“”。”结尾；
    * 加法：``addition_pairs(n_addition, seed, max_value)``，提示 ``13+5=``，
      选项是和 ``s`` 与 ``s±1``、``s±10`` 里随机的三个（非负；``s = 0``
      时从 1、2、10 里取），后面不加结尾。

    选项顺序随机打乱。同一种子在任何机器上得到同样的题目。

    Returns:
        tuple: ``(questions, answers, kinds)``：``[(提示, [4 个选项])]``、
        正确选项的下标 ``(N,)``、每题的任务名（``"首都"``、``"倒序"``、
        ``"加法"``）。
    """
    require(
        is_int(n_addition, 1) and is_int(seed) and is_int(max_value, 1),
        f"task_questions: n_addition={n_addition!r}、max_value="
        f"{max_value!r} 应为正整数，seed={seed!r} 应为非负整数",
    )
    rng = np.random.default_rng(seed)
    items = []  # (任务, 提示, 正确选项, 三个干扰项)
    cities = list(CAPITALS.values())
    for country, city in CAPITALS.items():
        wrong = rng.choice([c for c in cities if c != city], 3, replace=False)
        options = [f"{c}。" for c in [city, *wrong]]
        items.append(("首都", f"{country}的首都：", options))
    for w in WORDS:
        v, u = rng.choice([x for x in WORDS if x != w], 2, replace=False)
        # 倒过来的词；没倒过来、倒错了词、另一个词
        options = [f"{x}”。" for x in (w[::-1], w, v[::-1], u)]
        items.append(("倒序", f"“{w}”倒过来是“", options))
    for q, a in addition_pairs(n_addition, seed, max_value):
        s = int(a)
        near = [str(x) for x in (s - 10, s - 1, s + 1, s + 10) if x >= 0]
        if len(near) < 3:  # s = 0 时只有 1 和 10，补上 2
            near.append(str(s + 2))
        wrong = rng.choice(near, 3, replace=False).tolist()
        items.append(("加法", q, [a, *wrong]))
    questions, answers, kinds = [], [], []
    for kind, prompt, options in items:  # options[0] 是正确答案
        order = rng.permutation(4)  # 第 j 个位置放 options[order[j]]
        questions.append((ENDOFTEXT + prompt, [options[i] for i in order]))
        answers.append(int(np.argmax(order == 0)))
        kinds.append(kind)
    return questions, np.array(answers), kinds
