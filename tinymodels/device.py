"""计算设备的探测与选择：tinymodels 里唯一和后端打交道的地方。

tinygrad 0.14 用环境变量 ``DEV``（或 ``with Context(DEV=...)``）选择设备，
``Device.DEFAULT`` 不能赋值。本模块在此之上提供：

* ``backend_status``：逐个后端检查"能不能用、为什么不能用"，只做廉价检查
  （找可执行文件、找动态库、问一句驱动），从不编译内核，也从不抛异常；
* ``default_device``：tinygrad 实际会用的默认设备；
* ``resolve_device``：把用户写的设备名（大小写随意）规范化，并给出清楚的错误；
* ``use_device``：在一段代码里临时切换默认设备的上下文管理器。

模型代码里不出现任何与后端相关的分支：张量建在哪个设备上，只由这里决定。
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import sys
from typing import Iterator, NamedTuple

__all__ = ["BackendStatus", "DeviceUnavailableError", "KNOWN_BACKENDS", "backend_status", "default_device",
           "resolve_device", "use_device"]

#: tinymodels 认识的后端名。前四个是常用的；其余是 tinygrad 支持的专用后端，照样探测。
KNOWN_BACKENDS: tuple[str, ...] = ("CPU", "CL", "CUDA", "METAL", "AMD", "NV", "QCOM", "DSP", "WEBGPU", "PYTHON")
# tinygrad 在未设置 DEV 时按这个顺序挑第一个能打开的设备（tinygrad.device.ALL_DEVICES）
_TINYGRAD_ORDER: tuple[str, ...] = ("METAL", "AMD", "NV", "CUDA", "QCOM", "CL", "CPU", "DSP", "WEBGPU")


class BackendStatus(NamedTuple):
    """一个后端的探测结果。

    Attributes:
        name: 后端名，如 ``"CPU"``。
        usable: 本机能否使用。
        reason: 可用时说明依据（如 clang 的路径），不可用时说明原因与解决办法。
    """

    name: str
    usable: bool
    reason: str


class DeviceUnavailableError(RuntimeError):
    """设备名合法，但这台机器上用不了（缺驱动、缺编译器等）。"""


def _find_lib(key: str, names: list[str]) -> str | None:
    """用 tinygrad 自己的查找规则找动态库，保证"找得到"与 tinygrad 实际加载一致。"""
    try:
        from tinygrad.runtime.support.c import DLL

        return DLL.findlib(key, names)
    except Exception:
        return None


def _probe_cpu() -> tuple[bool, str]:
    # tinygrad 的 CPU 后端打开设备时就要调用 clang 编译辅助程序，gcc 不能代替
    clang = shutil.which("clang")
    if clang is None:
        return False, "clang not found：CPU 后端需要 clang（Debian/Ubuntu: apt-get install clang）"
    return True, f"clang found at {clang}"


def _probe_cl() -> tuple[bool, str]:
    path = _find_lib("opencl", ["OpenCL"])
    if path is None:
        return False, "no OpenCL library：找不到 libOpenCL.so（可安装 ocl-icd-libopencl1 与 pocl-opencl-icd）"
    try:
        lib = ctypes.CDLL(path)
        n = ctypes.c_uint32(0)
        err = lib.clGetPlatformIDs(0, None, ctypes.byref(n))
    except Exception as exc:  # 库损坏或符号缺失
        return False, f"OpenCL library {path} unusable: {exc}"
    if err != 0 or n.value == 0:
        return False, f"no OpenCL platform：已找到 {path}，但没有任何 OpenCL 平台（错误码 {err}；CPU 上可装 pocl-opencl-icd）"
    return True, f"{n.value} OpenCL platform(s) via {path}"


def _probe_cuda() -> tuple[bool, str]:
    path = _find_lib("cuda", ["nvcuda" if sys.platform == "win32" else "cuda"])
    if path is None:
        return False, "no CUDA driver：找不到 libcuda.so（需要 NVIDIA 显卡与驱动）"
    try:
        lib = ctypes.CDLL(path)
        err = lib.cuInit(0)
        if err != 0:
            return False, f"CUDA driver found at {path}, but cuInit failed (error {err})：没有可用的 NVIDIA GPU 或驱动不匹配"
        count = ctypes.c_int(0)
        err = lib.cuDeviceGetCount(ctypes.byref(count))
    except Exception as exc:
        return False, f"CUDA driver {path} unusable: {exc}"
    if err != 0 or count.value == 0:
        return False, f"CUDA driver found at {path}, but no CUDA device (error {err})"
    return True, f"{count.value} CUDA device(s), driver {path}"


def _probe_metal() -> tuple[bool, str]:
    if sys.platform != "darwin":
        return False, f"Metal is only available on macOS（本机是 {sys.platform}）"
    path = _find_lib("metal", ["Metal"])
    if path is None:
        return False, "Metal framework not found"
    return True, f"Metal framework at {path}"


def _probe_dev_node(*nodes: str, what: str) -> tuple[bool, str]:
    if sys.platform == "win32":
        return False, f"{what} 后端不支持 Windows"
    for node in nodes:
        if not os.path.exists(node):
            return False, f"{node} not found：没有 {what}"
        if not os.access(node, os.R_OK | os.W_OK):
            return False, f"{node} 存在但当前用户无读写权限"
    return True, f"{', '.join(nodes)} present"


def _probe_webgpu() -> tuple[bool, str]:
    if _find_lib("webgpu", ["webgpu_dawn"]) is None:
        return False, "Dawn WebGPU library (libwebgpu_dawn) not found"
    return True, "Dawn WebGPU library found"


def _probe_python() -> tuple[bool, str]:
    return True, "pure-Python emulator, always available but extremely slow (for debugging only)"


_PROBES = {
    "CPU": _probe_cpu,
    "CL": _probe_cl,
    "CUDA": _probe_cuda,
    "METAL": _probe_metal,
    "AMD": lambda: _probe_dev_node("/dev/kfd", what="AMD GPU (amdgpu KFD)"),
    "NV": lambda: _probe_dev_node("/dev/nvidiactl", "/dev/nvidia-uvm", what="NVIDIA GPU (open kernel driver)"),
    "QCOM": lambda: _probe_dev_node("/dev/kgsl-3d0", what="Qualcomm Adreno GPU"),
    "DSP": lambda: _probe_dev_node("/dev/adsprpc-smd", what="Qualcomm Hexagon DSP"),
    "WEBGPU": _probe_webgpu,
    "PYTHON": _probe_python,
}


def _probe(name: str) -> BackendStatus:
    try:
        usable, reason = _PROBES[name]()
    except Exception as exc:  # 探测本身绝不能让程序崩溃
        usable, reason = False, f"probe failed: {type(exc).__name__}: {exc}"
    return BackendStatus(name, usable, reason)


def backend_status(names=None) -> list[BackendStatus]:
    """逐个探测后端能否在本机使用。

    只做廉价检查（查找 clang、动态库、设备文件，调用一次驱动的初始化函数），
    不打开 tinygrad 设备、不编译内核，几十毫秒内完成；任何意外都记为"不可用"而不抛异常。
    "可用"表示前置条件齐全，极少数情况下真正打开设备时仍可能失败。

    Args:
        names: 要探测的后端名列表（大小写随意）；默认探测 ``KNOWN_BACKENDS`` 中的全部。

    Returns:
        ``BackendStatus`` 列表，每项为 ``(name, usable, reason)``。

    Raises:
        ValueError: ``names`` 中有不认识的后端名。

    Examples:
        >>> for name, ok, why in backend_status(["cpu"]):
        ...     print(name, ok)
        CPU True
    """
    if names is None:
        todo = list(KNOWN_BACKENDS)
    else:
        if isinstance(names, str):
            raise ValueError(f"names 必须是后端名的列表，而不是单个字符串 {names!r}；例如 [{names!r}]")
        todo = [_base_name(n) for n in names]
    return [_probe(n) for n in todo]


def _base_name(name) -> str:
    """取设备名中冒号前的后端部分并转成大写，不认识时抛 ValueError。"""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"设备名必须是非空字符串，实际为 {name!r}；可选：{', '.join(KNOWN_BACKENDS)}")
    base = name.strip().split(":", 1)[0].upper()
    if base not in KNOWN_BACKENDS:
        raise ValueError(f"未知设备 {name!r}；可选：{', '.join(KNOWN_BACKENDS)}（大小写不限，如 cpu、cuda）")
    return base


def resolve_device(name: str, *, check: bool = True) -> str:
    """把设备名规范化为 tinygrad 的写法，并确认本机可用。

    大小写不限；可以带 tinygrad 的渲染器后缀，如 ``"cpu:llvm"``（需要 libLLVM）。
    tinygrad 0.14 的 ``DEV`` 里冒号后面是渲染器而不是编号，所以 ``"cuda:1"`` 这类写法会被拒绝。

    Args:
        name: 设备名，如 ``"cpu"``、``"CL"``、``"cpu:llvm"``。
        check: 为 True 时检查本机能否使用该后端。

    Returns:
        规范化后的设备名，如 ``"CPU"``、``"CPU:LLVM"``。

    Raises:
        ValueError: 不认识的设备名（错误信息列出所有合法名字），或带了编号后缀。
        DeviceUnavailableError: 名字合法但本机不可用（错误信息给出原因）。

    Examples:
        >>> resolve_device("cpu")
        'CPU'
    """
    base = _base_name(name)
    parts = name.strip().split(":")[1:]
    if any(not p or p.isdigit() for p in parts) or len(parts) > 2:
        raise ValueError(f"设备名 {name!r} 的后缀不合法：tinygrad 0.14 的 DEV 写法是 名字[:渲染器[:架构]]，"
                         f"如 {base} 或 CPU:LLVM；不支持用 :1 这样的编号选第几块卡")
    canonical = ":".join([base] + [p.upper() for p in parts[:1]] + parts[1:])
    if check:
        status = _probe(base)
        if not status.usable:
            usable = [s.name for s in backend_status() if s.usable]
            raise DeviceUnavailableError(f"设备 {canonical} 在本机不可用：{status.reason}。"
                                         f"本机可用的设备：{', '.join(usable) or '无'}")
    return canonical


def default_device() -> str:
    """返回 tinygrad 当前的默认设备名（与 ``tinygrad.Device.DEFAULT`` 一致）。

    设置了环境变量 ``DEV`` 或处于 ``use_device`` 之内时就是那个设备；
    否则 tinygrad 按 METAL、AMD、NV、CUDA、QCOM、CL、CPU… 的顺序挑第一个能打开的设备
    （装了 PoCL 的机器上默认会是 CL 而不是 CPU）。第一次调用可能要打开设备，约一秒。

    Returns:
        设备名，如 ``"CPU"``。

    Raises:
        DeviceUnavailableError: 没有任何可用设备（错误信息附上各后端的原因）。
    """
    from tinygrad import Device

    try:
        return Device.DEFAULT
    except Exception as exc:
        details = "; ".join(f"{s.name}: {s.reason}" for s in backend_status() if s.name in _TINYGRAD_ORDER)
        raise DeviceUnavailableError(f"tinygrad 找不到可用设备（{exc}）。各后端情况：{details}") from exc


@contextlib.contextmanager
def use_device(name: str) -> Iterator[str]:
    """在 ``with`` 块内把默认设备切换为 ``name``，退出时恢复。

    相当于 ``with tinygrad.Context(DEV=...)``，但先做 ``resolve_device`` 的检查。
    块内新建的张量和模型参数都放在该设备上；块外建好的张量不会被移动。

    Args:
        name: 设备名（大小写不限）。

    Yields:
        规范化后的设备名。

    Raises:
        ValueError: 不认识的设备名。
        DeviceUnavailableError: 本机不可用。

    Examples:
        >>> from tinygrad import Tensor
        >>> with use_device("cpu"):
        ...     Tensor([1.0]).device
        'CPU'
    """
    from tinygrad import Context

    canonical = resolve_device(name)
    with Context(DEV=canonical):
        yield canonical
