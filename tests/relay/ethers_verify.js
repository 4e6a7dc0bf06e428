// Differential check of relay receipts against ethers: for each input line
// "<hex of the signed bytes> <signature>", print the address ethers.verifyMessage
// recovers and ethers.hashMessage of the bytes. Reads stdin, writes stdout.
const path = require("path");
const peers = process.env.TB_PEERS || path.join(process.env.TB_SRCDIR || ".", "tests/peers");
const { ethers } = require(path.join(peers, "node_modules/ethers"));
const lines = require("fs").readFileSync(0, "utf8").split("\n").filter((l) => l.length);
for (const line of lines) {
  const [hex, sig] = line.split(" ");
  const bytes = ethers.getBytes("0x" + hex);
  console.log(ethers.verifyMessage(bytes, sig) + " " + ethers.hashMessage(bytes));
}
