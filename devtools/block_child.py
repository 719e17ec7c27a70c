"""在全新的 Python 进程里运行一个代码块：由 devtools/runner.py 在沙箱里启动，
不要直接导入。

    python devtools/block_child.py RESULT_FD   # 规格（JSON）从标准输入读

只用标准库、不导入 devtools（它运行在只装了 tinymodels 的 .venv-blocks 里）。
规格由 runner 写出：

    {"where": "docs/x.md:40", "timeout": 120,
     "memory": 4294967296, "disk": 268435456,
     "units": [{"filename": "/abs/docs/x.md", "source": "...",
                "first_line": 41, "is_file": false}]}

各段源码（续写块的前文、嵌入的片段、代码块本身）依次在同一个 ``__main__``
命名空间里执行；traceback 的文件与行号就是页面或片段的真实位置。运行之前设
置资源上限（地址空间 ``memory``、单个文件 ``disk``）；运行期间：

- 超过 ``timeout`` 秒在代码内部抛出 ``BlockTimeout``（traceback 指向卡住的
  行）；
- 连接本机以外的地址抛出 ``NetworkAccessError``（沙箱里本来就没有网络，这只
  是让消息更清楚）。

结束时把结果（是否通过、异常、越出了哪个上限、traceback 的帧、执行秒数）以
JSON 写进文件描述符 ``RESULT_FD``；标准输出、标准错误原样留给 runner 捕获，
出错时标准错误里有和 ``python 文件`` 一样的 traceback。
"""

import json
import os
import resource
import signal
import sys
import time
import traceback
import types

LOCAL_HOSTS = ("127.0.0.1", "::1", "localhost")


class BlockTimeout(Exception):
    """代码块运行超过时间上限。"""


class NetworkAccessError(RuntimeError):
    """代码块试图访问网络。"""


def guard_network(where):
    """禁止连接本机以外的地址：数据随包附带或由代码生成，不能下载。"""
    import socket

    def guard(original):
        def connect(sock, address, *args):
            host = address[0] if isinstance(address, tuple) else address
            inet = sock.family in (socket.AF_INET, socket.AF_INET6)
            if inet and host not in LOCAL_HOSTS:
                raise NetworkAccessError(
                    f"代码块试图访问网络（{address}）；本站代码不能联网"
                )
            return original(sock, address, *args)

        return connect

    socket.socket.connect = guard(socket.socket.connect)
    socket.socket.connect_ex = guard(socket.socket.connect_ex)


def start_timer(seconds, where):
    """到时在代码块内部抛出 BlockTimeout；seconds <= 0 表示不限时。"""
    if seconds <= 0 or not hasattr(signal, "setitimer"):
        return

    def fire(signum, frame):
        raise BlockTimeout(f"超过 {seconds:g} 秒")

    signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)


def run(units, namespace):
    for unit in units:
        if unit["is_file"]:
            namespace.setdefault("__file__", unit["filename"])
        # 在源码前补空行：traceback 里的行号就是页面或片段文件里的行号
        padded = "\n" * (unit["first_line"] - 1) + unit["source"]
        code = compile(padded, unit["filename"], "exec", dont_inherit=True)
        exec(code, namespace)  # noqa: S102 - 运行文档里的代码正是这个进程的目的


def set_limits(memory, disk):
    """地址空间与单个文件大小的上限（软、硬相同：代码块不能再调高）。"""
    for which, value in (
        (resource.RLIMIT_AS, memory),
        (resource.RLIMIT_FSIZE, disk),
    ):
        if value:
            resource.setrlimit(which, (value, value))


def limit_of(err):
    """代码块自己的异常里能认出的越界：time / network / memory；其余由 runner
    按错误信息判断。"""
    if isinstance(err, BlockTimeout):
        return "time"
    if isinstance(err, NetworkAccessError):
        return "network"
    if isinstance(err, MemoryError):
        return "memory"
    return None


def outcome_of(err):
    """异常 → (是否算通过, 异常说明, 代码块里的帧)。"""
    if isinstance(err, SystemExit) and err.code in (None, 0):
        return True, "", []
    frames = [
        [f.filename, f.lineno, f.name, f.line or ""]
        for f in traceback.extract_tb(err.__traceback__)
        if f.filename != __file__  # 只留代码块及它调用的代码，不要本文件
    ]
    if isinstance(err, (BlockTimeout, NetworkAccessError)):
        message = str(err)  # 本文件的类名对读者没有意义
    else:
        message = "".join(
            traceback.format_exception_only(type(err), err)
        ).strip()
    shown = traceback.format_list([tuple(f) for f in frames])
    sys.stderr.write("Traceback (most recent call last):\n")
    sys.stderr.write("".join(shown) + message + "\n")
    return False, message, frames


def main(result_fd):
    spec = json.load(sys.stdin)
    # 代码块读标准输入时和读者一样读到空（input() 得到 EOFError）
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
    os.set_inheritable(result_fd, False)  # 代码块启动的进程拿不到它
    result_file = os.fdopen(result_fd, "w", encoding="utf-8")
    units = spec["units"]
    # 和 ``python 文件`` 一样：脚本所在目录（这里是工作目录）在 sys.path 最前
    sys.path[0] = os.getcwd()
    sys.argv = [units[0]["filename"] if units else ""]
    main_module = types.ModuleType("__main__")
    sys.modules["__main__"] = (
        main_module  # pickle、多进程能找到代码块里定义的类
    )
    guard_network(spec["where"])
    ok, message, frames, limit = True, "", [], None
    started = time.perf_counter()
    try:
        set_limits(spec.get("memory"), spec.get("disk"))
        start_timer(spec["timeout"], spec["where"])
        run(units, main_module.__dict__)
    except BaseException as err:  # noqa: BLE001 - 报告代码块里的任何异常
        ok, message, frames = outcome_of(err)
        limit = None if ok else limit_of(err)
    finally:
        if hasattr(signal, "setitimer"):
            signal.setitimer(signal.ITIMER_REAL, 0)
    seconds = time.perf_counter() - started
    sys.stdout.flush()
    sys.stderr.flush()
    result = {
        "ok": ok,
        "message": message,
        "limit": limit,
        "frames": frames,
        "seconds": seconds,
    }
    with result_file:
        json.dump(result, result_file, ensure_ascii=False)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1])))
