// This tab as an automerge-repo peer of one live game's episode document, through the relay
// of `htjax serve` (the official WebSocket client adapter), and the seat side of dealer mode:
// claim a seat (with a fresh ECDH public key) in the document's `live.claims`, receive the
// seat's private view from the dealer as an encrypted ephemeral message, append the seat's
// actions to `log` (one Automerge change each, synced to every peer).
import { Repo, Automerge, initializeWasm, cbor } from "@automerge/automerge-repo/slim";
import { BrowserWebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { channelKey, newKeyPair, open, toHex } from "./channel.js";
import { CHANNEL } from "./protocol.js";

let wasmReady = null;
export function automergeReady() {
  wasmReady ??= initializeWasm(fetch("/static/automerge.wasm"));
  return wasmReady;
}

export class LiveClient {
  constructor({ relay, document, onStatus, onView, onMove, retryMs = 1000 }) {
    this.relayUrl = relay;
    this.documentUrl = document;
    this.onStatus = onStatus;
    this.onView = onView;
    this.onMove = onMove;
    this.retryMs = retryMs;
    this.seats = new Map(); // seat -> {keys, channel (AES key, once the dealer is known)}
    this.seenLog = 0;
    this.lastViewStep = new Map();
  }

  async start() {
    await automergeReady();
    this.onStatus("connecting");
    this.adapter = new BrowserWebSocketClientAdapter(this.relayUrl, this.retryMs);
    this.adapter.on("peer-candidate", () => this.connected());
    this.adapter.on("peer-disconnected", () => this.onStatus("reconnecting"));
    this.repo = new Repo({ network: [this.adapter], sharePolicy: async () => true });
    this.handle = await this.repo.find(this.documentUrl);
    this.actor = Automerge.getActorId(this.handle.doc());
    this.handle.on("change", ({ doc }) => this.changed(doc));
    this.handle.on("ephemeral-message", ({ message }) => this.ephemeral(message));
    this.changed(this.handle.doc());
  }

  connected() {
    this.onStatus("connected");
    // ephemeral messages sent while this tab was away are gone: ask the dealer again
    if (this.handle) for (const seat of this.seats.keys()) this.requestView(seat);
  }

  async claim(seat, { kind, policy, name }) {
    const keys = await newKeyPair();
    const share = toHex(globalThis.crypto.getRandomValues(new Uint8Array(32)));
    this.seats.set(seat, { keys, channel: null });
    this.handle.change((d) => {
      d.live.claims.push({ seat, actor: this.actor, name, kind, policy, pubkey: keys.publicKey, commit: null, share });
    });
    this.requestView(seat);
  }

  requestView(seat) {
    this.handle.broadcast({ type: CHANNEL.request, seat, actor: this.actor });
  }

  async act(seat, step, action) {
    this.handle.change((d) => {
      d.log.push({ step, seat, action, actor: this.actor, time: new Date() });
    });
  }

  changed(doc) {
    const log = doc.log ?? [];
    for (; this.seenLog < log.length; this.seenLog++) this.onMove(log[this.seenLog]);
  }

  async channelFor(seat) {
    const entry = this.seats.get(seat);
    if (!entry) return null;
    if (!entry.channel) {
      const dealer = this.handle.doc().live?.dealer;
      if (!dealer) return null;
      entry.channel = await channelKey(entry.keys.privateKey, new Uint8Array(dealer.pubkey), CHANNEL.kdf(seat, this.actor));
    }
    return entry.channel;
  }

  async ephemeral(message) {
    if (!message || message.type !== CHANNEL.view || !this.seats.has(message.seat) || message.actor !== this.actor) return;
    const key = await this.channelFor(message.seat);
    if (!key) return;
    const plain = await open(key, new Uint8Array(message.nonce), new Uint8Array(message.ciphertext), CHANNEL.aad(message.seat, this.actor));
    const view = cbor.decode(plain);
    const last = this.lastViewStep.get(message.seat) ?? -1;
    if (view.step < last) return; // an old view arriving late
    this.lastViewStep.set(message.seat, view.step);
    this.onView(message.seat, view);
  }

  async close() {
    this.adapter?.disconnect();
    await this.repo?.shutdown?.();
  }
}
