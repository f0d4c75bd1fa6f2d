// Read an htjax episode document (.automerge, schema "htjax.episode" version 5, 4 or 3) and print it as JSON.
//
//   node js/read_episode.mjs FILE.automerge
//
// Prints {schema, schema_version, env, episode, seats, log, checkpoints, outcome, views, fork, live, heads}
// with times as milliseconds since the epoch and byte strings as hex. env.params holds the
// world's rule parameters (version 4); a version 3 document predates them (its episode played
// env.config's values), and env.params is printed as null for it. live (version 5) holds a
// game played by peers: seat claims, reveals and the dealer (docs/p2p.md); null otherwise, and
// for versions 3 and 4. A live game's episode.key is null until its key is agreed or revealed. The merge rule that turns
// the log into accepted actions needs the game's rules; this reader reports the raw log in
// Automerge list order, which is what every peer sees. See docs/sync.md.
import { readFileSync } from "node:fs";
import * as Automerge from "@automerge/automerge";

const SCHEMA = "htjax.episode";
const SUPPORTED_VERSIONS = [3, 4, 5]; // htjax/sync/schema.py READABLE_VERSIONS

function fail(message) {
  process.stderr.write(`read_episode: ${message}\n`);
  process.exit(2);
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// Plain JSON values: Dates become epoch milliseconds, Uint8Arrays hex, and strings (which a
// Python writer stores as scalar strings, read here as ImmutableString) plain strings.
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

const file = process.argv[2];
if (!file) fail("usage: node js/read_episode.mjs FILE.automerge");

let doc;
try {
  doc = Automerge.load(new Uint8Array(readFileSync(file)));
} catch (err) {
  fail(`${file} is not a readable Automerge document: ${err.message}`);
}
if (plain(doc.schema) !== SCHEMA) fail(`${file} is not an htjax episode document (schema ${JSON.stringify(plain(doc.schema))})`);
if (!SUPPORTED_VERSIONS.includes(doc.schema_version)) {
  fail(`${file}: schema version ${doc.schema_version} is not supported (this reader reads ${SUPPORTED_VERSIONS.join(", ")})`);
}
const env = plain(doc.env);
if (env !== null && typeof env === "object" && !("params" in env)) env.params = null;

const out = {
  schema: plain(doc.schema),
  schema_version: doc.schema_version,
  producer: plain(doc.producer),
  env,
  episode: plain(doc.episode),
  seats: plain(doc.seats),
  log: doc.log.map((e) => ({
    step: e.step,
    seat: e.seat,
    action: e.action,
    actor: plain(e.actor),
    time: plain(e.time),
  })),
  digest_fields: plain(doc.digest_fields),
  checkpoints: doc.checkpoints.map((c) => ({ step: c.step, digest: plain(c.digest), fields: hex(c.fields) })),
  outcome: plain(doc.outcome),
  views: plain(doc.views),
  fork: plain(doc.fork),
  live: plain(doc.live),
  heads: Automerge.getHeads(doc),
};
process.stdout.write(JSON.stringify(out) + "\n");
