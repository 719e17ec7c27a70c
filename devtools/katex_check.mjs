// 用锁定版本的 KaTeX（node_modules/katex）逐个渲染公式，报告无效的 LaTeX。
// 选项与构建时的渲染（katex_render.mjs）相同。
// 输入（stdin）：JSON 数组 [{"tex": "...", "display": true}, ...]
// 输出（stdout）：等长的 JSON 数组，每项为 null（正常）或 KaTeX 的错误信息。
import { render, version } from "./katex_render.mjs";

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const formulas = JSON.parse(input);
  const results = formulas.map(
    ({ tex, display }) => render(tex, display).error ?? null,
  );
  process.stdout.write(JSON.stringify({ katex: version, results }));
});
