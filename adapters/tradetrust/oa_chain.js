// On-chain fixtures for the tradetrust adapter's tests, driven step by step by the
// C test: deploy a DocumentStore and a TradeTrustToken registry (with its
// TitleEscrowFactory) from the npm packages' own artifacts, wrap documents naming
// them with @tradetrust-tt/tradetrust, then issue / revoke / mint / transfer.
// Each command prints one JSON object. Invariant: only the test mnemonic's keys.
// Usage: node oa_chain.js URL setup | issue STORE HASH | revoke STORE HASH |
//        mint REGISTRY ROOT | holder REGISTRY ROOT ACCOUNT_INDEX
"use strict";
const path = require("path");
const root = process.env.TB_SRCDIR || path.join(__dirname, "..", "..");
const peers = process.env.TB_PEERS || path.join(root, "tests/peers");
const nm = (p) => path.join(peers, "node_modules", p);
const { ethers } = require(nm("ethers"));
const oa = require(nm("@tradetrust-tt/tradetrust"));
const { DocumentStore__factory } = require(
  nm("@tradetrust-tt/document-store/dist/contracts/factories/DocumentStore__factory.js"));
const art = (p) => require(nm("@tradetrust-tt/token-registry/dist/artifacts/" + p));

const MNEMONIC = "test test test test test test test test test test test junk";
const [url, cmd, ...args] = process.argv.slice(2);
const provider = new ethers.JsonRpcProvider(url, undefined, { staticNetwork: true, batchMaxCount: 1 });
const signers = {};
const address = (i) => ethers.HDNodeWallet.fromPhrase(MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`).address;
const wallet = (i) => signers[i] ??= new ethers.NonceManager( // one nonce count per account
  ethers.HDNodeWallet.fromPhrase(MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`).connect(provider));

async function deploy(abi, bytecode, ...ctor) {
  const f = new ethers.ContractFactory(abi, bytecode, wallet(0));
  const c = await f.deploy(...ctor);
  await c.waitForDeployment();
  return c;
}

function documentFor(issuer) {
  return oa.wrapDocument({
    $template: { name: "CERTIFICATE_OF_ORIGIN", type: "EMBEDDED_RENDERER", url: "https://localhost" },
    exporter: { name: "Andes Coffee SAC", country: "PE" }, goods: [{ hs: "090111", kg: 18000 }],
    issuers: [issuer],
  });
}

// A v3 credential wrapped with the library's 3.0 salt / digest / MerkleTree (its
// wrapDocument adds a W3C JSON-LD check that takes seconds and changes no hash).
function v3DocumentFor(method, value, identifier) {
  const lib = nm("@tradetrust-tt/tradetrust/dist/cjs");
  const { salt, encodeSalt } = require(path.join(lib, "3.0/salt"));
  const { digestCredential } = require(path.join(lib, "3.0/digest"));
  const d = {
    version: "https://schema.openattestation.com/3.0/schema.json",
    "@context": ["https://www.w3.org/2018/credentials/v1",
      "https://schemata.openattestation.com/com/openattestation/1.0/OpenAttestation.v3.json"],
    type: ["VerifiableCredential"], issuanceDate: "2026-01-01T00:00:00Z",
    issuer: { id: "https://customs.example", name: "Customs of Peru" },
    credentialSubject: { id: "did:example:coo-1", exporter: "Andes Coffee SAC", kg: 18000 },
    openAttestationMetadata: {
      template: { name: "CERTIFICATE_OF_ORIGIN", type: "EMBEDDED_RENDERER", url: "https://localhost" },
      proof: { type: "OpenAttestationProofMethod", method, value },
      identityProof: { type: "DNS-TXT", identifier },
    },
  };
  const s = salt(d), digest = digestCredential(d, s, []);
  const doc = { ...d, proof: { type: "OpenAttestationMerkleProofSignature2018",
    proofPurpose: "assertionMethod", targetHash: digest, proofs: [], merkleRoot: digest,
    salts: encodeSalt(s), privacy: { obfuscated: [] } } };
  if (!oa.utils.isWrappedV3Document(doc) || !oa.verifySignature(doc)) throw new Error("v3 wrap");
  return doc;
}

const commands = {
  async setup() {
    const dsArt = new DocumentStore__factory();
    const store = await deploy(dsArt.interface.fragments ?? dsArt.interface, dsArt.bytecode,
      "tradebridge test store", address(0));
    const fac = art("TitleEscrowFactory.sol/TitleEscrowFactory.json");
    const factory = await deploy(fac.abi, fac.bytecode);
    const tok = art("TradeTrustToken.sol/TradeTrustToken.json");
    const registry = await deploy(tok.abi, tok.bytecode, "tradebridge eBL", "TBL",
      await factory.getAddress());
    const storeAddr = await store.getAddress(), regAddr = await registry.getAddress();
    return {
      documentStore: storeAddr, tokenRegistry: regAddr,
      storeDocument: documentFor({ name: "Customs of Peru", documentStore: storeAddr,
        identityProof: { type: "DNS-TXT", location: "issuer.tradebridge.test" } }),
      tokenDocument: documentFor({ name: "Carrier", tokenRegistry: regAddr,
        identityProof: { type: "DNS-TXT", location: "carrier.tradebridge.test" } }),
      storeDocumentV3: v3DocumentFor("DOCUMENT_STORE", storeAddr, "issuer.tradebridge.test"),
    };
  },
  async issue(store, hash) {
    const c = new ethers.Contract(store, ["function issue(bytes32)"], wallet(0));
    await (await c.issue(hash)).wait();
    return { issued: hash };
  },
  async revoke(store, hash) {
    const c = new ethers.Contract(store, ["function revoke(bytes32)"], wallet(0));
    await (await c.revoke(hash)).wait();
    return { revoked: hash };
  },
  async mint(registry, rootHash) {
    const tok = art("TradeTrustToken.sol/TradeTrustToken.json");
    const c = new ethers.Contract(registry, tok.abi, wallet(0));
    const w1 = address(1);
    await (await c.mint(w1, w1, rootHash, "0x")).wait();
    return { owner: await c.ownerOf(rootHash), beneficiary: w1, holder: w1 };
  },
  async holder(registry, rootHash, index) {
    const tok = art("TradeTrustToken.sol/TradeTrustToken.json");
    const esc = art("TitleEscrow.sol/TitleEscrow.json");
    const escrow = await new ethers.Contract(registry, tok.abi, provider).ownerOf(rootHash);
    const c = new ethers.Contract(escrow, esc.abi, wallet(1));
    const to = address(Number(index));
    await (await c.transferHolder(to, "0x")).wait();
    return { escrow, holder: await c.holder(), beneficiary: await c.beneficiary() };
  },
};

commands[cmd](...args).then(
  (r) => { process.stdout.write(JSON.stringify(r) + "\n"); process.exit(0); },
  (e) => { process.stderr.write(`oa_chain.js ${cmd}: ${e.stack || e}\n`); process.exit(1); });
