/*
 * 站内搜索的 Web Worker 外壳：search-lazy.js 把它换进 Material 的配置，
 * Material 原来的 worker 地址在参数 ?material= 里。
 *
 * - 第一条消息（索引下载完后的 SETUP）到来时才加载 Material 的 worker
 *   （约 40 KB，含 lunr），页面加载时只下载这个小文件。
 * - 修正中文查询的切词。Material 在 worker 里把查询中的每段汉字按索引里的词
 *   重新切分，但它只试比整段短的片段：整段就是一个词时反而切不出来
 *   （“过拟合”变成“过*”，“热力图”变成“热* 力*”）。这里先按索引里的词自己
 *   切：剩下的整段是某个词的开头就整段保留（“生成对抗”能找到“生成对抗网
 *   络”），否则取最长的词；再在每个汉字前加反斜杠（lunr 查询语法的转义），
 *   Material 的切词只看到单个汉字、原样放过，lunr 解析时去掉反斜杠，得到的
 *   正是这里切出的词。
 * - 从 file:// 打开的离线包里，浏览器不许启动 Web Worker，Material 用
 *   iframe-worker 的 shim 在隐藏的 iframe 里运行本文件：那里 importScripts
 *   是异步的（返回 Promise），本文件的地址要从 <script> 上读。
 */
"use strict";

var HERE =
  typeof document !== "undefined" && document.currentScript
    ? document.currentScript.src // iframe-worker 的 shim
    : self.location.href;
// shim 在地址后面加了“?时间戳”，它落在参数值里
var MATERIAL = new URL(HERE).searchParams.get("material").replace(/\?\d+$/, "");
var SETUP = 0;
var QUERY = 2;

var nativeImportScripts = self.importScripts;
var nativeAddEventListener = self.addEventListener;
var materialListener = null;
var words = null; // 索引里的全部词，排好序（查“以某段开头的词”用二分查找）
var wordSet = null;

// Material 的 worker 按它自己的位置加载 lunr 的语言文件（"../lunr/..."；在
// shim 里它从第一个 <script> 的地址推算，得到的是本文件的地址）。它现在运行
// 在本文件的位置上，所以按它原来的位置换成绝对地址。
self.importScripts = function () {
  var urls = Array.prototype.map.call(arguments, function (url) {
    var lunr = String(url).indexOf("/lunr/");
    if (lunr >= 0) url = ".." + String(url).slice(lunr);
    return new URL(url, MATERIAL).href;
  });
  return nativeImportScripts.apply(self, urls);
};

// 接住 Material 注册的 message 监听器：每条消息先经过下面的处理。
self.addEventListener = function (type, listener, options) {
  if (type === "message" && !materialListener) {
    materialListener = listener;
    return undefined;
  }
  return nativeAddEventListener.call(self, type, listener, options);
};

var loaded = null; // Material 的 worker 加载完（Promise）

function loadMaterial() {
  if (!loaded) {
    loaded = Promise.resolve(self.importScripts(MATERIAL)).then(function () {
      if (!materialListener) {
        throw new Error("search-worker.js：Material 的 worker 没有注册监听器");
      }
    });
  }
  return loaded;
}

function setupWords(index) {
  var separator = new RegExp(index.config.separator);
  var set = new Set();
  index.docs.forEach(function (doc) {
    [doc.title, doc.text].forEach(function (value) {
      if (!value) return;
      value
        .replace(/<[^>]*>/g, " ")
        .split(separator)
        .forEach(function (word) {
          if (word) set.add(word.toLowerCase());
        });
    });
  });
  wordSet = set;
  words = Array.from(set).sort();
}

// 索引里有没有以 prefix 开头的词
function isPrefix(prefix) {
  var lo = 0;
  var hi = words.length;
  while (lo < hi) {
    var mid = (lo + hi) >> 1;
    if (words[mid] < prefix) lo = mid + 1;
    else hi = mid;
  }
  return lo < words.length && words[lo].lastIndexOf(prefix, 0) === 0;
}

// 把一段汉字切成索引里的词
function segment(run) {
  var chars = Array.from(run);
  var out = [];
  var i = 0;
  while (i < chars.length) {
    var rest = chars.slice(i).join("");
    if (isPrefix(rest)) {
      out.push(rest);
      break;
    }
    var n = Math.min(chars.length - i - 1, 16);
    while (n > 1 && !wordSet.has(chars.slice(i, i + n).join(""))) n--;
    n = Math.max(n, 1);
    out.push(chars.slice(i, i + n).join(""));
    i += n;
  }
  return out;
}

var HAN = /\p{sc=Han}+/gu;
var WORD_CHAR = /[\p{L}\p{N}]/u;
// 查询里的词在索引里原样出现时的权重：Material 给每个词都加了前缀通配符，
// “梯度*”里“梯度消失”“梯度爆炸”各算一次，会压过只写了“梯度”的页面。
var EXACT = 10;

function rewriteQuery(query) {
  return query.replace(HAN, function (run, offset, whole) {
    var before = offset > 0 && WORD_CHAR.test(whole[offset - 1]) ? " " : "";
    var end = offset + run.length;
    var after = end < whole.length && WORD_CHAR.test(whole[end]) ? " " : "";
    var terms = segment(run).map(function (word) {
      var escaped = word.replace(/\p{sc=Han}/gu, "\\$&");
      // 完整的词：原词加权（lunr 的 ^），以它开头的长词照常匹配
      return wordSet.has(word) ? escaped + "^" + EXACT + " " + escaped : escaped;
    });
    return before + terms.join(" ") + after;
  });
}

// 消息按到达的顺序交给 Material（第一条要等它的 worker 加载完）
var queue = Promise.resolve();

nativeAddEventListener.call(self, "message", function (event) {
  var message = event.data;
  queue = queue
    .then(loadMaterial)
    .then(function () {
      if (message && message.type === SETUP) {
        setupWords(message.data);
      } else if (message && message.type === QUERY && wordSet) {
        message = { type: QUERY, data: rewriteQuery(String(message.data)) };
      }
      return materialListener({ data: message });
    })
    .catch(function (err) {
      console.error(err);
    });
});
