// verifySignature throughput of @tradetrust-tt/tradetrust over the same NDJSON corpus
// (documents parsed once, verified in rounds for at least SECONDS). Prints
// "library DOCS/s". Run by contrib/bench/tt_bench.sh.
"use strict";
const fs = require("fs");
const path = require("path");
const root = process.env.TB_SRCDIR || path.join(__dirname, "..", "..");
const oa = require(path.join(root, "tests/peers/node_modules/@tradetrust-tt/tradetrust"));
const [file, secs = "3"] = process.argv.slice(2);
const docs = fs.readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l).doc);
let done = 0, valid = 0;
const t0 = process.hrtime.bigint();
let t;
do {
  for (const d of docs) {
    try { if (oa.verifySignature(d)) valid++; } catch (e) { /* counted as not valid */ }
  }
  done += docs.length;
  t = Number(process.hrtime.bigint() - t0) / 1e9;
} while (t < Number(secs));
console.log(`library ${(done / t).toFixed(1)} docs/s (${done} verifications in ${t.toFixed(2)} s, ${valid} VALID)`);
