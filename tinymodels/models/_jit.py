"""生成时用的 TinyJit 缓存：每个模型、每个键（调用种类、形状）录一次。

参数张量被整体换掉（例如载入检查点）时，JIT 录下的旧缓冲区就失效了，所以按
参数的 UOp 识别，失效时重新录。TinyGPT 和 TinyLlama 的 ``generate`` 都用它。
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable

from tinygrad import TinyJit
from tinygrad.nn.state import get_parameters

_JITS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def cached_jit(
    model, key: Hashable, make: Callable[[weakref.ref], Callable]
) -> TinyJit:
    """``model`` 在 ``key`` 下的 TinyJit；没有或已失效时用 make(ref) 新录。

    ``make`` 拿到模型的弱引用（强引用会让模型永远不被回收），返回要编译的
    函数。
    """
    params = tuple(p.uop for p in get_parameters(model))
    cached = _JITS.setdefault(model, {}).get(key)
    stale = cached is None or len(cached[0]) != len(params)
    if stale or any(a is not b for a, b in zip(cached[0], params)):
        fn = make(weakref.ref(model))
        cached = _JITS[model][key] = (params, TinyJit(fn))
    return cached[1]
