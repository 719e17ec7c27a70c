#!/usr/bin/env bash
# 一条命令：安装所需的一切，然后运行全部测试（文档代码块、公式、链接、模型库、构建、浏览器）。
# 额外参数会传给 pytest，例如：scripts/test.sh -k lstm
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/bootstrap.sh test
export NO_MKDOCS_2_WARNING=1 MPLBACKEND=Agg PYTHONDONTWRITEBYTECODE=1
# 装了 PoCL 后，不设 DEV 时 tinygrad 会默认用 OpenCL；测试默认在 CPU 上跑（OpenCL 由一致性测试专门覆盖）。
# 想在别的后端上跑全部测试：DEV=CL bash scripts/test.sh
export DEV="${DEV:-CPU}"
# tinygrad 的内核缓存（编译好的内核）放在项目里的 .cache/tinygrad/：CI 可以整个缓存这个目录。
export CACHEDB="${CACHEDB:-$ROOT/.cache/tinygrad/cache.db}"
mkdir -p "$(dirname "$CACHEDB")"
# 两个 pytest worker 已经占满两个核；tinygrad 在每个 worker 里默认还会起一个编译进程池（spawn 出来的进程要重新
# 导入 tinygrad，每编译 16 个内核换一次），只添开销：关掉它，测试命令快约 10%（见 benchmarks/SPEED.md）。
export PARALLEL="${PARALLEL:-0}"
# tinygrad 在 CPU 上单核计算、另一个核并行编译；两个 worker 让两个核都忙起来。
# --dist loadfile：同一页面的代码块在同一个 worker 里按顺序运行（续写代码块需要前文）。
exec .venv/bin/python -m pytest -n "${KB_WORKERS:-2}" --dist loadfile --no-loadscope-reorder "$@"
