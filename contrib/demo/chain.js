// Drives an AEO registry (contrib/contracts/AEORegistry.sol) on a ganache chain for
// the demo and the end-to-end test: compile+deploy, register administrations and
// relayers, certify/suspend/cancel, read a certificate. Accounts are those of the
// well-known test mnemonic; this script is never pointed at a real network.
// Also a module: tests/relay/chaos.js takes ABI, wallet() and bytecode() from here.
// Usage: node chain.js URL deploy | admin REG IDX CC | relayer REG IDX |
//        change REG IDX certify|suspend|reinstate|cancel CERTREF VERSION EFFECTIVE | cert REG CERTREF |
//        events REG | address IDX | key IDX
'use strict';
const path = require('path');
const mods = process.env.TB_NODE_MODULES ||
  path.join(__dirname, '..', '..', 'tests', 'peers', 'node_modules');
const { ethers } = require(path.join(mods, 'ethers'));
const solc = require(path.join(mods, 'solc'));
const fs = require('fs');

const MNEMONIC = 'test test test test test test test test test test test junk';
const ABI = [
  'function addAdministration(address admin, string country)',
  'function addRelayer(address relayer)',
  'function certify(bytes32 id, address holder, uint64 effective, bytes32 recordHash, uint64 version)',
  'function suspend(bytes32 id, uint64 effective, bytes32 recordHash, uint64 version)',
  'function cancel(bytes32 id, uint64 effective, bytes32 recordHash, uint64 version)',
  'function reinstate(bytes32 id, uint64 effective, bytes32 recordHash, uint64 version)',
  'event StatusChanged(bytes32 indexed certId, address indexed admin, address indexed holder, uint8 status, uint64 effective, bytes32 recordHash, uint64 version)',
  'function certs(bytes32) view returns (address admin, address holder, uint8 status, uint64 effective, bytes32 recordHash, uint64 version)',
];

function wallet(provider, i) {
  return ethers.HDNodeWallet.fromPhrase(MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`).connect(provider);
}

function bytecode() {
  const src = fs.readFileSync(path.join(__dirname, '..', 'contracts', 'AEORegistry.sol'), 'utf8');
  const out = JSON.parse(solc.compile(JSON.stringify({
    language: 'Solidity', sources: { 'AEORegistry.sol': { content: src } },
    settings: { evmVersion: 'shanghai', optimizer: { enabled: true, runs: 200 },
      outputSelection: { '*': { '*': ['evm.bytecode.object'] } } } })));
  const c = out.contracts && out.contracts['AEORegistry.sol'];
  if (!c) throw new Error('solc: ' + JSON.stringify(out.errors));
  return '0x' + c.AEORegistry.evm.bytecode.object;
}

const id32 = (s) => ethers.encodeBytes32String(s);
const STATUS = ['none', 'certified', 'suspended', 'cancelled'];

async function main() {
  const [url, cmd, ...a] = process.argv.slice(2);
  const provider = new ethers.JsonRpcProvider(url, undefined, { staticNetwork: true, polling: true, pollingInterval: 100 });
  const reg = (addr, i) => new ethers.Contract(addr, ABI, wallet(provider, i));
  if (cmd === 'deploy') {
    const f = new ethers.ContractFactory(ABI, bytecode(), wallet(provider, 0));
    const c = await f.deploy();
    await c.waitForDeployment();
    console.log(await c.getAddress());
  } else if (cmd === 'admin') {
    await (await reg(a[0], 0).addAdministration(wallet(provider, +a[1]).address, a[2])).wait();
  } else if (cmd === 'relayer') {
    await (await reg(a[0], 0).addRelayer(wallet(provider, +a[1]).address)).wait();
  } else if (cmd === 'change') {
    const [addr, idx, what, ref, ver, eff] = a;
    const c = reg(addr, +idx);
    const hash = ethers.keccak256(ethers.toUtf8Bytes(`${ref}/${what}/${ver}`));
    const tx = what === 'certify'
      ? await c.certify(id32(ref), wallet(provider, 9).address, eff, hash, ver)
      : await c[what](id32(ref), eff, hash, ver);
    const r = await tx.wait();
    console.log(r.hash);
  } else if (cmd === 'cert') {
    const r = await reg(a[0], 0).certs(id32(a[1]));
    console.log(JSON.stringify({ certId: a[1], status: STATUS[Number(r.status)],
      effective: new Date(Number(r.effective) * 1000).toISOString().replace('.000', ''),
      version: Number(r.version), recordHash: r.recordHash, admin: r.admin }));
  } else if (cmd === 'events') { // StatusChanged logs of REG: one line each
    const topic = ethers.id('StatusChanged(bytes32,address,address,uint8,uint64,bytes32,uint64)');
    const logs = await provider.getLogs({ address: a[0], topics: [topic], fromBlock: 0, toBlock: 'latest' });
    for (const l of logs) console.log(ethers.decodeBytes32String(l.topics[1]), BigInt('0x' + l.data.slice(2 + 64 * 3, 2 + 64 * 4)).toString());
  } else if (cmd === 'address') {
    console.log(wallet(provider, +a[0]).address);
  } else if (cmd === 'key') {
    console.log(wallet(provider, +a[0]).privateKey);
  } else {
    throw new Error('unknown command ' + cmd);
  }
}
module.exports = { ABI, MNEMONIC, STATUS, wallet, bytecode, id32, ethers };
if (require.main === module)
  main().catch((e) => { console.error('chain.js: ' + (e.shortMessage || e.message)); process.exit(1); });
