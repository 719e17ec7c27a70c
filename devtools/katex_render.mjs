// 构建时用锁定版本的 KaTeX（node_modules/katex）把公式渲染成 HTML + MathML，
// 页面上不再需要任何 KaTeX 的 JavaScript。检查（katex_check.mjs）与渲染共用
// 这里的选项，所以“检查通过”与“构建能渲染”是一回事。
//
// 作为常驻进程运行（devtools/mkdocs_hooks.py 每次构建只启动一个）：
// 输入（stdin）：每行一个 JSON 数组 [{"tex": "...", "display": true}, ...]，通常
//   是一个页面的全部公式；
// 输出（stdout）：每行一个等长的 JSON 数组，每项为 {"html": "..."}（渲染结果）
//   或 {"error": "..."}（KaTeX 的错误信息）。
// 启动后先输出一行 {"katex": "<版本>"}，表示已经就绪。
import katex from "katex";
import readline from "node:readline";
import { pathToFileURL } from "node:url";

export const OPTIONS = {
  // 屏幕阅读器读 MathML，眼睛看 HTML
  output: "htmlAndMathml",
  throwOnError: true,
  // strict: "error" 让“数学模式里直接写中文”之类的问题也报错（应写成
  // \text{中文}）。
  strict: "error",
};

export function render(tex, display) {
  try {
    return {
      html: katex.renderToString(tex, { ...OPTIONS, displayMode: display }),
    };
  } catch (err) {
    return { error: String(err.message || err).replace(/\s+/g, " ") };
  }
}

export const version = katex.version;

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(JSON.stringify({ katex: katex.version }) + "\n");
  const lines = readline.createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    if (!line.trim()) return;
    const formulas = JSON.parse(line);
    const results = formulas.map(({ tex, display }) => render(tex, display));
    process.stdout.write(JSON.stringify(results) + "\n");
  });
}
