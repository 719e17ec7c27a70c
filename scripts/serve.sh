#!/usr/bin/env bash
# 一条命令：安装所需的一切，然后在 http://127.0.0.1:8000 预览网站（修改文件后自动刷新）。
# 额外参数会传给 mkdocs serve，例如：scripts/serve.sh -a 0.0.0.0:8000
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/bootstrap.sh docs
export NO_MKDOCS_2_WARNING=1 MPLBACKEND=Agg
# 笔记本在 CPU 上执行（装了 PoCL 时 tinygrad 默认会用 OpenCL）；tinygrad 的内核缓存放在项目里。
export DEV="${DEV:-CPU}" CACHEDB="${CACHEDB:-$ROOT/.cache/tinygrad/cache.db}"
mkdir -p "$(dirname "$CACHEDB")"
# 预览时也用严格模式：坏链接、坏锚点、缺失的片段会立刻在终端里报错。
exec .venv/bin/mkdocs serve --strict --livereload "$@"
