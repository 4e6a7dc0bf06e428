// evm_bench.js: the same receipt-proof work as evm_bench.c, with ethers 6 (from
// tests/peers): per block, rebuild the receipts trie (a plain Merkle-Patricia builder
// on ethers' keccak256/RLP, since @ethereumjs/trie is not among the pinned peers) and
// compare with receiptsRoot, and recover each transaction's signer with
// Transaction.from(...).from. Prints one JSON line like the C program.
"use strict";
const fs = require("fs");
const path = require("path");
const { keccak256, encodeRlp, toBeArray, hexlify, Transaction, concat } = require("ethers");

const dir = process.argv[2] || "tests/vectors/ethereum-execution-apis/tests";
const secs = Number(process.argv[3] || 3);
const answer = (io) => JSON.parse(fs.readFileSync(path.join(dir, io), "utf8")
  .split("\n").find((l) => l.startsWith("<< ")).slice(3)).result;

const q = (v) => (BigInt(v) === 0n ? "0x" : hexlify(toBeArray(BigInt(v))));
function receiptEnc(r) {
  const first = r.root ? r.root : q(r.status);
  const logs = r.logs.map((l) => [l.address, l.topics, l.data]);
  const body = encodeRlp([first, q(r.cumulativeGasUsed), r.logsBloom, logs]);
  const type = Number(r.type || 0);
  return type === 0 ? body : concat([hexlify(new Uint8Array([type])), body]);
}

function nibbles(hex) { return [...hex.slice(2)].map((c) => parseInt(c, 16)); }
function hp(nib, leaf) {
  const odd = nib.length % 2, flag = (leaf ? 2 : 0) + odd;
  const n = odd ? [flag, ...nib] : [flag, 0, ...nib];
  let s = "0x";
  for (let i = 0; i < n.length; i += 2) s += ((n[i] << 4) | n[i + 1]).toString(16).padStart(2, "0");
  return s;
}
const ref = (node) => { const e = encodeRlp(node); return (e.length - 2) / 2 < 32 ? node : keccak256(e); };
function build(items, d) {
  if (items.length === 1) return [hp(items[0][0].slice(d), true), items[0][1]];
  let p = 0;
  for (;;) {
    const c = items[0][0][d + p];
    if (c === undefined || items.some((it) => it[0][d + p] !== c)) break;
    p++;
  }
  if (p > 0) return [hp(items[0][0].slice(d, d + p), false), ref(build(items, d + p))];
  const br = new Array(17).fill("0x");
  for (let k = 0; k < 16; k++) {
    const sub = items.filter((it) => it[0][d] === k);
    if (sub.length) br[k] = ref(build(sub, d + 1));
  }
  const end = items.find((it) => it[0].length === d);
  if (end) br[16] = end[1];
  return br;
}
function receiptsRoot(receipts) {
  if (receipts.length === 0) return keccak256("0x80");
  const items = receipts.map((r, i) => [nibbles(encodeRlp(q(i))), receiptEnc(r)]);
  return keccak256(encodeRlp(build(items, 0)));
}

function checkBlock(block, receipts) {
  if (receiptsRoot(receipts) !== block.receiptsRoot) throw new Error("receipts root mismatch");
  for (const t of block.transactions) {
    const tx = Transaction.from({
      type: Number(t.type), chainId: t.chainId ? BigInt(t.chainId) : undefined,
      nonce: Number(t.nonce), gasLimit: BigInt(t.gas), gasPrice: t.gasPrice ? BigInt(t.gasPrice) : undefined,
      maxFeePerGas: t.maxFeePerGas, maxPriorityFeePerGas: t.maxPriorityFeePerGas,
      to: t.to, value: BigInt(t.value), data: t.input, accessList: t.accessList,
      signature: { r: t.r, s: t.s, v: BigInt(t.v) },
    });
    if (tx.from.toLowerCase() !== t.from) throw new Error("signer differs");
  }
  return receipts.length;
}

const blocks = [answer("eth_getBlockByHash/get-block-by-hash.io"), answer("eth_getBlockByNumber/get-latest.io")];
const rcpts = [answer("eth_getBlockReceipts/get-block-receipts-by-hash.io"),
  answer("eth_getBlockReceipts/get-block-receipts-latest.io")];
let receipts = 0, rounds = 0;
const t0 = process.hrtime.bigint();
let t;
do {
  for (let b = 0; b < 2; b++) receipts += checkBlock(blocks[b], rcpts[b]);
  rounds++;
  t = Number(process.hrtime.bigint() - t0) / 1e9;
} while (t < secs);
console.log(JSON.stringify({ impl: "ethers " + require("ethers").version, rounds, receipts,
  seconds: Number(t.toFixed(3)), receipts_per_second: Number((receipts / t).toFixed(1)) }));
