"""后端信息：哪些 tinygrad 后端在本机能用、为什么不能用；选择设备。

"能不能用"由 tinygrad 自己判断：子进程里设 ``DEV=名字``，打开
``Device[Device.DEFAULT]``。驱动坏了也只让子进程卡住或崩溃，不连累调用者。
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator, NamedTuple

from tinygrad import Context, Device

__all__ = [
    "BackendStatus", "DeviceUnavailableError", "KNOWN_BACKENDS",
    "backend_status", "default_device", "resolve_device", "use_device",
]  # fmt: skip

#: tinymodels 认识的后端名；前四个最常用。
KNOWN_BACKENDS = (
    "CPU", "CL", "CUDA", "METAL", "AMD", "NV", "QCOM", "DSP", "WEBGPU",
    "PYTHON",
)  # fmt: skip
TIMEOUT_S = 30.0  #: 每个后端探测的时限（秒），超时记为不可用
_HINTS = {
    "CPU": "CPU 后端需要 clang（Debian/Ubuntu：apt-get install clang）",
    "CL": "需要 OpenCL 运行时，CPU 上可装 pocl-opencl-icd",
    "CUDA": "需要 NVIDIA 显卡与驱动",
    "METAL": "只在 macOS 上可用",
}
_PROBE = """
from tinygrad import Device
try:
    dev = Device[Device.DEFAULT]
except Exception as e:
    errs = getattr(e, "exceptions", [e])  # ExceptionGroup：逐个接口的原因
    raise SystemExit("; ".join(f"{type(x).__name__}: {x}" for x in errs))
print(f"tinygrad 能打开 {Device.DEFAULT}（{type(dev.renderer).__name__}）")
"""


class BackendStatus(NamedTuple):
    """一个后端的探测结果：``(name, usable, reason)``。"""

    name: str
    usable: bool
    reason: str


class DeviceUnavailableError(RuntimeError):
    """设备名合法，但这台机器上用不了。"""


def _probe(dev: str) -> BackendStatus:
    """在子进程里让 tinygrad 打开 ``dev``（如 ``"CL"``、``"CPU:LLVM"``）。"""
    cmd, env = [sys.executable, "-c", _PROBE], {**os.environ, "DEV": dev}
    try:
        p = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S
        )
        ok = p.returncode == 0
        out = (p.stdout if ok else p.stderr).strip() or "无输出"
        why = out.splitlines()[-1]
        if p.returncode not in (0, 1):  # 崩溃，如段错误
            why = f"探测进程异常退出（返回码 {p.returncode}）：{why}"
    except subprocess.TimeoutExpired:
        ok, why = False, f"打开设备超过 {TIMEOUT_S:g} 秒未完成，驱动可能卡住"
    if not ok and dev in _HINTS:  # 带渲染器后缀时原因在后缀，不给提示
        why = f"{why}（{_HINTS[dev]}）"
    return BackendStatus(dev.split(":")[0], ok, why)


def _base_name(name) -> str:
    """设备名冒号前的部分，大写；不认识时抛 ``ValueError``。"""
    valid = ", ".join(KNOWN_BACKENDS)
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"设备名应为非空字符串：{name!r}；可选：{valid}")
    base = name.strip().split(":", 1)[0].upper()
    if base not in KNOWN_BACKENDS:
        raise ValueError(f"未知设备 {name!r}；可选：{valid}（大小写不限）")
    return base


def backend_status(names=None) -> list[BackendStatus]:
    """并行探测后端（默认 ``KNOWN_BACKENDS`` 全部），探测失败不抛异常。

    Raises:
        ValueError: 有不认识的名字，或 ``names`` 是单个字符串。
    """
    if isinstance(names, str):
        raise ValueError(f"names 应为列表，如 [{names!r}]，而不是字符串")
    todo = KNOWN_BACKENDS if names is None else [_base_name(n) for n in names]
    with ThreadPoolExecutor(max(len(todo), 1)) as pool:
        return list(pool.map(_probe, todo))


def resolve_device(name: str, *, check: bool = True) -> str:
    """把设备名规范成 ``DEV`` 的写法，如 ``"cpu:llvm"`` -> ``"CPU:LLVM"``。

    冒号后是渲染器（tinygrad 0.14），不是卡的编号：``"cuda:1"`` 被拒绝。

    Raises:
        ValueError: 不认识的名字（消息列出全部可选名）或后缀不合法。
        DeviceUnavailableError: ``check`` 为真且本机打不开它（消息给出原因）。
    """
    base = _base_name(name)
    parts = name.strip().split(":")[1:]
    if len(parts) > 2 or any(not p or p.isdigit() for p in parts):
        raise ValueError(
            f"设备名 {name!r} 的后缀不合法：写法是 名字[:渲染器[:架构]]，"
            f"如 {base} 或 CPU:LLVM；不支持用 :1 这样的编号选卡"
        )
    canonical = ":".join([base, *[p.upper() for p in parts[:1]], *parts[1:]])
    if check and not (status := _probe(canonical)).usable:
        usable = [s.name for s in backend_status() if s.usable]
        raise DeviceUnavailableError(
            f"设备 {canonical} 在本机不可用：{status.reason}。"
            f"本机可用的设备：{', '.join(usable) or '无'}"
        )
    return canonical


def default_device() -> str:
    """``Device.DEFAULT``：没设 ``DEV`` 时是 tinygrad 按 METAL、AMD、NV、
    CUDA、QCOM、CL、CPU… 的顺序第一个能打开的（装了 PoCL 时是 CL）。

    Raises:
        DeviceUnavailableError: 没有可用设备（消息附上各后端的原因）。
    """
    try:
        return Device.DEFAULT
    except Exception as exc:
        why = "; ".join(f"{s.name}: {s.reason}" for s in backend_status())
        msg = f"tinygrad 找不到可用设备：{why}"
        raise DeviceUnavailableError(msg) from exc


@contextlib.contextmanager
def use_device(name: str) -> Iterator[str]:
    """块内新建的张量都放在 ``name`` 上；名字先经 ``resolve_device``。"""
    canonical = resolve_device(name)
    with Context(DEV=canonical):
        yield canonical
