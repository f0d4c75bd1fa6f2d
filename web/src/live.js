// This tab as an automerge-repo peer of one live game's episode document, through the relay
// of `htjax serve` (the official WebSocket client adapter), and the seat side of dealer mode
// (htjax.sync.live): claim seats in `live.claims` with a fresh ECDH public key, open the
// dealer's encrypted private views, append the seats' actions to `log` (one change each,
// synced to every peer), and say "done" once the final document is here.
import { Repo, Automerge, initializeWasm, cbor } from "@automerge/automerge-repo/slim";
import { BrowserWebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { channelKey, newKeyPair, open, toHex } from "./channel.js";
import { DEAL_TYPE, DONE_TYPE, VERSION, channelInfo, observationOf } from "./protocol.js";

let wasmReady = null;
export function automergeReady() {
  wasmReady ??= initializeWasm(fetch("/static/automerge.wasm"));
  return wasmReady;
}

export class LiveClient {
  constructor({ relay, document, onStatus, onView, onMove, onFinal, retryMs = 1000 }) {
    this.relayUrl = relay;
    this.documentUrl = document;
    this.onStatus = onStatus;
    this.onView = onView;
    this.onMove = onMove;
    this.onFinal = onFinal;
    this.retryMs = retryMs;
    this.seats = new Map(); // seat -> {keys, name, channel (AES key once the dealer is known)}
    this.seenLog = 0;
    this.latest = new Map(); // seat -> signature of the last view shown
    this.final = false;
  }

  async start() {
    await automergeReady();
    this.onStatus("connecting");
    this.adapter = new BrowserWebSocketClientAdapter(this.relayUrl, this.retryMs);
    this.adapter.on("peer-candidate", () => this.onStatus("connected"));
    this.adapter.on("peer-disconnected", () => this.onStatus("reconnecting"));
    this.repo = new Repo({ network: [this.adapter], sharePolicy: async () => true });
    this.handle = await this.repo.find(this.documentUrl);
    this.actor = Automerge.getActorId(this.handle.doc());
    this.handle.on("change", ({ doc }) => this.changed(doc));
    this.handle.on("ephemeral-message", ({ message }) => this.ephemeral(message).catch((err) => console.warn(`htjax: an ephemeral message was not used: ${err}`)));
    this.changed(this.handle.doc());
  }

  // claim seats [{seat, kind, policy, name}] in one change (the dealer deals once all are held)
  async claim(seats) {
    const doc = this.handle.doc();
    for (const { seat } of seats) {
      const taken = (doc.live.claims ?? []).find((c) => Number(c.seat) === seat && String(c.actor) !== this.actor);
      if (taken) throw new Error(`seat ${seat} is already taken by ${taken.name}`);
    }
    const claims = [];
    for (const { seat, kind, policy, name } of seats) {
      const keys = await newKeyPair();
      const share = toHex(globalThis.crypto.getRandomValues(new Uint8Array(32)));
      this.seats.set(seat, { keys, name, channel: null });
      claims.push({ seat: BigInt(seat), actor: this.actor, name, kind, policy, pubkey: keys.publicKey, share });
    }
    this.handle.change((d) => {
      for (const c of claims) {
        // every integer of the schema is an Automerge Int (a BigInt here, not a float)
        d.live.claims.push({ ...c, commit: d.live.dealer ? String(d.live.dealer.commit) : null });
      }
    });
  }

  async act(seat, step, action) {
    const name = this.seats.get(seat)?.name ?? "browser";
    this.handle.change((d) => {
      d.log.push({
        step: BigInt(step),
        seat: BigInt(seat),
        action: BigInt(action),
        actor: `${name}/seat${seat}`,
        time: new Date(),
      });
    });
  }

  changed(doc) {
    const log = doc.log ?? [];
    for (; this.seenLog < log.length; this.seenLog++) this.onMove(log[this.seenLog]);
    if (!this.final && doc.outcome && doc.live?.dealer?.share) {
      this.final = true;
      this.handle.broadcast({ type: DONE_TYPE, v: VERSION, actor: this.actor });
      this.onFinal?.(doc);
    }
  }

  async channelFor(seat) {
    const entry = this.seats.get(seat);
    if (!entry.channel) {
      const dealer = this.handle.doc().live?.dealer;
      if (!dealer) return null;
      const info = channelInfo(this.documentUrl, seat);
      entry.channel = await channelKey(entry.keys.privateKey, new Uint8Array(dealer.pubkey), {
        salt: new Uint8Array(0),
        info,
      });
    }
    return entry.channel;
  }

  async ephemeral(message) {
    // the dealer broadcasts the envelope map (older peers: its CBOR bytes)
    const envelope = message instanceof Uint8Array ? cbor.decode(message) : message;
    if (!envelope || envelope.type !== DEAL_TYPE || envelope.v !== VERSION || !this.seats.has(envelope.seat)) return;
    const key = await this.channelFor(envelope.seat);
    if (!key) return;
    const info = channelInfo(this.documentUrl, envelope.seat);
    const body = cbor.decode(await open(key, new Uint8Array(envelope.nonce), new Uint8Array(envelope.ct), info));
    if (body.seat !== envelope.seat) return;
    const signature = `${body.step}|${body.to_move}|${body.done}`;
    if (this.latest.get(body.seat) === signature) return; // the dealer's periodic re-send
    const previous = this.latest.get(body.seat);
    if (previous && Number(previous.split("|")[0]) > body.step) return; // an old view arriving late
    this.latest.set(body.seat, signature);
    this.onView(body.seat, {
      seat: body.seat,
      step: body.step,
      to_move: Array.from(body.to_move),
      done: body.done,
      observation: observationOf(body),
      mask: Array.from(body.legal, Boolean),
      text: body.text,
      svg: body.svg ?? null,
    });
  }

  // leave the game: the repo's shutdown disconnects the adapter; it is given half a second at most
  async close() {
    let shutdown = null;
    try {
      shutdown = this.repo?.shutdown();
    } catch {
      // the adapter was disconnected already
    }
    await Promise.race([Promise.resolve(shutdown).catch(() => {}), new Promise((r) => setTimeout(r, 500))]);
  }
}
