"""对话模板：把多轮对话写成一串带特殊词元的文本。

一轮问答写成::

    <|user|>37+45=<|end|><|assistant|>82<|end|>

``<|user|>``、``<|assistant|>`` 标出说话的一方，``<|end|>`` 结束这一方
的话；生成时模型输出 ``<|end|>`` 就该停下。预训练的文档之间用
``<|endoftext|>`` 隔开。四个特殊词元都在基座模型的词表里（编号在最后），
但基座只见过 ``<|endoftext|>``，其余三个要到指令微调时才学到。

``encode_chat`` 同时给出损失掩码：只有助手说的内容（含它的 ``<|end|>``）
是模型要学着生成的，掩码为 1；提示部分为 0。
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tinymodels._contract import require

__all__ = [
    "ASSISTANT",
    "END",
    "ENDOFTEXT",
    "SPECIAL_TOKENS",
    "USER",
    "encode_chat",
    "format_chat",
]  # fmt: skip

ENDOFTEXT = "<|endoftext|>"
USER = "<|user|>"
ASSISTANT = "<|assistant|>"
END = "<|end|>"
#: 基座模型分词器的特殊词元，按编号顺序。
SPECIAL_TOKENS = (ENDOFTEXT, USER, ASSISTANT, END)
_ROLES = {"user": USER, "assistant": ASSISTANT}


def _check(messages, where: str) -> list[tuple[str, str]]:
    ok = isinstance(messages, Sequence) and not isinstance(messages, str)
    require(
        ok and len(messages) > 0,
        f"{where}: messages 应为非空的 (角色, 内容) 列表，"
        f"实际为 {messages!r:.80}",
    )
    out = []
    for i, m in enumerate(messages):
        ok = (
            isinstance(m, Sequence)
            and len(m) == 2
            and m[0] in _ROLES
            and isinstance(m[1], str)
        )
        require(
            ok,
            f'{where}: messages[{i}] 应为 ("user" 或 "assistant", 字符串)'
            f"，实际为 {m!r:.80}",
        )
        for s in SPECIAL_TOKENS:
            require(
                s not in m[1],
                f"{where}: messages[{i}] 的内容里不能出现特殊词元 {s}",
            )
        out.append((m[0], m[1]))
    return out


def format_chat(messages, add_generation_prompt: bool = False) -> str:
    """把 ``[(角色, 内容), ...]`` 写成模板文本。

    ``add_generation_prompt=True`` 时在末尾加上 ``<|assistant|>``，
    让模型接着写助手的回答（推理时用）。
    """
    text = "".join(
        f"{_ROLES[r]}{c}{END}" for r, c in _check(messages, "format_chat")
    )
    return text + (ASSISTANT if add_generation_prompt else "")


def encode_chat(tok, messages) -> tuple[np.ndarray, np.ndarray]:
    """编码对话，返回 ``(ids, mask)``，两个长度相同的一维整数数组。

    ``mask[t] = 1`` 表示 ``ids[t]`` 是助手说的（内容或它的 ``<|end|>``），
    训练时要预测它；角色词元和用户的话为 0。语言模型在位置 ``t`` 预测
    ``ids[t+1]``，所以目标是 ``ids[1:]``、掩码是 ``mask[1:]``。
    """
    messages = _check(messages, "encode_chat")
    missing = [s for s in SPECIAL_TOKENS if s not in tok.special_tokens]
    require(
        not missing,
        f"encode_chat: 分词器缺少特殊词元 {missing}；"
        "用 tinymodels.pretrained.load_base_model() 的分词器",
    )
    ids: list[int] = []
    mask: list[int] = []
    for role, content in messages:
        head = tok.encode(_ROLES[role])
        body = tok.encode(content, special="none") + tok.encode(END)
        ids += head + body
        mask += [0] * len(head) + [int(role == "assistant")] * len(body)
    return np.array(ids, np.int32), np.array(mask, np.int32)
