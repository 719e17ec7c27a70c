#!/usr/bin/env bash
# 贡献者的检查命令：默认只检查改动过的页面；--all 检查全站；也可以直接给出页面路径。
# 每个问题一行：文件:行号: 规则: 说明。退出码 0 没问题，1 有问题，2 用法错误。
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/bootstrap.sh test >&2
export NO_MKDOCS_2_WARNING=1 MPLBACKEND=Agg
export DEV="${DEV:-CPU}" CACHEDB="${CACHEDB:-$ROOT/.cache/tinygrad/cache.db}"
mkdir -p "$(dirname "$CACHEDB")"
exec .venv/bin/python -m devtools.check "$@"
