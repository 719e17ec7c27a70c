"""tinymodels.data：随包数据、合成数据、字符级文本工具与小批量迭代器。

全部离线可用，运行时绝不联网下载：

* ``load_digits``：8x8 手写数字（UCI optdigits，1797 张），固定分层划分；
* ``adding_problem``、``reversal_task``、``sorting_task``、
  ``gaussian_mixture``、``mixture_centers``：由种子决定的合成数据；
* ``CharTokenizer``、``load_corpus``、``next_token_windows``：字符级语言模型；
* ``BPETokenizer``：字节级 BPE 分词器；
* ``batches``：可复现顺序的小批量迭代器。
"""

from .bpe import BPETokenizer
from .digits import NUM_CLASSES, load_digits
from .loader import batches
from .synthetic import (
    adding_problem,
    gaussian_mixture,
    mixture_centers,
    reversal_task,
    sorting_task,
)
from .text import CharTokenizer, load_corpus, next_token_windows

__all__ = [
    "NUM_CLASSES",
    "BPETokenizer",
    "CharTokenizer",
    "adding_problem",
    "batches",
    "gaussian_mixture",
    "load_corpus",
    "load_digits",
    "mixture_centers",
    "next_token_windows",
    "reversal_task",
    "sorting_task",
]  # fmt: skip
