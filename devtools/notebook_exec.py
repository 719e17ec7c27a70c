"""并行执行笔记本页面，把结果写进 mkdocs-jupyter 的缓存，构建时直接命中。

mkdocs-jupyter 在渲染页面时逐个执行笔记本（8 本约 140 秒，全在一个核上）。构建
开始时（devtools/mkdocs_hooks.py 的 ``on_files``），缓存里缺的笔记本由这里在后
台同时在多个进程里执行（进程数 = CPU 核数；这期间 MkDocs 先渲染其余页面），每
个进程调用 mkdocs-jupyter 自己的 ``nb2html``，按它的格式、用它的缓存键写入缓存
文件——结果与 mkdocs-jupyter 自己执行完全相同，只是快了。
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from devtools.paths import ROOT, write_atomic

#: 传给 nb2html 的 mkdocs-jupyter 配置项（与 mkdocs_jupyter/plugin.py 的
#: on_pre_page 一致）
NB2HTML_OPTIONS = [
    "kernel_name",
    "theme",
    "allow_errors",
    "show_input",
    "no_input",
    "no_prompt",
    "remove_tag_config",
    "highlight_extra_classes",
    "include_requirejs",
    "custom_mathjax_url",
]


def render(nb_path: str, cache_file: str, options: dict) -> None:
    """执行并渲染一个笔记本，原子地写入缓存文件（写到一半失败不会留下坏的缓存）。"""
    from mkdocs_jupyter import convert
    from mkdocs_jupyter.plugin import _get_nb_toc_tokens

    body = convert.nb2html(
        nb_path, execute=True, **{k: options[k] for k in NB2HTML_OPTIONS}
    )
    toc_tokens, title = _get_nb_toc_tokens(nb_path, options["toc_depth"])
    write_atomic(
        cache_file,
        json.dumps(
            {"content": body, "toc_tokens": toc_tokens, "title": title}
        ),
    )


def missing(files, plugin) -> list[tuple[str, Path]]:
    """需要执行的笔记本：(源文件, 缓存文件)，即缓存里还没有的。"""
    from mkdocs_jupyter.plugin import _compute_cache_key, _get_cache_path

    cfg = plugin.config
    if not (cfg["cache"] and cfg["execute"]):
        return []
    out = []
    for f in files:
        src = f.abs_src_path
        # 先按 include 模式筛（便宜），再问插件本身（它对 .md 会用 jupytext 读
        # 整个文件）
        if (
            not src
            or not any(Path(src).match(p) for p in cfg["include"])
            or not plugin.should_include(f)
        ):
            continue
        if any(Path(src).match(p) for p in cfg["execute_ignore"] or []):
            continue
        cache_file = _get_cache_path(
            cfg["cache_dir"], _compute_cache_key(src, cfg, True)
        )
        if not cache_file.exists():
            out.append((src, cache_file))
    return out


#: 上次执行每本笔记本用了多少秒（缓存根目录下）：下次按“最长的先开始”排队，最
#: 后不会剩一本长的独占一个核
DURATIONS_FILE = "durations.json"
#: 本地还没有记录时（全新克隆）的排队参考：``benchmarks/bench_speed.py`` 测得
#: 的每本笔记本冷启动秒数
HINTS_FILE = ROOT / "benchmarks" / "notebook-seconds.json"


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def longest_first(items: list, name, durations: dict[str, float]) -> list:
    """按记录的耗时从长到短排队；没有记录的（新笔记本，可能很长）排在最前。排序是稳定的。"""
    return sorted(
        items, key=lambda item: -durations.get(name(item), float("inf"))
    )


def _worker_init(env: dict[str, str]) -> None:
    os.environ.update(env)  # 内核是这个进程的子进程，继承这里的环境变量


def _render_timed(
    src: str, cache_file: str, options: dict
) -> tuple[float, str | None]:
    """在工作进程里执行一本笔记本；返回 (秒数, 错误信息或 None)。异常不跨进程
    抛出（有的异常类无法 pickle）。"""
    import traceback

    started = time.perf_counter()
    try:
        render(src, cache_file, options)
    except Exception:  # noqa: BLE001 —— 原样转告主进程，信息里有出错单元格的 traceback
        return time.perf_counter() - started, traceback.format_exc()[-5000:]
    return time.perf_counter() - started, None


def run_parallel(
    todo: list[tuple[str, Path]],
    plugin,
    root: Path,
    log,
    workers: int | None = None,
) -> None:
    """同时执行 ``todo`` 里的笔记本；任何一本失败都抛出 RuntimeError，信息里有
    出错单元格的 traceback。

    每个核一个常驻工作进程（nbconvert 只导入一次；环境变量
    ``KB_NOTEBOOK_WORKERS`` 可以改进程数），按上次记录的耗时“最长的先开始”。内
    核里关掉 tinygrad 的并行编译进程池（``PARALLEL=0``）：笔记本本来就每个核一
    本在跑，进程池只会再起一批进程抢同样的核（还要重新导入 tinygrad、每 16 个
    内核换一次进程），内核退出时还要多等约 2.5 秒。在这台 2 核机器上，8 本笔记
    本的 CPU 时间因此少了约 15%。
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    options = {k: plugin.config[k] for k in [*NB2HTML_OPTIONS, "toc_depth"]}
    env = {
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(root), os.environ.get("PYTHONPATH")])
        ),
        "PARALLEL": os.environ.get("PARALLEL", "0"),
    }
    # 环境里的 MPLBACKEND=Agg 已由钩子的 on_config 去掉（否则内核不输出图）
    durations_path = Path(plugin.config["cache_dir"]).parent / DURATIONS_FILE
    durations = {**_read_json(HINTS_FILE), **_read_json(durations_path)}
    rel = {src: os.path.relpath(src, root) for src, _ in todo}
    ordered = longest_first(todo, lambda item: rel[item[0]], durations)
    if (
        str(root) not in sys.path
    ):  # 工作进程按 sys.path 导入本模块（MkDocs 加载完钩子后会还原 sys.path）
        sys.path.insert(0, str(root))
    errors = []
    n = max(
        1,
        min(
            len(todo),
            workers
            or int(os.environ.get("KB_NOTEBOOK_WORKERS", 0))
            or os.cpu_count()
            or 1,
        ),
    )
    with ProcessPoolExecutor(
        max_workers=n,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_init,
        initargs=(env,),
    ) as pool:
        futures = {
            pool.submit(_render_timed, src, str(cache_file), options): src
            for src, cache_file in ordered
        }
        for future in as_completed(futures):
            src = futures[future]
            try:
                seconds, error = future.result()
            except Exception as exc:  # noqa: BLE001 —— 工作进程本身死了（例如被系统杀掉），照样指出是哪一本
                seconds, error = (
                    0.0,
                    f"执行它的工作进程异常退出：{type(exc).__name__}: {exc}",
                )
            if error:
                errors.append(f"笔记本 {rel[src]} 执行失败：\n{error}")
            else:
                durations[rel[src]] = round(seconds, 1)
                log(f"已执行笔记本 {rel[src]}（{seconds:.1f} 秒）")
    try:
        write_atomic(
            durations_path,
            json.dumps(
                durations, ensure_ascii=False, indent=0, sort_keys=True
            ),
        )
    except OSError:
        pass  # 只影响下次的排队顺序
    if errors:
        raise RuntimeError("\n\n".join(errors))


class Background:
    """在后台线程里运行 ``run_parallel``：构建同时渲染其余页面，用到笔记本页面
    时再 ``wait()``。"""

    def __init__(
        self,
        todo: list[tuple[str, Path]],
        plugin,
        root: Path,
        log,
        workers: int | None = None,
    ):
        import threading

        self.sources = {src for src, _ in todo}
        self._error: str | None = None

        def target() -> None:
            try:
                run_parallel(todo, plugin, root, log, workers)
            except Exception as exc:  # noqa: BLE001 —— 交给 wait() 的调用者报告
                self._error = (
                    str(exc)
                    if isinstance(exc, RuntimeError)
                    else f"{type(exc).__name__}: {exc}"
                )

        self._thread = threading.Thread(
            target=target, name="notebook-exec", daemon=True
        )
        self._thread.start()

    def wait(self) -> str | None:
        """等全部笔记本执行完；返回错误信息（全部成功时为 None）。"""
        self._thread.join()
        return self._error
