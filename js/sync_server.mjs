// The official automerge-repo sync server: a Repo with the WebSocket server adapter and Node
// file-system storage, the drop-in alternative to `htjax relay` (see docs/relay.md).
//
//   node js/sync_server.mjs [--port 3030] [--host 127.0.0.1] [--storage DIR]
//
// Prints "sync server listening on ws://HOST:PORT" once it listens (--port 0: any free port) and
// stops cleanly on SIGINT/SIGTERM. Like the automerge-repo-sync-server project, it never
// announces documents: a client gets the documents it asks for or sends.
import os from "node:os";
import { Repo } from "@automerge/automerge-repo";
import { NodeWSServerAdapter } from "@automerge/automerge-repo-network-websocket";
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs";
import { WebSocketServer } from "ws";

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const port = Number(option("--port", "3030"));
const host = option("--host", "127.0.0.1");
const storage = option("--storage", ".amrg");
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`sync_server: --port must be an integer in [0, 65535], got ${option("--port")}\n`);
  process.exit(2);
}

const wss = new WebSocketServer({ port, host, maxPayload: 64 * 1024 * 1024 });
wss.on("error", (err) => {
  process.stderr.write(`sync_server: ${err.message}\n`);
  process.exit(1);
});
const adapter = new NodeWSServerAdapter(wss);
const repo = new Repo({
  network: [adapter],
  storage: new NodeFSStorageAdapter(storage),
  peerId: `storage-server-${os.hostname()}`,
  sharePolicy: async () => false,
});

// Announce the URL only once the Repo has connected its adapter (it does so asynchronously, after
// reading its storage id): a client that joins earlier has its "join" dropped and its socket closed.
wss.on("listening", async () => {
  while (adapter.peerId === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
  const { port: bound } = wss.address();
  process.stdout.write(`sync server listening on ws://${host}:${bound} (storage ${storage})\n`);
});

async function stop() {
  // Repo.shutdown() flushes every cached handle and throws on one that never became ready (a
  // document some client asked for and nobody had): flush the ready ones only.
  for (const adapter of repo.networkSubsystem.adapters) adapter.disconnect();
  const ready = Object.values(repo.handles).filter((h) => h.isReady());
  await repo.flush(ready.map((h) => h.documentId));
  wss.close();
  process.exit(0);
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
