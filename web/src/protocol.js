// The dealer-mode wire names shared with htjax.sync.live (Python): ephemeral message types and
// the HKDF/AES-GCM parameters of the per-seat channel.
export const CHANNEL = {
  view: "htjax.view", // dealer -> seat: {type, seat, actor, nonce, ciphertext}
  request: "htjax.want-view", // seat -> dealer: resend my latest view
  kdf: (seat, actor) => ({ salt: "htjax.live.channel", info: `seat ${seat} ${actor}` }),
  aad: (seat, actor) => `seat ${seat} ${actor}`,
};
