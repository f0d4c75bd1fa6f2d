// The episode viewer: an .automerge file (dropped, chosen, or from the server's recorded games)
// is sent to the server, which replays and verifies it with JAX and returns one frame per step
// (spectator SVG, who acted, rewards) plus the verification status; the viewer steps through them.
import { $, el, showError, clearError } from "./ui.js";

export class Viewer {
  constructor(root) {
    this.root = root;
    this.episode = null;
    this.step = 0;
    $("#viewer-first").onclick = () => this.show(0);
    $("#viewer-prev").onclick = () => this.show(this.step - 1);
    $("#viewer-next").onclick = () => this.show(this.step + 1);
    $("#viewer-last").onclick = () => this.show(this.episode ? this.episode.frames.length - 1 : 0);
    $("#viewer-file").onchange = (ev) => ev.target.files[0] && this.openFile(ev.target.files[0]);
    const drop = $("#viewer-drop");
    drop.ondragover = (ev) => {
      ev.preventDefault();
      drop.classList.add("over");
    };
    drop.ondragleave = () => drop.classList.remove("over");
    drop.ondrop = (ev) => {
      ev.preventDefault();
      drop.classList.remove("over");
      if (ev.dataTransfer.files[0]) this.openFile(ev.dataTransfer.files[0]);
    };
    $("#viewer-refresh").onclick = () => this.listRecorded();
    document.addEventListener("keydown", (ev) => {
      if (!this.root.classList.contains("active") || !this.episode) return;
      if (ev.key === "ArrowRight") this.show(this.step + 1);
      if (ev.key === "ArrowLeft") this.show(this.step - 1);
    });
  }

  async listRecorded() {
    const list = $("#viewer-list");
    list.replaceChildren();
    try {
      const response = await fetch("/api/episodes");
      const { episodes } = await response.json();
      if (!episodes.length) list.append(el("li", { class: "muted" }, "no recorded games yet"));
      for (const e of episodes) {
        const link = el("a", { href: "#", "data-name": e.name }, e.name);
        link.onclick = (ev) => {
          ev.preventDefault();
          this.openRecorded(e.name);
        };
        list.append(el("li", {}, link, el("span", { class: "muted" }, ` ${e.bytes} bytes`)));
      }
    } catch (err) {
      showError("#viewer-error", `could not list recorded games: ${err.message}`);
    }
  }

  async openFile(file) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    await this.load(
      fetch(`/api/episodes/inspect?name=${encodeURIComponent(file.name)}`, {
        method: "POST",
        headers: { "content-type": "application/octet-stream" },
        body: bytes,
      }),
      file.name,
    );
  }

  async openRecorded(name) {
    await this.load(fetch(`/api/episodes/${encodeURIComponent(name)}`), name);
  }

  async load(request, name) {
    clearError("#viewer-error");
    this.root.dataset.state = "loading";
    $("#viewer-title").textContent = `${name}: replaying…`;
    let body;
    try {
      const response = await request;
      body = await response.json().catch(() => ({ error: `HTTP ${response.status} (not JSON)` }));
      if (!response.ok || body.error) throw new Error(body.error || `HTTP ${response.status}`);
    } catch (err) {
      this.episode = null;
      this.root.dataset.state = "error";
      $("#viewer-title").textContent = name;
      $("#viewer-frame").replaceChildren();
      $("#viewer-verify").textContent = "";
      showError("#viewer-error", `Cannot open ${name}: ${err.message}`);
      return;
    }
    this.episode = body;
    const v = body.verification;
    const badge = $("#viewer-verify");
    badge.className = `badge ${v.status}`;
    badge.textContent = v.status === "verified" ? `verified: ${v.message}` : `NOT verified: ${v.message}`;
    const seats = body.seats.map((s, i) => `seat ${i}: ${s.actor} (${s.kind}${s.policy ? " " + s.policy : ""})`);
    $("#viewer-title").textContent = `${body.name}: ${body.env} ${body.env_version}, ${body.length} steps`;
    $("#viewer-seats").textContent = seats.join(" · ");
    this.root.dataset.state = "ready";
    this.show(0);
  }

  show(step) {
    if (!this.episode) return;
    const frames = this.episode.frames;
    this.step = Math.max(0, Math.min(step, frames.length - 1));
    const frame = frames[this.step];
    $("#viewer-frame").innerHTML = frame.svg;
    $("#viewer-step").textContent = `step ${this.step} / ${frames.length - 1}`;
    this.root.dataset.step = String(this.step);
    const acted = frame.acted.map(
      (a) => `seat ${a.seat} (${a.actor}) played ${a.label} at ${new Date(a.time).toLocaleTimeString()}`,
    );
    $("#viewer-acted").textContent = this.step === 0 ? "the deal" : acted.join("; ");
    const last = this.step === frames.length - 1;
    const out = this.episode.outcome;
    $("#viewer-outcome").textContent =
      last && out
        ? `${out.finished ? "finished" : "unfinished"} after ${out.length} steps; returns ${out.returns
            .map((r, i) => `seat ${i}: ${r > 0 ? "+" : ""}${r}`)
            .join(", ")}`
        : "";
  }
}
