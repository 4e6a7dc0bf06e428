// Differential corpus for OpenAttestation v3 integrity: random credentials wrapped
// (singly and in batches) by @tradetrust-tt/tradetrust's v3 wrapper, obfuscated and
// tampered, each printed as one NDJSON line {id, kind, lib, doc} where lib is the
// library's own verifySignature() verdict (VALID, INVALID, or ERROR when it throws).
// Invariant: the verdict is always the library's, never computed here.
// Usage: node oa3_corpus.js COUNT [SEED]   (TB_PEERS, else TB_SRCDIR/tests/peers, holds node_modules)
"use strict";
const path = require("path");
const root = process.env.TB_SRCDIR || path.join(__dirname, "..", "..");
const peers = process.env.TB_PEERS || path.join(root, "tests/peers");
const lib = path.join(peers, "node_modules/@tradetrust-tt/tradetrust");
const oa = require(lib);
const { salt, encodeSalt } = require(path.join(lib, "dist/cjs/3.0/salt"));
const { digestCredential } = require(path.join(lib, "dist/cjs/3.0/digest"));
const { MerkleTree } = require(path.join(lib, "dist/cjs/shared/merkle"));
const { hashToBuffer } = require(path.join(lib, "dist/cjs/shared/utils"));

const count = parseInt(process.argv[2] || "400", 10);
const { generator, STRINGS } = require("./corpus_random.js");
const { rnd, pick, int } = generator(parseInt(process.argv[3] || "20261122", 10));
function value(depth) {
  const r = rnd();
  if (depth > 2 || r < 0.55) {
    return pick([() => pick(STRINGS), () => int(1000) - 500, () => rnd() * 1e6, () => pick([true, false]),
      () => null, () => pick([0, 0.1, 1e21, 1e-7, -0.5, 123456789012])])();
  }
  if (r < 0.65) return pick([{}, []]);
  if (r < 0.8) return Array.from({ length: 1 + int(3) }, () => value(depth + 1));
  return object(depth + 1);
}
function key() {
  return pick(["name", "b", "a", "1", "10", "2", "Ünïcode", "key with space", "z_last",
    "emoji😀", "value", "x", "list", "nested", ""]) + (rnd() < 0.3 ? String(int(9)) : "");
}
function object(depth) {
  const o = {};
  const n = 1 + int(4);
  for (let i = 0; i < n; i++) o[key()] = value(depth);
  return o;
}
function rawCredential() {
  const subject = object(2);
  subject.id = "did:example:" + int(1e6);
  return {
    "@context": ["https://www.w3.org/2018/credentials/v1"],
    type: ["VerifiableCredential"],
    issuanceDate: "2021-01-01T00:00:00Z",
    issuer: { id: "https://example.com", name: "Issuer " + int(100) },
    credentialSubject: subject,
    openAttestationMetadata: {
      template: { name: "main", type: "EMBEDDED_RENDERER", url: "https://example.com/r" },
      proof: { type: "OpenAttestationProofMethod", method: "DOCUMENT_STORE",
        value: "0x" + Array.from({ length: 40 }, () => pick("0123456789abcdef")).join("") },
      identityProof: { type: "DNS-TXT", identifier: "example.com" },
    },
  };
}

// lodash-style paths ("a.b[0].c") of the primitive leaves under credentialSubject.
function leafPaths(v, p, out) {
  if (Array.isArray(v)) v.forEach((x, i) => leafPaths(x, `${p}[${i}]`, out));
  else if (v && typeof v === "object") Object.keys(v).forEach((k) => leafPaths(v[k], p ? `${p}.${k}` : k, out));
  else out.push(p);
  return out;
}
function getParent(o, p) {
  const parts = p.replace(/\[(\d+)\]/g, ".$1").split(".");
  for (let i = 0; i < parts.length - 1; i++) o = o[parts[i]];
  return [o, parts[parts.length - 1]];
}
const subjectLeaves = (d) => leafPaths(d.credentialSubject, "credentialSubject", [])
  .filter((p) => p !== "credentialSubject.id");
function flipHex(s) {
  if (!s.length) return "0";
  const i = int(s.length);
  const c = s[i] === "0" ? "1" : "0";
  return s.slice(0, i) + c + s.slice(i + 1);
}
const salts = (d) => JSON.parse(Buffer.from(d.proof.salts, "base64").toString("utf8"));
const setSalts = (d, s) => { d.proof.salts = Buffer.from(JSON.stringify(s)).toString("base64"); };

const TAMPERS = {
  none: () => true,
  data_value: (d) => {
    const ps = subjectLeaves(d);
    if (!ps.length) return false;
    const [o, k] = getParent(d, pick(ps));
    o[k] = typeof o[k] === "string" && o[k] ? o[k] + "x" : pick(["changed", 0, false, "", null, 7, true]);
    return true;
  },
  data_falsy: (d) => { // falsy values are not hashed: the library lets them change
    const ps = subjectLeaves(d).filter((p) => { const [o, k] = getParent(d, p); return !o[k]; });
    if (!ps.length) return false;
    const [o, k] = getParent(d, pick(ps));
    o[k] = pick([0, false, "", null]);
    return true;
  },
  data_add_key: (d) => { d.credentialSubject["added" + int(99)] = pick(["plain", 5, {}, [], false]); return true; },
  data_remove_key: (d) => {
    const ps = subjectLeaves(d);
    if (!ps.length) return false;
    const [o, k] = getParent(d, pick(ps));
    if (Array.isArray(o)) o.splice(Number(k), 1); else delete o[k];
    return true;
  },
  data_rename: (d) => {
    const ks = Object.keys(d.credentialSubject).filter((k) => k !== "id");
    if (!ks.length) return false;
    const k = pick(ks);
    d.credentialSubject[k + "r"] = d.credentialSubject[k];
    delete d.credentialSubject[k];
    return true;
  },
  data_bad_key: (d) => { d.credentialSubject[pick(["has.dot", "br[0]", "x]"])] = "x"; return true; },
  data_top: (d) => { d.issuer.name += "!"; return true; },
  salt_value: (d) => {
    const s = salts(d);
    const e = pick(s);
    e.value = pick([flipHex(e.value), e.value.slice(1), e.value + "0"]);
    setSalts(d, s);
    return true;
  },
  salt_path: (d) => {
    const s = salts(d);
    pick(s).path = pick(["credentialSubject.nope", "issuer.id", "proof.targetHash", "type[0]", "type.length"]);
    setSalts(d, s);
    return true;
  },
  salt_drop: (d) => { const s = salts(d); s.splice(int(s.length), 1); setSalts(d, s); return true; },
  salt_dup: (d) => { const s = salts(d); s.push(s[int(s.length)]); setSalts(d, s); return true; },
  salt_text: (d) => {
    const t = d.proof.salts;
    d.proof.salts = pick([t + "=", t.slice(0, -1), t.slice(0, -2), "!" + t, t.replace(/\+/g, "-"), "e30=", "W10=", ""]);
    return true;
  },
  target_flip: (d) => { d.proof.targetHash = flipHex(d.proof.targetHash); return true; },
  target_upper: (d) => { d.proof.targetHash = d.proof.targetHash.toUpperCase(); return true; },
  proof_flip: (d) => {
    if (!d.proof.proofs.length) return false;
    const i = int(d.proof.proofs.length);
    d.proof.proofs[i] = flipHex(d.proof.proofs[i]);
    return true;
  },
  proof_drop: (d) => { if (!d.proof.proofs.length) return false; d.proof.proofs.pop(); return true; },
  proof_add: (d) => { d.proof.proofs.push(d.proof.targetHash); return true; },
  proof_upper: (d) => { d.proof.proofs = d.proof.proofs.map((s) => s.toUpperCase()); return true; },
  proof_junk: (d) => { if (!d.proof.proofs.length) return false; d.proof.proofs[0] += "zz"; return true; },
  root_flip: (d) => { d.proof.merkleRoot = flipHex(d.proof.merkleRoot); return true; },
  root_upper: (d) => { d.proof.merkleRoot = d.proof.merkleRoot.toUpperCase(); return true; },
  root_junk: (d) => { d.proof.merkleRoot += pick(["zz", "0", "g1", "00"]); return true; },
  root_short: (d) => { d.proof.merkleRoot = d.proof.merkleRoot.slice(0, 62 + int(2)); return true; },
  obf_remove: (d) => {
    const l = d.proof.privacy.obfuscated;
    if (!l.length) return false;
    l.splice(int(l.length), 1);
    return true;
  },
  obf_add: (d) => {
    d.proof.privacy.obfuscated.push(pick([d.proof.targetHash, "", "Zz", "日本", flipHex(d.proof.targetHash)]));
    return true;
  },
  obf_dup: (d) => {
    const l = d.proof.privacy.obfuscated;
    if (!l.length) return false;
    l.push(l[0]);
    return true;
  },
  obf_not_array: (d) => { d.proof.privacy = pick([{}, { obfuscated: null }, { obfuscated: {} }]); return true; },
  no_proof: (d) => { delete d.proof; return true; },
};
const TAMPER_NAMES = Object.keys(TAMPERS);

function obfuscateSome(doc) {
  const ps = subjectLeaves(doc);
  if (!ps.length) return doc;
  const n = 1 + int(Math.min(3, ps.length));
  const chosen = [];
  for (let i = 0; i < n; i++) chosen.push(pick(ps));
  try {
    return oa.obfuscate(doc, [...new Set(chosen)]);
  } catch (e) {
    return doc; // e.g. a path below one already removed
  }
}

function verdict(doc) {
  try {
    return oa.verifySignature(doc) ? "VALID" : "INVALID";
  } catch (e) {
    return "ERROR";
  }
}

// The library's 3.0/wrap.js steps (salt, digestCredential, MerkleTree), without its
// W3C JSON-LD validation, which takes seconds per document here and changes no hash.
function wrapAll(raws) {
  const docs = raws.map((c) => {
    const d = { version: "https://schema.openattestation.com/3.0/schema.json", ...c };
    d["@context"].push("https://schemata.openattestation.com/com/openattestation/1.0/OpenAttestation.v3.json");
    const s = salt(d);
    return { d, s, digest: digestCredential(d, s, []) };
  });
  const tree = new MerkleTree(docs.map((x) => hashToBuffer(x.digest)));
  const merkleRoot = tree.getRoot().toString("hex");
  return docs.map(({ d, s, digest }) => ({ ...d, proof: {
    type: "OpenAttestationMerkleProofSignature2018", proofPurpose: "assertionMethod",
    targetHash: digest, proofs: tree.getProof(hashToBuffer(digest)).map((b) => b.toString("hex")),
    merkleRoot, salts: encodeSalt(s), privacy: { obfuscated: [] } } }));
}

async function main() {
  let id = 0;
  const out = [];
  while (id < count) {
    const batch = rnd() < 0.5 ? 1 : 2 + int(6);
    const raws = Array.from({ length: batch }, rawCredential);
    let docs;
    try {
      docs = wrapAll(raws);
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
      const text = JSON.stringify(doc);
      out.push(`{"id":${id++},"kind":${JSON.stringify(kinds.join("+"))},` +
        `"lib":"${verdict(JSON.parse(text))}","doc":${text}}`);
    }
  }
  process.stdout.write(out.join("\n") + "\n");
}
main().catch((e) => { console.error(e); process.exit(1); });
