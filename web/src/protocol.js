// The wire names of htjax.sync.live (Python) that the browser seat speaks; see
// htjax/sync/live/channel.py and session.py, which define them.
//   channel key  = HKDF-SHA256(ECDH-P256(seat private, dealer public), salt = empty,
//                  info = "htjax.deal.v1|" + document URL + "|" + seat) -> AES-256-GCM key
//   envelope     = CBOR {type: "htjax.deal", v: 1, seat, nonce: 12 bytes, ct}; additional data = info
//   plaintext    = CBOR {step, seat, to_move, done, observation: bytes (little endian), dtype,
//                  shape, legal, text, svg?}
//   done         = CBOR {type: "htjax.done", v: 1, actor: hex}: this peer has the final document
// Ephemeral payloads are maps, sent as automerge-repo's CBOR `data` (DocHandle.broadcast).
export const DEAL_TYPE = "htjax.deal";
export const DONE_TYPE = "htjax.done";
export const VERSION = 1;
export const channelInfo = (documentUrl, seat) => `htjax.deal.v1|${documentUrl}|${seat}`;

const DTYPES = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  int16: Int16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  bool: Uint8Array,
};

// the observation bytes of a plaintext as a plain array of numbers (little-endian on the wire)
export function observationOf(body) {
  const Type = DTYPES[body.dtype];
  if (!Type) throw new Error(`observation dtype ${body.dtype} is not supported`);
  const bytes = new Uint8Array(body.observation);
  const copy = bytes.slice().buffer; // aligned
  return Array.from(new Type(copy, 0, bytes.byteLength / Type.BYTES_PER_ELEMENT), Number);
}
