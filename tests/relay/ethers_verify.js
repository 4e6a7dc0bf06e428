// Differential check of relay receipts against ethers: for each input line
// "<hex of the signed bytes> <signature>", print the address ethers.verifyMessage
// recovers, ethers.hashMessage of the bytes, and "jcs-ok" when the bytes are the
// RFC 8785 form JavaScript gives the same receipt (members sorted by UTF-16 code
// units, JSON.stringify's escapes), else "jcs-differs". Reads stdin, writes stdout.
const path = require("path");
const peers = process.env.TB_PEERS || path.join(process.env.TB_SRCDIR || ".", "tests/peers");
const { ethers } = require(path.join(peers, "node_modules/ethers"));
function canon(v) {
  if (Array.isArray(v)) return "[" + v.map(canon).join(",") + "]";
  if (v && typeof v === "object")
    return "{" + Object.keys(v).sort().map((k) => JSON.stringify(k) + ":" + canon(v[k])).join(",") + "}";
  return JSON.stringify(v);
}
function jcs(bytes) {
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return canon(JSON.parse(text)) === text ? "jcs-ok" : "jcs-differs";
  } catch (e) {
    return "jcs-unparsed";
  }
}
const lines = require("fs").readFileSync(0, "utf8").split("\n").filter((l) => l.length);
for (const line of lines) {
  const [hex, sig] = line.split(" ");
  const bytes = ethers.getBytes("0x" + hex);
  console.log(ethers.verifyMessage(bytes, sig) + " " + ethers.hashMessage(bytes) + " " + jcs(bytes));
}
