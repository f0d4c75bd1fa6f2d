// Live play: this tab claims its seats of the game's episode document (an automerge-repo peer
// through the relay of `htjax serve`), receives each seat's private view from the engine peer
// (the dealer) over the encrypted channel, appends its seats' actions to the document's log,
// and for an AI seat runs the shipped ONNX policy here with onnxruntime-web.
import { LiveClient } from "./live.js";
import { Policy } from "./policy.js";
import { $, el, showError, clearError } from "./ui.js";

export class Game {
  constructor(config, metrics) {
    this.config = config;
    this.metrics = metrics;
    this.client = null;
    this.info = null;
    this.views = new Map(); // seat -> latest private view
    this.acted = new Set(); // "seat:step" this tab already appended
    this.pendingClick = null; // {at, step} of the person's last move, for action -> render time
    this.policy = null;
  }

  async create(env, opponent) {
    this.metrics.phases.clicked ??= performance.now();
    clearError("#play-error");
    const response = await fetch("/api/games", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ env, opponent }),
    });
    const body = await response.json();
    if (!response.ok) return showError("#play-error", body.error);
    this.metrics.phases.gameCreated ??= performance.now();
    await this.start(body, body.host_seats);
  }

  async join(gameId, seat) {
    const response = await fetch(`/api/games/${encodeURIComponent(gameId)}`);
    const body = await response.json();
    if (!response.ok) return showError("#play-error", body.error);
    const wanted = seat === null ? body.guest_seats : [Number(seat)];
    await this.start(body, wanted.map((s) => ({ seat: s, kind: "human" })));
  }

  async start(info, seats) {
    if (this.client) await this.client.close().catch(() => {});
    this.info = info;
    this.views.clear();
    this.acted.clear();
    this.outcome = null;
    this.mySeats = seats.filter((s) => s.kind === "human").map((s) => s.seat);
    this.aiSeats = seats.filter((s) => s.kind === "policy").map((s) => s.seat);
    const play = $("#play");
    play.dataset.state = "connecting";
    delete play.dataset.verified;
    delete play.dataset.returns;
    delete play.dataset.step;
    $("#verified").textContent = "";
    $("#verified").className = "badge";
    $("#table").replaceChildren();
    $("#moves").replaceChildren();
    $("#actions").replaceChildren();
    $("#ai").hidden = this.aiSeats.length === 0;
    $("#share").hidden = !info.guest_seats?.length || this.aiSeats.length > 0 || seats.some((s) => info.guest_seats.includes(s.seat));
    if (!$("#share").hidden) {
      const url = new URL(`/#game=${info.game}`, location.href).href;
      $("#share-link").href = url;
      $("#share-link").textContent = url;
    }
    // the policy loads while the tab joins the game; the AI's first move waits for it if need be
    this.policy = this.aiSeats.length ? Policy.load(info.policy) : null;
    $("#ai-name").textContent = `(${info.policy}.onnx, seat ${this.aiSeats.join(", ")})`;
    this.setStatus(`Joining ${info.title}…`);
    this.client = new LiveClient({
      relay: new URL(this.config.relay, location.href.replace(/^http/, "ws")).href,
      document: info.document,
      onStatus: (state) => this.connection(state),
      onView: (seat, view) => this.onView(seat, view),
      onMove: (entry) => this.logMove(entry),
      onFinal: (doc) => this.finished(doc),
    });
    await this.client.start();
    this.metrics.phases.documentFound ??= performance.now();
    try {
      await this.client.claim(
        seats.map((s) => ({
          seat: s.seat,
          kind: s.kind,
          policy: s.kind === "policy" ? info.policy : null,
          name: s.kind === "policy" ? `AI (${info.policy})` : "browser",
        })),
      );
    } catch (err) {
      $("#play").dataset.state = "error";
      return showError("#play-error", `Cannot join: ${err.message}`);
    }
    this.metrics.phases.claimed ??= performance.now();
    this.setStatus("Waiting for the deal…");
  }

  connection(state) {
    const badge = $("#conn");
    badge.className = `badge ${state}`;
    badge.dataset.state = state;
    badge.textContent = state === "reconnecting" ? "reconnecting…" : state;
  }

  setStatus(text) {
    $("#status").textContent = text;
  }

  logMove(entry) {
    const label = this.info.action_labels[entry.action] ?? `action ${entry.action}`;
    const who = this.aiSeats.includes(entry.seat) ? "AI" : this.mySeats.includes(entry.seat) ? "you" : "opponent";
    $("#moves").append(el("li", {}, `step ${entry.step}: seat ${entry.seat} (${who}) ${label}`));
  }

  onView(seat, view) {
    this.metrics.phases.firstView ??= performance.now();
    this.views.set(seat, view);
    if (this.mySeats.includes(seat) || (this.mySeats.length === 0 && seat === this.aiSeats[0])) this.render(seat, view);
    if (this.aiSeats.includes(seat) && view.to_move.includes(seat) && !view.done) this.aiMove(seat, view);
  }

  render(seat, view) {
    if (view.svg) $("#table").innerHTML = view.svg;
    else $("#table").replaceChildren(el("pre", { class: "table-text" }, view.text));
    const actions = $("#actions");
    actions.replaceChildren();
    const myTurn = view.to_move.includes(seat) && !view.done && !this.acted.has(`${seat}:${view.step}`);
    this.info.action_labels.forEach((label, a) => {
      if (!view.mask[a] && !myTurn) return;
      const button = el("button", { type: "button", "data-action": String(a), "data-seat": String(seat) }, label);
      button.disabled = !myTurn || !view.mask[a];
      if (!button.disabled) button.onclick = () => this.humanMove(seat, view.step, a);
      actions.append(button);
    });
    const play = $("#play");
    play.dataset.step = String(view.step);
    if (view.done) {
      play.dataset.state = this.outcome ? "over" : "ending";
      if (!this.outcome) this.setStatus(`Game over after ${view.step} steps; waiting for the dealer's reveal…`);
    } else if (myTurn) {
      play.dataset.state = "your-move";
      this.setStatus(`Your move (seat ${seat}).`);
      if (this.metrics.firstPlayableMs === null) this.metrics.firstPlayableMs = performance.now();
    } else {
      play.dataset.state = "waiting";
      this.setStatus(`Waiting for seat ${view.to_move.join(", ")}…`);
    }
    if (this.pendingClick && view.step > this.pendingClick.step) {
      this.metrics.actionToRenderMs.push(performance.now() - this.pendingClick.at);
      this.pendingClick = null;
    }
  }

  async finished(doc) {
    const returns = Array.from(doc.outcome.returns, Number);
    this.outcome = returns;
    const who = (i) => (this.mySeats.includes(i) ? " (you)" : this.aiSeats.includes(i) ? " (AI)" : "");
    const r = returns.map((x, i) => `seat ${i}${who(i)}: ${x > 0 ? "+" : ""}${x}`);
    $("#play").dataset.state = "over";
    $("#play").dataset.returns = JSON.stringify(returns);
    this.setStatus(`Game over after ${Number(doc.outcome.length)} steps. Returns: ${r.join(", ")}.`);
    for (let i = 0; i < 240; i++) {
      const info = await (await fetch(`/api/games/${this.info.game}`)).json();
      if (info.verification || info.error) {
        $("#verified").textContent = info.verification ?? `not verified: ${info.error}`;
        $("#verified").className = `badge ${info.verification ? "verified" : "mismatch"}`;
        $("#play").dataset.verified = info.verification ? "yes" : "no";
        if (info.saved) $("#verified").textContent += ` (saved as ${info.saved})`;
        return;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async humanMove(seat, step, action) {
    for (const b of document.querySelectorAll("#actions button")) b.disabled = true;
    this.acted.add(`${seat}:${step}`);
    this.pendingClick = { at: performance.now(), step };
    try {
      await this.client.act(seat, step, action);
    } catch (err) {
      showError("#play-error", `Your move was not sent: ${err.message}`);
    }
  }

  async aiMove(seat, view) {
    const key = `${seat}:${view.step}`;
    if (this.acted.has(key)) return;
    this.acted.add(key);
    const policy = await this.policy;
    const { probabilities, ms } = await policy.evaluate(view.observation, view.mask);
    const action = Policy.greedy(probabilities, view.mask);
    this.metrics.inferenceMs.push(ms);
    this.metrics.aiMoves.push({ game: this.info.game, seat, step: view.step, observation: view.observation, mask: view.mask, probabilities, action });
    const labels = this.info.action_labels;
    $("#ai-move").textContent = `step ${view.step}: the AI plays ${labels[action]}`;
    const table = $("#ai-probs");
    table.replaceChildren();
    labels.forEach((label, a) => {
      if (!view.mask[a]) return;
      const bar = el("div", { class: "bar", style: `width:${Math.round(100 * probabilities[a])}%` });
      const row = el("tr", { class: a === action ? "chosen" : "" }, el("td", {}, label), el("td", {}, probabilities[a].toFixed(3)), el("td", { style: "width:50%" }, bar));
      table.append(row);
    });
    $("#ai-timing").textContent = `inference ${ms.toFixed(2)} ms (onnxruntime-web, wasm)`;
    try {
      await this.client.act(seat, view.step, action);
    } catch (err) {
      showError("#play-error", `The AI's move was not sent: ${err.message}`);
    }
  }
}
