// SHA-256 in lower-case hex, synchronously: node:crypto through process.getBuiltinModule where
// the runtime has it (Node, Deno, Bun, workerd with nodejs_compat), else FIPS 180-4 in plain
// JavaScript (edge runtimes without Node built-ins). No top-level `node:` import.

/** The `node:crypto` functions used. */
export interface NodeCryptoLike {
  hash?: (algorithm: string, data: string, encoding: "hex") => unknown;
  createHash?: (algorithm: string) => {
    update(data: string): { digest(encoding: "hex"): string };
  };
}

/** `node:crypto` through `process.getBuiltinModule`, when the runtime has it. */
export function nodeCrypto(
  scope: { readonly process?: unknown } = globalThis,
): NodeCryptoLike | undefined {
  const process = scope.process as { getBuiltinModule?: unknown } | undefined;
  if (typeof process !== "object" || process === null) return undefined;
  if (typeof process.getBuiltinModule !== "function") return undefined;
  try {
    const module = process.getBuiltinModule("node:crypto") as NodeCryptoLike | undefined;
    return typeof module?.createHash === "function" ? module : undefined;
  } catch {
    return undefined;
  }
}

/** The SHA-256 hex function for `crypto`: its one-shot `hash()`, its `createHash()`, or JavaScript. */
export function sha256HexWith(crypto: NodeCryptoLike | undefined): (text: string) => string {
  const oneShot = crypto?.hash;
  // `crypto.hash()` (Node ≥ 20.12, Deno, Bun) skips the Hash object.
  if (typeof oneShot === "function") return (text) => oneShot("sha256", text, "hex") as string;
  const createHash = crypto?.createHash;
  if (typeof createHash === "function") {
    return (text) => createHash("sha256").update(text).digest("hex");
  }
  return sha256HexJs;
}

let rounds: Uint32Array | undefined;
let initial: Uint32Array | undefined;

/** The first 32 bits of the fractional parts of `root`s of the first `count` primes. */
function primeFractions(count: number, root: (n: number) => number): Uint32Array {
  const out = new Uint32Array(count);
  let found = 0;
  for (let n = 2; found < count; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (!prime) continue;
    const r = root(n);
    out[found++] = Math.floor((r - Math.floor(r)) * 2 ** 32);
  }
  return out;
}

const encoder = new TextEncoder();

/** SHA-256 of `text`'s UTF-8 bytes, in lower-case hex, in plain JavaScript. */
export function sha256HexJs(text: string): string {
  rounds ??= primeFractions(64, Math.cbrt);
  initial ??= primeFractions(8, Math.sqrt);
  const k = rounds;
  const data = encoder.encode(text);
  const blocks = Math.ceil((data.length + 9) / 64);
  const padded = new Uint8Array(blocks * 64);
  padded.set(data);
  padded[data.length] = 0x80;
  const view = new DataView(padded.buffer);
  const bits = data.length * 8;
  view.setUint32(padded.length - 8, Math.floor(bits / 2 ** 32));
  view.setUint32(padded.length - 4, bits >>> 0);
  const h = Uint32Array.from(initial);
  const w = new Uint32Array(64);
  for (let block = 0; block < blocks; block++) {
    for (let t = 0; t < 16; t++) w[t] = view.getUint32(block * 64 + t * 4);
    for (let t = 16; t < 64; t++) {
      const a = w[t - 15]!;
      const b = w[t - 2]!;
      const s0 = ror(a, 7) ^ ror(a, 18) ^ (a >>> 3);
      const s1 = ror(b, 17) ^ ror(b, 19) ^ (b >>> 10);
      w[t] = (w[t - 16]! + s0 + w[t - 7]! + s1) >>> 0;
    }
    let a = h[0]!, b = h[1]!, c = h[2]!, d = h[3]!, e = h[4]!, f = h[5]!, g = h[6]!, hh = h[7]!;
    for (let t = 0; t < 64; t++) {
      const sum1 = ror(e, 6) ^ ror(e, 11) ^ ror(e, 25);
      const choice = (e & f) ^ (~e & g);
      const t1 = (hh + sum1 + choice + k[t]! + w[t]!) >>> 0;
      const sum0 = ror(a, 2) ^ ror(a, 13) ^ ror(a, 22);
      const majority = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (sum0 + majority) >>> 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) >>> 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) >>> 0;
    }
    // Uint32Array stores modulo 2^32.
    h[0]! += a;
    h[1]! += b;
    h[2]! += c;
    h[3]! += d;
    h[4]! += e;
    h[5]! += f;
    h[6]! += g;
    h[7]! += hh;
  }
  let out = "";
  for (const word of h) out += word.toString(16).padStart(8, "0");
  return out;
}

function ror(value: number, bits: number): number {
  return (value >>> bits) | (value << (32 - bits));
}
