#!/usr/bin/env bash
# 一条命令：安装所需的一切，然后在 http://127.0.0.1:8000/ 预览网站（修改文件后自动刷新）。
# 额外参数会传给 mkdocs serve，例如：scripts/serve.sh -a 0.0.0.0:8000
#
# - 站点在本地挂在根路径：mkdocs.yml 的 site_url 带着 /tinymodels-kb/，mkdocs serve 会把站点挂在那个子路径下，
#   http://127.0.0.1:8000/basics/... 这样的深链接就 404。这里用一份继承 mkdocs.yml、只改 site_url 的配置
#   （仓库根目录的 .mkdocs-serve.yml，已被 git 忽略）。
# - --no-strict（mkdocs.yml 里是 strict: true）：严格模式下一个坏链接就让重建失败，浏览器的页面请求会一直等下去。问题改由钩子在每次重建后
#   报告到终端，格式与 scripts/check.sh 相同：文件:行号: 规则: 说明（devtools/mkdocs_hooks.py）。
# - --dirty：保存一个页面只重建这个页面（导航或别的页面引用的标题变了时，重启预览）。
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/docs-env.sh"
cat > .mkdocs-serve.yml <<'YML'
# scripts/serve.sh 生成：本地预览时站点挂在根路径。不要编辑，也不要提交。
INHERIT: mkdocs.yml
site_url: http://127.0.0.1:8000/
YML
exec .venv/bin/mkdocs serve -f .mkdocs-serve.yml --no-strict --livereload --dirty --watch mkdocs.yml "$@"
