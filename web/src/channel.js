// The per-seat encrypted channel of dealer mode, with WebCrypto alone: ECDH P-256 key agreement
// (public keys published in the document at join as raw uncompressed points, 65 bytes),
// HKDF-SHA256 to an AES-256-GCM key, a 12-byte random nonce per message. The parameters (salt,
// info) are those of htjax.sync.live (Python, the `cryptography` package); tests/test_web_*.py
// encrypts in Python and decrypts here.
const subtle = globalThis.crypto.subtle;
const text = new TextEncoder();

export async function newKeyPair() {
  const pair = await subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]);
  const raw = new Uint8Array(await subtle.exportKey("raw", pair.publicKey));
  return { privateKey: pair.privateKey, publicKey: raw };
}

export async function channelKey(privateKey, peerPublicRaw, { salt, info }) {
  const peer = await subtle.importKey("raw", peerPublicRaw, { name: "ECDH", namedCurve: "P-256" }, false, []);
  const secret = await subtle.deriveBits({ name: "ECDH", public: peer }, privateKey, 256);
  const hkdf = await subtle.importKey("raw", secret, "HKDF", false, ["deriveKey"]);
  return subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: typeof salt === "string" ? text.encode(salt) : salt, info: typeof info === "string" ? text.encode(info) : info },
    hkdf,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

export async function open(key, nonce, ciphertext, aad) {
  const params = { name: "AES-GCM", iv: nonce };
  if (aad) params.additionalData = typeof aad === "string" ? text.encode(aad) : aad;
  return new Uint8Array(await subtle.decrypt(params, key, ciphertext));
}

export async function seal(key, plaintext, aad) {
  const nonce = globalThis.crypto.getRandomValues(new Uint8Array(12));
  const params = { name: "AES-GCM", iv: nonce };
  if (aad) params.additionalData = typeof aad === "string" ? text.encode(aad) : aad;
  return { nonce, ciphertext: new Uint8Array(await subtle.encrypt(params, key, plaintext)) };
}

export const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
export const fromHex = (hex) => Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
