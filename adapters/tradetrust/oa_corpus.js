// Differential corpus for OpenAttestation v2 integrity: random documents wrapped
// (singly and in batches), obfuscated and tampered with @tradetrust-tt/tradetrust,
// each printed as one NDJSON line {id, kind, lib, doc} where lib is the reference
// library's own verdict (verifySignature: VALID, INVALID, or ERROR when it throws).
// Invariant: the verdict is always the library's, never computed here.
// Usage: node oa_corpus.js COUNT [SEED]   (TB_PEERS, else TB_SRCDIR/tests/peers, holds node_modules)
"use strict";
const path = require("path");
const root = process.env.TB_SRCDIR || path.join(__dirname, "..", "..");
const peers = process.env.TB_PEERS || path.join(root, "tests/peers");
const oa = require(path.join(peers, "node_modules/@tradetrust-tt/tradetrust"));

const count = parseInt(process.argv[2] || "400", 10);
const { generator, STRINGS } = require("./corpus_random.js");
const { rnd, pick, int } = generator(parseInt(process.argv[3] || "20261122", 10));
function value(depth) {
  const r = rnd();
  if (depth > 2 || r < 0.55) {
    return pick([() => pick(STRINGS), () => int(1000) - 500, () => rnd() * 1e6, () => pick([true, false]),
      () => null, () => pick([0.1, 1e21, 1e-7, -0.5, 123456789012])])();
  }
  if (r < 0.65) return pick([{}, []]);
  if (r < 0.8) return Array.from({ length: 1 + int(3) }, () => value(depth + 1));
  return object(depth + 1);
}
function key() {
  return pick(["name", "id", "b", "a", "1", "10", "2", "Ünïcode", "key with space", "z_last",
    "emoji😀", "value", "x", "list", "nested"]) + (rnd() < 0.3 ? String(int(9)) : "");
}
function object(depth) {
  const o = {};
  const n = 1 + int(4);
  for (let i = 0; i < n; i++) o[key()] = value(depth);
  return o;
}
function rawDocument() {
  const d = object(1);
  d.issuers = [{ name: "Issuer " + int(100),
    documentStore: "0x" + Array.from({ length: 40 }, () => pick("0123456789abcdef")).join(""),
    identityProof: { type: "DNS-TXT", location: "example.com" } }];
  return d;
}

// Paths of salted leaves in doc.data (flatley-style dotted paths).
function leafPaths(o, prefix, out) {
  for (const k of Object.keys(o)) {
    const v = o[k];
    const p = prefix ? prefix + "." + k : k;
    if (v && typeof v === "object" && Object.keys(v).length) leafPaths(v, p, out);
    else out.push(p);
  }
  return out;
}
function getParent(o, p) {
  const parts = p.split(".");
  for (let i = 0; i < parts.length - 1; i++) o = o[parts[i]];
  return [o, parts[parts.length - 1]];
}
function flipHex(s) {
  if (!s.length) return "0";
  const i = int(s.length);
  const c = s[i] === "0" ? "1" : "0";
  return s.slice(0, i) + c + s.slice(i + 1);
}

const TAMPERS = {
  none: () => true,
  data_value: (d) => {
    const ps = leafPaths(d.data, "", []);
    const [o, k] = getParent(d.data, pick(ps));
    o[k] = typeof o[k] === "string" ? o[k] + "x" : "changed";
    return true;
  },
  data_add_key: (d) => { d.data["added" + int(99)] = pick(["plain", 5, {}, [], "uuid:string:v"]); return true; },
  data_add_empty: (d) => {
    const ps = leafPaths(d.data, "", []);
    const [o] = getParent(d.data, pick(ps));
    o["empty" + int(9)] = pick([{}, []]);
    return true;
  },
  data_remove_key: (d) => {
    const ps = leafPaths(d.data, "", []);
    const [o, k] = getParent(d.data, pick(ps));
    if (Array.isArray(o)) o.splice(Number(k), 1); else delete o[k];
    return true;
  },
  data_dotted_key: (d) => { d.data["has.dot"] = "x"; return true; },
  salt: (d) => {
    const ps = leafPaths(d.data, "", []).filter((p) => {
      const [o, k] = getParent(d.data, p); return typeof o[k] === "string";
    });
    if (!ps.length) return false;
    const [o, k] = getParent(d.data, pick(ps));
    o[k] = flipHex(o[k].slice(0, 8)) + o[k].slice(8);
    return true;
  },
  target_flip: (d) => { d.signature.targetHash = flipHex(d.signature.targetHash); return true; },
  target_upper: (d) => { d.signature.targetHash = d.signature.targetHash.toUpperCase(); return true; },
  proof_flip: (d) => {
    if (!d.signature.proof.length) return false;
    const i = int(d.signature.proof.length);
    d.signature.proof[i] = flipHex(d.signature.proof[i]);
    return true;
  },
  proof_drop: (d) => { if (!d.signature.proof.length) return false; d.signature.proof.pop(); return true; },
  proof_add: (d) => { d.signature.proof.push(d.signature.targetHash); return true; },
  proof_swap: (d) => {
    const p = d.signature.proof;
    if (p.length < 2) return false;
    [p[0], p[1]] = [p[1], p[0]];
    return true;
  },
  proof_upper: (d) => { d.signature.proof = d.signature.proof.map((s) => s.toUpperCase()); return true; },
  proof_junk: (d) => { if (!d.signature.proof.length) return false; d.signature.proof[0] += "zz"; return true; },
  proof_null: (d) => { d.signature.proof = null; return true; },
  root_flip: (d) => { d.signature.merkleRoot = flipHex(d.signature.merkleRoot); return true; },
  root_upper: (d) => { d.signature.merkleRoot = d.signature.merkleRoot.toUpperCase(); return true; },
  root_junk: (d) => { d.signature.merkleRoot += pick(["zz", "0", "g1", "00"]); return true; },
  root_short: (d) => { d.signature.merkleRoot = d.signature.merkleRoot.slice(0, 62 + int(2)); return true; },
  root_0x: (d) => { d.signature.merkleRoot = "0x" + d.signature.merkleRoot; return true; },
  obf_remove: (d) => {
    const l = d.privacy && d.privacy.obfuscatedData;
    if (!l || !l.length) return false;
    l.splice(int(l.length), 1);
    return true;
  },
  obf_add: (d) => {
    d.privacy = d.privacy || {};
    d.privacy.obfuscatedData = d.privacy.obfuscatedData || [];
    d.privacy.obfuscatedData.push(pick([d.signature.targetHash, "", "Zz", "日本", flipHex(d.signature.targetHash)]));
    return true;
  },
  obf_dup: (d) => {
    const l = d.privacy && d.privacy.obfuscatedData;
    if (!l || !l.length) return false;
    l.push(l[0]);
    return true;
  },
  obf_upper: (d) => {
    const l = d.privacy && d.privacy.obfuscatedData;
    if (!l || !l.length) return false;
    l[0] = l[0].toUpperCase();
    return true;
  },
  obf_not_array: (d) => { d.privacy = { obfuscatedData: pick([null, "abc", {}, 5]) }; return true; },
  no_signature: (d) => { delete d.signature; return true; },
};
const TAMPER_NAMES = Object.keys(TAMPERS);

function obfuscateSome(doc) {
  const ps = leafPaths(doc.data, "", []).filter((p) => !p.startsWith("issuers"));
  if (!ps.length) return doc;
  const n = 1 + int(Math.min(3, ps.length));
  const chosen = [];
  for (let i = 0; i < n; i++) chosen.push(pick(ps));
  return oa.obfuscate(doc, [...new Set(chosen)]);
}

function verdict(doc) {
  try {
    return oa.verifySignature(doc) ? "VALID" : "INVALID";
  } catch (e) {
    return "ERROR";
  }
}

let id = 0;
const out = [];
while (id < count) {
  const batch = rnd() < 0.5 ? 1 : 2 + int(6);
  const raws = Array.from({ length: batch }, rawDocument);
  let docs;
  try {
    docs = batch === 1 ? [oa.wrapDocument(raws[0])] : oa.wrapDocuments(raws);
  } catch (e) {
    continue; // the generator made something the schema refuses: draw again
  }
  for (let doc of docs) {
    if (id >= count) break;
    const kinds = [batch === 1 ? "single" : "batch"];
    if (rnd() < 0.4) { doc = obfuscateSome(doc); kinds.push("obfuscated"); }
    doc = JSON.parse(JSON.stringify(doc));
    const t = rnd() < 0.25 ? "none" : pick(TAMPER_NAMES);
    if (!TAMPERS[t](doc)) continue;
    kinds.push(t);
    // Judge the document as a verifier receives it: as JSON text. (A tamper can
    // set a named property on an array, which flatley sees but JSON drops.)
    const text = JSON.stringify(doc);
    out.push(`{"id":${id++},"kind":${JSON.stringify(kinds.join("+"))},` +
      `"lib":"${verdict(JSON.parse(text))}","doc":${text}}`);
  }
}
process.stdout.write(out.join("\n") + "\n");
