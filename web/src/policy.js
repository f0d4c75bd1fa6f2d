// The AI seat's policy, run in the browser by onnxruntime-web (WebAssembly, one thread).
// The model is the shipped ONNX file (served by htjax serve at /api/policies/NAME.onnx); its
// inputs are the observation the engine published for the seat (float32[1, *obs_shape]) and the
// legal-action mask (bool[1, A]); its outputs the action probabilities (0 where illegal) and
// the value.
import * as ort from "onnxruntime-web/wasm";

ort.env.wasm.numThreads = 1; // no SharedArrayBuffer needed (no cross-origin isolation)
ort.env.wasm.proxy = false;
ort.env.wasm.wasmPaths = {
  wasm: new URL("/static/ort/ort-wasm-simd-threaded.wasm", location.href).href,
  mjs: new URL("/static/ort/ort-wasm-simd-threaded.mjs", location.href).href,
};

const sessions = new Map();

export class Policy {
  constructor(name, session) {
    this.name = name;
    this.session = session;
  }

  static async load(name) {
    if (!sessions.has(name)) {
      sessions.set(
        name,
        (async () => {
          const response = await fetch(`/api/policies/${encodeURIComponent(name)}.onnx`);
          if (!response.ok) throw new Error(`policy ${name}: HTTP ${response.status}`);
          const bytes = new Uint8Array(await response.arrayBuffer());
          const session = await ort.InferenceSession.create(bytes, {
            executionProviders: ["wasm"],
            graphOptimizationLevel: "all",
          });
          const policy = new Policy(name, session);
          await policy.warmUp();
          return policy;
        })(),
      );
    }
    return sessions.get(name);
  }

  // one run on a zero observation, so the first real move does not pay for WebAssembly set-up
  async warmUp() {
    const size = this.session.inputMetadata?.[0]?.shape?.[1]; // observation: float32[batch, size]
    const actions = this.session.inputMetadata?.[1]?.shape?.[1]; // action_mask: bool[batch, A]
    if (typeof size === "number" && typeof actions === "number") {
      await this.evaluate(new Array(size).fill(0), new Array(actions).fill(true));
    }
  }

  // probabilities (Float32Array[A]), value, and the wall time of the run in ms
  async evaluate(observation, mask) {
    const obs = new ort.Tensor("float32", Float32Array.from(observation), [1, observation.length]);
    const legal = new ort.Tensor("bool", Uint8Array.from(mask, (m) => (m ? 1 : 0)), [1, mask.length]);
    const start = performance.now();
    const out = await this.session.run({ observation: obs, action_mask: legal });
    const ms = performance.now() - start;
    return { probabilities: Array.from(out.probabilities.data), value: out.value.data[0], ms };
  }

  // the most probable legal action (the shipped policies' evaluation is greedy)
  static greedy(probabilities, mask) {
    let best = -1;
    for (let i = 0; i < probabilities.length; i++) {
      if (mask[i] && (best < 0 || probabilities[i] > probabilities[best])) best = i;
    }
    return best;
  }
}
