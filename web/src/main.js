// The page of `htjax serve`: live play (an automerge-repo peer of the game's episode document,
// the AI seat's policy run by onnxruntime-web) and the episode viewer.
import { Game } from "./play.js";
import { automergeReady } from "./live.js";
import { Policy } from "./policy.js";
import { Viewer } from "./viewer.js";
import { $, showError } from "./ui.js";

// what the browser tests read: timings and every move the in-browser policy made
const metrics = {
  start: performance.timeOrigin,
  firstPlayableMs: null, // navigation start -> a game's first state rendered with moves enabled
  inferenceMs: [], // onnxruntime-web session.run per AI move
  actionToRenderMs: [], // click -> the next state's SVG in the page
  aiMoves: [], // {game, seat, step, observation, mask, probabilities, action}
  phases: {}, // ms since navigation start of the page's milestones (ready, game created, ...)
};
window.htjax = { metrics, ready: false };

function tabs() {
  for (const tab of document.querySelectorAll(".tab")) {
    tab.onclick = () => {
      for (const t of document.querySelectorAll(".tab")) t.classList.toggle("active", t === tab);
      for (const p of document.querySelectorAll(".panel")) p.classList.toggle("active", p.id === tab.dataset.panel);
    };
  }
}

async function main() {
  tabs();
  const viewer = new Viewer($("#viewer"));
  window.htjax.viewer = viewer;
  // load the WebAssembly of Automerge and onnxruntime-web while the person chooses a game
  automergeReady().then(() => (metrics.phases.automerge = performance.now()));
  const config = await (await fetch("/api/config")).json();
  for (const g of config.games) Policy.load(g.policy).then(() => (metrics.phases[`policy_${g.policy}`] = performance.now())).catch(() => {});
  viewer.listRecorded();
  const select = $("#game-env");
  for (const g of config.games) {
    const option = document.createElement("option");
    option.value = g.env;
    option.textContent = g.title;
    select.append(option);
  }
  const game = new Game(config, metrics);
  window.htjax.game = game;
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("viewer") !== null) $("#tab-viewer").click();
  if (hash.get("game")) {
    await game.join(hash.get("game"), hash.get("seat"));
  } else if (config.live) {
    $("#game-start").disabled = false;
  } else {
    $("#status").textContent = "This server hosts no live games; the episode viewer works.";
  }
  $("#new-game").onsubmit = async (ev) => {
    ev.preventDefault();
    try {
      await game.create($("#game-env").value, $("#game-opponent").value);
    } catch (err) {
      showError("#play-error", `The game could not start: ${err.message}`);
    }
  };
  metrics.phases.ready = performance.now();
  document.body.dataset.state = "ready";
  window.htjax.ready = true;
}

main().catch((err) => {
  console.error(err);
  showError("#fatal", `The page failed to start: ${err.message}`);
  document.body.dataset.state = "error";
});
