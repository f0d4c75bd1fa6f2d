// Builds the browser page into htjax/web/static/ (committed, so pip users need no Node):
//   node web/build.mjs [--out DIR]
// app.js is one esbuild bundle of web/src/main.js (automerge-repo, its WebSocket adapter,
// onnxruntime-web); the WebAssembly files of Automerge and onnxruntime-web are copied beside it
// and loaded from there (nothing comes from a CDN). The build is reproducible: the same sources
// and package-lock.json give the same bytes (tests/test_web_build.py rebuilds and compares).
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const out = args[0] === "--out" ? resolve(args[1]) : join(root, "htjax", "web", "static");
const mod = (p) => join(root, "node_modules", p);

mkdirSync(join(out, "ort"), { recursive: true });
await build({
  entryPoints: [join(root, "web", "src", "main.js")],
  outfile: join(out, "app.js"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  legalComments: "none",
  charset: "utf8",
  // onnxruntime-web without its inlined WebAssembly glue: both are served from static/ort/
  conditions: ["onnxruntime-web-use-extern-wasm"],
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "warning",
});
const copies = [
  [mod("@automerge/automerge/dist/automerge.wasm"), "automerge.wasm"],
  [mod("onnxruntime-web/dist/ort-wasm-simd-threaded.wasm"), "ort/ort-wasm-simd-threaded.wasm"],
  [mod("onnxruntime-web/dist/ort-wasm-simd-threaded.mjs"), "ort/ort-wasm-simd-threaded.mjs"],
  [join(root, "web", "index.html"), "index.html"],
  [join(root, "web", "style.css"), "style.css"],
];
for (const [from, to] of copies) copyFileSync(from, join(out, to));
const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8"));
const versions = {};
for (const name of ["@automerge/automerge", "@automerge/automerge-repo",
  "@automerge/automerge-repo-network-websocket", "onnxruntime-web", "esbuild"]) {
  versions[name] = lock.packages[`node_modules/${name}`]?.version ?? null;
}
writeFileSync(join(out, "BUILD.json"), JSON.stringify({ built_by: "web/build.mjs", versions }, null, 2) + "\n");
console.log(`built ${out}`);
