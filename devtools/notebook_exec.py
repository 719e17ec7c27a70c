"""并行执行笔记本页面，把结果写进 mkdocs-jupyter 的缓存，构建时直接命中。

mkdocs-jupyter 在渲染页面时逐个执行笔记本（8 本约 140 秒，全在一个核上）。构建开始时
（devtools/mkdocs_hooks.py 的 ``on_files``），缓存里缺的笔记本由这里同时在多个进程里执行
（进程数 = CPU 核数），每个进程调用 mkdocs-jupyter 自己的 ``nb2html``，按它的格式、用它的缓存键写入缓存
文件——结果与 mkdocs-jupyter 自己执行完全相同，只是快了。

单独运行（供钩子调用）::

    python -m devtools.notebook_exec NOTEBOOK CACHE_FILE CONFIG_JSON
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

#: 传给 nb2html 的 mkdocs-jupyter 配置项（与 mkdocs_jupyter/plugin.py 的 on_pre_page 一致）
NB2HTML_OPTIONS = ["kernel_name", "theme", "allow_errors", "show_input", "no_input", "no_prompt", "remove_tag_config",
                   "highlight_extra_classes", "include_requirejs", "custom_mathjax_url"]


def render(nb_path: str, cache_file: str, options: dict) -> None:
    """执行并渲染一个笔记本，原子地写入缓存文件（写到一半失败不会留下坏的缓存）。"""
    from mkdocs_jupyter import convert
    from mkdocs_jupyter.plugin import _get_nb_toc_tokens

    body = convert.nb2html(nb_path, execute=True, **{k: options[k] for k in NB2HTML_OPTIONS})
    toc_tokens, title = _get_nb_toc_tokens(nb_path, options["toc_depth"])
    out = Path(cache_file)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f"{out.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"content": body, "toc_tokens": toc_tokens, "title": title}), encoding="utf-8")
    os.replace(tmp, out)


def missing(files, plugin) -> list[tuple[str, Path]]:
    """需要执行的笔记本：(源文件, 缓存文件)，即缓存里还没有的。"""
    from mkdocs_jupyter.plugin import _compute_cache_key, _get_cache_path

    cfg = plugin.config
    if not (cfg["cache"] and cfg["execute"]):
        return []
    out = []
    for f in files:
        src = f.abs_src_path
        # 先按 include 模式筛（便宜），再问插件本身（它对 .md 会用 jupytext 读整个文件）
        if not src or not any(Path(src).match(p) for p in cfg["include"]) or not plugin.should_include(f):
            continue
        if any(Path(src).match(p) for p in cfg["execute_ignore"] or []):
            continue
        cache_file = _get_cache_path(cfg["cache_dir"], _compute_cache_key(src, cfg, True))
        if not cache_file.exists():
            out.append((src, cache_file))
    return out


def run_parallel(todo: list[tuple[str, Path]], plugin, root: Path, log, workers: int | None = None) -> None:
    """同时执行 ``todo`` 里的笔记本；任何一本失败都抛出 RuntimeError，信息里有出错单元格的 traceback。"""
    from concurrent.futures import ThreadPoolExecutor

    options = json.dumps({k: plugin.config[k] for k in [*NB2HTML_OPTIONS, "toc_depth"]})
    # 环境里的 MPLBACKEND=Agg 已由钩子的 on_config 去掉（否则内核不输出图）
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}

    def one(item: tuple[str, Path]) -> str | None:
        src, cache_file = item
        started = time.perf_counter()
        # 每本一个子进程（线程只负责等待）：nb2html 用了模块级的全局变量，不能在线程里并发调用
        proc = subprocess.run([sys.executable, "-m", "devtools.notebook_exec", src, str(cache_file), options],
                              cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        rel = os.path.relpath(src, root)
        if proc.returncode != 0:
            return f"笔记本 {rel} 执行失败：\n{proc.stderr[-5000:]}"
        log(f"已执行笔记本 {rel}（{time.perf_counter() - started:.1f} 秒）")
        return None

    with ThreadPoolExecutor(max_workers=max(1, workers or os.cpu_count() or 1)) as pool:
        errors = [e for e in pool.map(one, todo) if e]
    if errors:
        raise RuntimeError("\n\n".join(errors))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    render(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]))
