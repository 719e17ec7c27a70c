"""代码块的沙箱：用 bubblewrap（``bwrap``）包住 devtools/runner.py 启动的
进程。

沙箱里：

- 整个系统和仓库只读（``--ro-bind / /``）；
- 代码块的工作目录 ``/tmp/work`` 在一个私有的 tmpfs（``/tmp``）里，大小上限
  ``KB_BLOCK_DISK_MB``（默认 256 MiB）；``/dev/shm`` 另有 16 MiB；
- 唯一另外可写的是只给代码块用的 tinygrad 内核缓存
  ``.cache/tinygrad-blocks/``（第一次由项目的缓存 ``.cache/tinygrad/`` 复制
  而来，之后从不回写：缓存里是 pickle，不能让代码块写进别的进程会读的缓存）；
  每个文件同样不超过 ``KB_BLOCK_DISK_MB``；
- 没有网络（``--unshare-net``），子进程也一样；进程号命名空间私有，代码块
  结束时它启动的进程全部结束；
- 内存（地址空间）上限 ``KB_BLOCK_MEMORY_MB``（默认 4096 MiB，只在 CPU
  后端上），由 devtools/block_child.py 在运行代码之前设置；时间上限见
  runner；GPU 的设备文件有就带进沙箱；
- 环境变量里的密钥（名字含 TOKEN、SECRET、PASSWORD 等）不带进沙箱。

找不到 bwrap 或它无法启动时抛出 ``SandboxUnavailable``，说明怎样安装；绝不退
回到不加沙箱运行。只有明确设置 ``KB_SANDBOX=off``（例如在没有 bubblewrap 的
macOS 上验证自己的代码）才不加沙箱，检查命令会为此打印一行警告；解释器、资源
上限与环境变量的清理照旧。
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from functools import lru_cache
from pathlib import Path

from devtools.paths import ROOT

#: 只装了 tinymodels 及其运行时依赖的解释器（scripts/bootstrap.sh 创建）
BLOCKS_PYTHON = ROOT / ".venv-blocks" / "bin" / "python"
#: 只给沙箱里的代码块用的内核缓存
BLOCKS_CACHE = ROOT / ".cache" / "tinygrad-blocks"
PROJECT_CACHE = ROOT / ".cache" / "tinygrad"
#: 沙箱里代码块的临时目录与工作目录
SANDBOX_TMP = "/tmp"
SANDBOX_WORK = "/tmp/work"
INSTALL_HINT = (
    "请运行 bash scripts/bootstrap.sh docs"
    "（或 sudo apt-get install bubblewrap）"
)
_SECRET = re.compile(
    r"TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|_KEY$|^AWS_|^GITHUB_|^ACTIONS_"
)
_DROPPED = {
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "PYTHONUSERBASE",
    "VIRTUAL_ENV",
}


class SandboxUnavailable(Exception):
    """沙箱无法启动：说明是一行话，带上怎样安装。"""


def disabled() -> bool:
    """明确关掉了沙箱（``KB_SANDBOX=off``）。"""
    return os.environ.get("KB_SANDBOX", "").lower() in ("off", "0", "no")


DISABLED_WARNING = (
    "警告：KB_SANDBOX=off，代码块不在沙箱里运行（可以写仓库、联网）；"
    "只用它运行你自己的代码"
)


def _mib(name: str, default: int) -> int:
    return int(float(os.environ.get(name, default)) * 1024 * 1024)


def disk_limit() -> int:
    """代码块可写的字节数（/tmp 的大小，也是单个文件的上限）。"""
    return _mib("KB_BLOCK_DISK_MB", 256)


def memory_limit() -> int:
    """代码块进程的地址空间上限（字节）；0 表示不限。

    只用于 CPU 上的后端：GPU 驱动（CUDA 等）启动时就要保留远超显存的虚拟地
    址空间，地址空间上限会让它初始化失败。
    """
    dev = os.environ.get("DEV", "CPU").upper()
    if not (dev.startswith("CPU") or dev == "PYTHON"):
        return 0
    return _mib("KB_BLOCK_MEMORY_MB", 4096)


def blocks_python() -> Path:
    if not BLOCKS_PYTHON.exists():
        raise SandboxUnavailable(
            "找不到只装了 tinymodels 的解释器 .venv-blocks/：" + INSTALL_HINT
        )
    return BLOCKS_PYTHON


def _gpu_devices() -> list[str]:
    """GPU 后端（DEV=CUDA、AMD 等）需要的设备文件（有才带进沙箱）。"""
    devices = ["/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/kfd", "/dev/dri"]
    devices += [str(d) for d in sorted(Path("/dev").glob("nvidia[0-9]*"))]
    return [
        arg
        for dev in devices
        if os.path.exists(dev)
        for arg in ("--dev-bind", dev, dev)
    ]


def _base_args() -> list[str]:
    bwrap = os.environ.get("KB_BWRAP") or shutil.which("bwrap")
    if bwrap is None or not os.access(bwrap, os.X_OK):
        raise SandboxUnavailable(
            "找不到 bwrap（bubblewrap），代码块不能在沙箱里运行："
            + INSTALL_HINT
        )
    return [
        bwrap,
        "--ro-bind", "/", "/",
        "--dev", "/dev",
        "--proc", "/proc",
        "--size", str(disk_limit()),
        "--tmpfs", SANDBOX_TMP,
        "--size", str(16 * 1024 * 1024),
        "--tmpfs", "/dev/shm",
        *_gpu_devices(),
        "--remount-ro", "/dev",
        "--dir", SANDBOX_WORK,
        "--chdir", SANDBOX_WORK,
        "--unshare-all",  # 其中有 --unshare-net 与 --unshare-pid
        "--die-with-parent",
        "--new-session",
    ]  # fmt: skip


@lru_cache(maxsize=1)
def check_available() -> None:
    """试着启动一次沙箱；不能启动时抛出 SandboxUnavailable（结果会缓存）。"""
    args = _base_args()
    try:
        proc = subprocess.run(
            [*args, "--", "/bin/true"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise SandboxUnavailable(
            f"bwrap 无法启动（{err}），代码块不能在沙箱里运行：{INSTALL_HINT}"
        ) from None
    if proc.returncode != 0:
        why = (proc.stderr.strip().splitlines() or ["未知错误"])[-1]
        hint = INSTALL_HINT
        if "namespace" in why or "Permission denied" in why:
            hint = (
                "系统禁止了非特权用户命名空间；Ubuntu 24.04 上请运行 sudo "
                "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"
            )
        raise SandboxUnavailable(
            f"bwrap 无法启动沙箱（{why}），代码块不能在沙箱里运行：{hint}"
        )


def _seed_cache() -> None:
    """第一次使用时把项目的内核缓存复制一份给代码块用（只从外向里复制）。"""
    target = BLOCKS_CACHE / "cache.db"
    if target.exists():
        return
    BLOCKS_CACHE.mkdir(parents=True, exist_ok=True)
    source = PROJECT_CACHE / "cache.db"
    if not source.exists():
        return
    tmp = BLOCKS_CACHE / f".seed-{os.getpid()}.db"
    try:
        src, dst = sqlite3.connect(source), sqlite3.connect(tmp)
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()
        if not target.exists():
            os.replace(tmp, target)
    except sqlite3.Error:
        pass  # 复制不成就从空缓存开始，只是慢一些
    finally:
        tmp.unlink(missing_ok=True)


def environment(
    base: dict[str, str], cold_cache: bool, tmp: str = SANDBOX_TMP
) -> dict[str, str]:
    """沙箱里的环境变量：去掉密钥与外面的 Python 路径，临时目录指向 tmp（沙
    箱里的 /tmp）。"""
    env = {
        k: v
        for k, v in base.items()
        if k not in _DROPPED and not _SECRET.search(k)
    }
    env.update(
        HOME=tmp,
        TMPDIR=tmp,
        XDG_CACHE_HOME=f"{tmp}/.cache",
        MPLCONFIGDIR=f"{tmp}/.matplotlib",
        PYTHONDONTWRITEBYTECODE="1",
        CACHEDB=(
            f"{tmp}/cache.db"
            if cold_cache
            else str(BLOCKS_CACHE.resolve() / "cache.db")
        ),
    )
    return env


def wrap(argv: list[str], cold_cache: bool) -> list[str]:
    """把 argv 包进沙箱的命令行。"""
    check_available()
    args = _base_args()
    # 仓库（或解释器）本身在 /tmp 下时（测试里复制出来的仓库），私有的 /tmp
    # 会把它遮住：只读地重新放进来
    for path in {ROOT.resolve(), Path(argv[0]).parent.parent.resolve()}:
        if path.is_relative_to(SANDBOX_TMP) and path.exists():
            args += ["--ro-bind", str(path), str(path)]
    if not cold_cache:
        prepare_cache()
        cache = str(BLOCKS_CACHE.resolve())
        args += ["--bind", cache, cache]
    return [*args, "--", *argv]


def prepare_cache() -> None:
    """代码块的内核缓存目录（第一次由项目的缓存复制）。"""
    _seed_cache()
    BLOCKS_CACHE.mkdir(parents=True, exist_ok=True)
