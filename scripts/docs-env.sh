# 构建（scripts/build.sh）与预览（scripts/serve.sh）共用的准备：安装 docs 依赖，
# 设置后端和 tinygrad 内核缓存。用法：source "$(dirname "${BASH_SOURCE[0]}")/docs-env.sh"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/bootstrap.sh docs
export NO_MKDOCS_2_WARNING=1 MPLBACKEND=Agg
# 笔记本在 CPU 上执行（装了 PoCL 时 tinygrad 默认会用 OpenCL）；tinygrad 的内核缓存放在项目里。
export DEV="${DEV:-CPU}" CACHEDB="${CACHEDB:-$ROOT/.cache/tinygrad/cache.db}"
mkdir -p "$(dirname "$CACHEDB")"
