// Random W3C ids from crypto.getRandomValues (Web Crypto: every runtime, edge included).

const HEX: readonly string[] = Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);
const pool = new Uint8Array(256 * 8);
let offset = pool.length;

/** `bytes` random bytes as lowercase hex, never all zero. */
function randomHex(bytes: 8 | 16): string {
  for (;;) {
    if (offset + bytes > pool.length) {
      crypto.getRandomValues(pool);
      offset = 0;
    }
    let out = "";
    let zero = true;
    for (let i = offset; i < offset + bytes; i++) {
      const byte = pool[i]!;
      if (byte !== 0) zero = false;
      out += HEX[byte]!;
    }
    offset += bytes;
    if (!zero) return out;
  }
}

/** A new 32-hex-digit trace id. */
export function newTraceId(): string {
  return randomHex(16);
}

/** A new 16-hex-digit span id. */
export function newSpanId(): string {
  return randomHex(8);
}

/** Two lowercase hex digits of a byte. */
export function hexByte(value: number): string {
  return HEX[value & 0xff]!;
}
