import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { nodeCrypto, sha256HexJs, sha256HexWith } from "./_sha256.ts";
import { generateApiKey, hashApiKey } from "./api_key.ts";

function reference(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

test("sha256HexJs() matches the FIPS 180-4 test vectors", () => {
  assert.equal(sha256HexJs(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(
    sha256HexJs("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.equal(
    sha256HexJs("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
});

test("sha256HexJs() equals node:crypto for every length across the padding boundaries and for UTF-8", () => {
  for (let length = 0; length <= 260; length++) {
    const text = "k".repeat(length);
    assert.equal(sha256HexJs(text), reference(text), `length ${length}`);
  }
  for (const text of ["é", "€uro", "𝄞 clef", "lone \ud800 surrogate", "\u0000nul"]) {
    assert.equal(sha256HexJs(text), reference(text), JSON.stringify(text));
  }
  for (let i = 0; i < 50; i++) {
    const { key } = generateApiKey();
    assert.equal(sha256HexJs(key), reference(key));
  }
});

test("sha256HexWith() uses crypto.hash(), else createHash(), else JavaScript", () => {
  const calls: string[] = [];
  const oneShot = sha256HexWith({
    hash: (algorithm, data) => {
      calls.push(`hash ${algorithm} ${data}`);
      return "one-shot";
    },
    createHash: () => assert.fail("createHash() used although hash() exists"),
  });
  assert.equal(oneShot("k"), "one-shot");
  const streamed = sha256HexWith({ createHash: (algorithm) => createHash(algorithm) });
  assert.equal(streamed("k"), reference("k"));
  assert.equal(sha256HexWith(undefined), sha256HexJs);
  assert.deepEqual(calls, ["hash sha256 k"]);
});

test("nodeCrypto() loads node:crypto through process.getBuiltinModule, else is undefined", () => {
  assert.equal(typeof nodeCrypto()?.createHash, "function");
  assert.equal(nodeCrypto({}), undefined);
  assert.equal(nodeCrypto({ process: {} }), undefined);
  const missing = () => {
    throw new Error("No such built-in module: node:crypto");
  };
  assert.equal(nodeCrypto({ process: { getBuiltinModule: missing } }), undefined);
});

test("hashApiKey() gives the same digest as the JavaScript fallback used on edge runtimes", () => {
  const { key, hash } = generateApiKey();
  assert.equal(hashApiKey(key), sha256HexJs(key));
  assert.equal(hash, sha256HexJs(key));
});
