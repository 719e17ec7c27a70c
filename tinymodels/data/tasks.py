"""后训练用的合成任务：答案可以由程序核对的三种小任务。

* 加法：``"37+45="`` -> ``"82"``（两个 0..99 的整数）；
* 倒序：``"倒序：模型"`` -> ``"型模"``（把一个词的字倒过来）；
* 查表：``"法国的首都"`` -> ``"巴黎"``（``CAPITALS`` 里的固定表）。

每个函数由种子决定输出，同一种子在任何机器上得到同样的题目。
基座模型（``scripts/make_base_model.py``）在预训练时以纯文本的形式见过
这些任务（``task_text``），指令微调再教它用对话格式回答（``chat_examples``）。
"""

from __future__ import annotations

import numpy as np

from tinymodels._contract import is_int, require

__all__ = [
    "CAPITALS",
    "WORDS",
    "addition_pairs",
    "capital_pairs",
    "chat_examples",
    "reversal_pairs",
    "task_text",
]  # fmt: skip

#: 查表任务的固定表：国家 -> 首都。
CAPITALS: dict[str, str] = {
    "中国": "北京", "日本": "东京", "法国": "巴黎", "英国": "伦敦",
    "德国": "柏林", "美国": "华盛顿", "俄罗斯": "莫斯科",
    "意大利": "罗马", "埃及": "开罗", "印度": "新德里",
    "加拿大": "渥太华", "澳大利亚": "堪培拉",
}  # fmt: skip

#: 倒序任务用的词（本站常见的术语，都是两到四个字）。
WORDS: tuple[str, ...] = (
    "模型", "训练", "梯度", "损失", "数据", "网络", "参数", "学习",
    "注意力", "编码器", "解码器", "词元", "语言", "向量", "矩阵", "概率",
    "卷积", "池化", "权重", "偏置", "优化器", "批大小", "学习率", "分词器",
    "神经元", "激活", "归一化", "采样", "预训练", "微调", "对齐", "奖励",
)  # fmt: skip


def _rng(seed, where: str) -> np.random.Generator:
    require(is_int(seed), f"{where}: seed 应为非负整数，实际为 {seed!r}")
    return np.random.default_rng(seed)


def _count(n, where: str) -> int:
    require(is_int(n, 1), f"{where}: n 应为正整数，实际为 {n!r}")
    return int(n)


def addition_pairs(
    n: int, seed: int = 0, max_value: int = 99
) -> list[tuple[str, str]]:
    """``n`` 道加法题 ``("a+b=", "a+b 的值")``，``a, b`` 在
    ``0..max_value``。"""
    n = _count(n, "addition_pairs")
    require(
        is_int(max_value, 1),
        f"addition_pairs: max_value 应为正整数，实际为 {max_value!r}",
    )
    ab = _rng(seed, "addition_pairs").integers(0, max_value + 1, (n, 2))
    return [(f"{a}+{b}=", str(a + b)) for a, b in ab.tolist()]


def reversal_pairs(n: int, seed: int = 0) -> list[tuple[str, str]]:
    """``n`` 道倒序题 ``("倒序：词", "倒过来的词")``，词取自 ``WORDS``。"""
    n = _count(n, "reversal_pairs")
    picks = _rng(seed, "reversal_pairs").integers(0, len(WORDS), n)
    return [(f"倒序：{WORDS[i]}", WORDS[i][::-1]) for i in picks.tolist()]


def capital_pairs(n: int, seed: int = 0) -> list[tuple[str, str]]:
    """``n`` 道查表题 ``("国家的首都", "首都")``，取自 ``CAPITALS``。"""
    n = _count(n, "capital_pairs")
    names = list(CAPITALS)
    picks = _rng(seed, "capital_pairs").integers(0, len(names), n)
    return [(f"{names[i]}的首都", CAPITALS[names[i]]) for i in picks.tolist()]


def chat_examples(n: int, seed: int = 0) -> list[tuple[str, str]]:
    """三种任务轮流出题，共 ``n`` 道 ``(问题, 答案)``，顺序由种子打乱。"""
    n = _count(n, "chat_examples")
    k = -(-n // 3)  # 每种任务 ceil(n/3) 道
    pairs = (
        addition_pairs(k, seed)
        + reversal_pairs(k, seed + 1)
        + capital_pairs(k, seed + 2)
    )
    order = _rng(seed, "chat_examples").permutation(len(pairs))[:n]
    return [pairs[i] for i in order.tolist()]


def task_text(n: int, seed: int = 0, max_value: int = 20) -> str:
    """``n`` 行纯文本形式的任务，预训练时混进语料。

    格式与对话不同，是书面的陈述句：``13+5=18``、
    ``“模型”倒过来是“型模”。``、``法国的首都：巴黎。``。加法的两个数在
    ``0..max_value``（默认 20：小模型在有限的步数里学得会一部分）。
    答案前面都是标点（``=``、``“``、``：``），预分词在那里断开：提示写到
    标点为止，它的切分与训练文本里相同。
    """
    lines = []
    k = -(-n // 3)
    adds = addition_pairs(k, seed, max_value)
    for i, (q, a) in enumerate(chat_examples(n, seed)):
        if q.startswith("倒序："):
            lines.append(f"“{q[3:]}”倒过来是“{a}”。")
        elif q.endswith("="):
            q, a = adds[i % k]
            lines.append(q + a)
        else:
            lines.append(f"{q}：{a}。")
    return "\n".join(lines) + "\n"
