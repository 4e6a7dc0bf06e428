// Wrap one raw OpenAttestation v2 document (its data, as a JSON file) with
// @tradetrust-tt/tradetrust and print the wrapped document: the mapping test
// feeds it through verify -> unsalt -> mapping. Usage: node oa_wrap.js DATA.json
"use strict";
const fs = require("fs");
const path = require("path");
const root = process.env.TB_SRCDIR || path.join(__dirname, "..", "..");
const peers = process.env.TB_PEERS || path.join(root, "tests/peers");
const oa = require(path.join(peers, "node_modules/@tradetrust-tt/tradetrust"));
const data = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
process.stdout.write(JSON.stringify(oa.wrapDocument(data)) + "\n");
