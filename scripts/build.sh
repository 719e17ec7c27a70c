#!/usr/bin/env bash
# 构建静态网站到 site/（严格模式：任何警告都会失败）。发布工作流用的就是它。
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/bootstrap.sh docs
export NO_MKDOCS_2_WARNING=1 MPLBACKEND=Agg
# 笔记本在 CPU 上执行（装了 PoCL 时 tinygrad 默认会用 OpenCL）；tinygrad 的内核缓存放在项目里。
export DEV="${DEV:-CPU}" CACHEDB="${CACHEDB:-$ROOT/.cache/tinygrad/cache.db}"
mkdir -p "$(dirname "$CACHEDB")"
exec .venv/bin/mkdocs build --strict "$@"
