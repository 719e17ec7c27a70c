/*
 * 搜索索引按需下载；查询由 search-worker.js 切词。
 *
 * overrides/main.html 在 Material 的 bundle 之前加载本文件（普通 <script>，
 * 不在 extra_javascript 里：那些在 bundle 之后才运行）。它做两件事：
 *
 * 1. 把页面配置（#__config）里的搜索 worker 换成 search-worker.js，Material
 *    原来的 worker 地址作为参数 ?material= 传给它。
 * 2. Material 在页面加载时就用 XMLHttpRequest 请求 search/search_index.json。
 *    这里让这个请求的 send() 先等着，直到读者打开搜索：搜索框获得焦点（点击、
 *    键盘快捷键 / 或 s）或搜索开关 #__search 被打开。之后一切照旧。
 *
 * 从 file:// 打开的离线包只换 worker：Material 在那里本来就等打开搜索才读取
 * 索引。
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var node = document.getElementById("__config");
  if (!script || !node) return;

  var config;
  try {
    config = JSON.parse(node.textContent);
  } catch (err) {
    return;
  }
  if (!config.search) return;

  // 这段脚本内联在页面里（少一个请求），worker 的地址由 data-worker 给出
  var worker = new URL(script.getAttribute("data-worker"), location.href);
  worker.searchParams.set("material", new URL(config.search, location.href));
  config.search = worker.href;
  node.textContent = JSON.stringify(config);

  // file:// 下 Material 本来就等读者打开搜索才读取内联的索引
  // （search/search_index.js），不用 XMLHttpRequest
  if (location.protocol === "file:") return;

  var INDEX = /\/search\/search_index\.json(?:[?#]|$)/;
  var opened = false;
  var waiting = [];
  var proto = XMLHttpRequest.prototype;
  var open = proto.open;
  var send = proto.send;

  proto.open = function (method, url) {
    this.kbDeferred = !opened && INDEX.test(String(url));
    return open.apply(this, arguments);
  };
  proto.send = function () {
    if (this.kbDeferred && !opened) {
      waiting.push([this, arguments]);
      return undefined;
    }
    return send.apply(this, arguments);
  };

  function release() {
    if (opened) return;
    opened = true;
    waiting.splice(0).forEach(function (call) {
      send.apply(call[0], call[1]);
    });
  }

  document.addEventListener("focusin", function (event) {
    var target = event.target;
    if (target && target.closest && target.closest(".md-search")) release();
  });
  // Material 的搜索框是 role="dialog" 却没有名字（axe：aria-dialog-name）
  var dialog = document.querySelector(".md-search[role=dialog]");
  if (dialog) dialog.setAttribute("aria-label", "搜索");
  var toggle = document.getElementById("__search");
  if (toggle) {
    toggle.addEventListener("change", function () {
      if (toggle.checked) release();
    });
  }
})();
