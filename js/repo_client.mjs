// A Node automerge-repo client for the interop tests (tests/test_sync_repo_node.py).
//
//   node js/repo_client.mjs WS_URL DOC_URL [TIMEOUT_MS]
//
// Finds DOC_URL through the sync server at WS_URL, prints one JSON line per event on stdout:
//   {"event":"found","doc":{...}}          the document as plain JSON (bytes hex, times ms)
//   {"event":"ephemeral","sender":..,"message":..}   an ephemeral message from another peer
//   {"event":"ack","doc":{...}}            the document once it holds the key "python_ack"
// and in between writes node_note = "hello from node" into the document and broadcasts the
// ephemeral message {from: "node", bytes: Uint8Array [1, 2, 3]}. Exits 0 after "ack", 1 on
// timeout or error.
import { Repo } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import * as Automerge from "@automerge/automerge";

const [url, docUrl, timeoutText] = process.argv.slice(2);
const timeout = Number(timeoutText ?? "20000");
function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}
function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
function plain(value) {
  if (value === null || value === undefined) return null;
  if (Automerge.isImmutableString(value)) return value.toString();
  if (value instanceof Date) return value.getTime();
  if (value instanceof Uint8Array) return hex(value);
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === "object") {
    const out = {};
    for (const key of Object.keys(value)) out[key] = plain(value[key]);
    return out;
  }
  return value;
}

const timer = setTimeout(() => {
  process.stderr.write(`repo_client: timed out after ${timeout} ms\n`);
  process.exit(1);
}, timeout);

const repo = new Repo({ network: [new WebSocketClientAdapter(url, 200)] });
try {
  const handle = await repo.find(docUrl);
  handle.on("ephemeral-message", ({ senderId, message }) =>
    emit({ event: "ephemeral", sender: senderId, message: plain(message) }),
  );
  emit({ event: "found", doc: plain(handle.doc()), heads: Automerge.getHeads(handle.doc()) });
  handle.change((d) => {
    d.node_note = "hello from node";
  });
  handle.broadcast({ from: "node", bytes: new Uint8Array([1, 2, 3]) });
  await new Promise((resolve) => {
    const check = () => {
      if (handle.doc().python_ack !== undefined) resolve();
    };
    handle.on("change", check);
    check();
  });
  emit({ event: "ack", doc: plain(handle.doc()) });
  clearTimeout(timer);
  await repo.shutdown();
  process.exit(0);
} catch (err) {
  process.stderr.write(`repo_client: ${err.stack ?? err}\n`);
  process.exit(1);
}
