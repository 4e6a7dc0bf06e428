// The chaos run: the real `tradebridge run` between two real ganache chains (Peru's
// AEO registry on A, Chile's on B) while a fast stream of certify / suspend /
// reinstate / cancel changes goes on at A, and the run does to the relay what
// operations do to it: kill -9 at random moments and at the fault points between
// journal and send, stop B and bring it back with its state, re-org A deeper than
// the confirmation depth (then the operator's resume command), remove a network
// with pending rows by SIGHUP, send a broken configuration with SIGHUP.
// At the end tests/relay/chaos_oracle.js judges from the chains, the receipt log,
// the dead letters and the relay's log lines (never from the relay's counters).
// Every random choice comes from the printed seed (--seed=N repeats them; the
// timing of the machine still varies). Invariant: everything started here
// (ganache, relay) is stopped on exit, success or not; only 127.0.0.1 is used.
'use strict';
const path = require('path');
const fs = require('fs');
const cp = require('child_process');
const net = require('net');
const readline = require('readline');

const SRC = path.resolve(process.env.TB_SRCDIR || path.join(__dirname, '..', '..'));
const BUILD = path.resolve(process.env.TB_BUILDDIR || path.join(SRC, 'build'));
const NM = path.join(process.env.TB_PEERS || path.join(SRC, 'tests', 'peers'), 'node_modules');
process.env.TB_NODE_MODULES = NM;
const chain = require(path.join(SRC, 'contrib', 'demo', 'chain.js'));
const oracle = require('./chaos_oracle.js');
const { ethers } = chain;

// ---- parameters -------------------------------------------------------------------

const SCENARIOS = ['kills', 'fault-window', 'outage', 'remove-network', 'broken-sighup', 'reorg'];
const DEFAULTS = {
  seed: String(Date.now() % 1000000000), certs: 40, rate: 6, stream: 20, kills: 6, 'kill-gap': '1500-4000',
  outage: 12, 'reorg-depth': 4, calm: 30, drain: 180, stall: 8, scenarios: SCENARIOS.join(','),
  'not-enabled': '', resume: 'cursor reset -s {store} {network} --to {block}', keep: '0',
};

function parseArgs(argv) {
  const o = { ...DEFAULTS };
  for (const a of argv) {
    const m = /^--([a-z-]+)=(.*)$/.exec(a);
    if (!m || !(m[1] in DEFAULTS)) throw new Error(`unknown argument ${a}; known: ` +
      Object.keys(DEFAULTS).map((k) => `--${k}=`).join(' '));
    o[m[1]] = m[2];
  }
  for (const k of ['certs', 'rate', 'stream', 'kills', 'outage', 'reorg-depth', 'calm', 'drain', 'stall'])
    o[k] = Number(o[k]);
  o.on = new Set(o.scenarios.split(',').filter(Boolean));
  for (const s of o.on) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s}`);
  o.killGap = o['kill-gap'].split('-').map(Number);
  return o;
}

// mulberry32: small, seeded, good enough to choose certificates and moments
function rng(seed) {
  let a = Number(seed) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => Date.now();

// ---- processes ----------------------------------------------------------------------

function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
  });
}

function exited(child) {
  return child.exitCode !== null || child.signalCode !== null;
}

async function waitExit(child, ms) {
  const end = now() + ms;
  while (!exited(child) && now() < end) await sleep(20);
  return exited(child);
}

async function stopGroup(child, sig = 'SIGTERM', graceMs = 5000) {
  if (!child || exited(child)) return;
  try { process.kill(-child.pid, sig); } catch { /* gone */ }
  if (await waitExit(child, graceMs)) return;
  try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
  await waitExit(child, 5000);
}

async function rpc(url, method, params = [], timeoutMs = 3000) {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs) });
  const j = await r.json();
  if (j.error) throw new Error(`${method}: ${j.error.message}`);
  return j.result;
}

class Ganache {
  constructor(work, name, port, chainId) {
    Object.assign(this, { work, name, port, chainId, url: `http://127.0.0.1:${port}` });
    this.db = path.join(work, `${name}.db`);
    this.down = []; // [from, to] intervals while stopped on purpose
  }

  async start() {
    fs.mkdirSync(this.db, { recursive: true });
    const log = fs.openSync(path.join(this.work, `${this.name}.log`), 'a');
    this.child = cp.spawn(path.join(NM, '.bin', 'ganache'), ['--server.host', '127.0.0.1',
      '--server.port', String(this.port), '--chain.chainId', String(this.chainId),
      '--wallet.mnemonic', chain.MNEMONIC, '--database.dbPath', this.db, '--logging.quiet', 'true',
      '--chain.vmErrorsOnRPCResponse', 'true'], { detached: true, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const end = now() + 90000;
    while (now() < end) {
      if (exited(this.child)) throw new Error(`ganache ${this.name} exited; see ${this.name}.log`);
      try { await rpc(this.url, 'eth_chainId', [], 1000); return; } catch { await sleep(100); }
    }
    throw new Error(`ganache ${this.name} did not answer on port ${this.port} within 90 s`);
  }

  async stop() { await stopGroup(this.child, 'SIGTERM', 10000); }
}

// The relay under test: its stderr lines are kept with the time they arrived.
class Relay {
  constructor(run) {
    this.run = run;
    this.lines = [];   // {t, text}
    this.up = [];      // [start, end] intervals
    this.exits = [];   // {t, code, signal, expected}
    this.kills = 0;
    this.faultKills = [];
  }

  start(extraEnv = {}) {
    const r = this.run;
    this.child = cp.spawn(path.join(BUILD, 'tradebridge'), ['run', '-c', r.configPath],
      { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...r.env, ...extraEnv } });
    const child = this.child;
    this.up.push([now(), null]);
    for (const s of [child.stdout, child.stderr])
      readline.createInterface({ input: s }).on('line', (text) => this.line(text));
    child.on('exit', (code, signal) => this.onExit(child, code, signal));
  }

  line(text) {
    const t = now();
    this.lines.push({ t, text });
    fs.appendFileSync(this.run.logPath, `${((t - this.run.t0) / 1000).toFixed(3)} ${text}\n`);
  }

  onExit(child, code, signal) {
    const t = now();
    const last = this.up[this.up.length - 1];
    if (last && last[1] === null) last[1] = t;
    this.exits.push({ t, code, signal, expected: child.expectedExit || null });
    if (!child.expectedExit)
      this.line(`[chaos] relay exited by itself: code ${code} signal ${signal}`);
  }

  alive() { return this.child && !exited(this.child); }

  async kill9() {
    if (!this.alive()) return;
    this.child.expectedExit = 'kill -9';
    this.kills++;
    this.line('[chaos] kill -9');
    await stopGroup(this.child, 'SIGKILL');
  }

  async term() {
    if (!this.alive()) return null;
    this.child.expectedExit = 'SIGTERM';
    await stopGroup(this.child, 'SIGTERM', 20000);
    return { code: this.child.exitCode, signal: this.child.signalCode };
  }

  hup() { this.line('[chaos] SIGHUP'); process.kill(this.child.pid, 'SIGHUP'); }
}

// ---- the source: changes on registry A ------------------------------------------------

const NEXT = { // what may follow a status, with weights
  none: [['certify', 1]],
  certified: [['suspend', 0.8], ['cancel', 0.2]],
  suspended: [['reinstate', 0.7], ['cancel', 0.3]],
};
const STATUS_AFTER = { certify: 'certified', suspend: 'suspended', reinstate: 'certified',
  cancel: 'cancelled' };

class Source {
  constructor(run) {
    this.run = run;
    this.changes = [];
    this.certs = [];      // the active pool: {id, status, ver}
    this.nextCert = 1;
    this.effective = 1767225600;
    for (let i = 0; i < run.o.certs; i++) this.freshCert();
  }

  freshCert() {
    this.certs.push({ id: `CHAOS-${String(this.nextCert++).padStart(5, '0')}`, status: 'none', ver: 0 });
  }

  snapshot() {
    return { certs: this.certs.map((c) => ({ ...c })), nextCert: this.nextCert };
  }

  restore(s) { this.certs = s.certs.map((c) => ({ ...c })); this.nextCert = s.nextCert; }

  async connect() {
    const r = this.run;
    this.provider = new ethers.JsonRpcProvider(r.A.url, undefined,
      { staticNetwork: true, polling: true, pollingInterval: 50 });
    this.wallet = chain.wallet(this.provider, 1);
    this.reg = new ethers.Contract(r.regA, chain.ABI, this.wallet);
    await this.resync();
  }

  async resync() { this.nonce = await this.provider.getTransactionCount(this.wallet.address, 'pending'); }

  pick(noCancel) {
    const rand = this.run.rand;
    const c = this.certs[Math.floor(rand() * this.certs.length)];
    let opts = NEXT[c.status].filter(([a]) => !(noCancel && a === 'cancel'));
    if (opts.length === 0) opts = [['suspend', 1]];
    let x = rand() * opts.reduce((s, [, w]) => s + w, 0);
    for (const [a, w] of opts) { if ((x -= w) <= 0) return [c, a]; }
    return [c, opts[opts.length - 1][0]];
  }

  async change(phase, noCancel = false) {
    const [c, action] = this.pick(noCancel);
    const ver = c.ver + 1;
    const eff = (this.effective += 60);
    const id = chain.id32(c.id);
    const hash = ethers.keccak256(ethers.toUtf8Bytes(`${c.id}/${action}/${ver}/${eff}`));
    const ov = { nonce: this.nonce, gasLimit: 300000, maxFeePerGas: 50000000000n,
      maxPriorityFeePerGas: 1000000000n };
    const tx = action === 'certify'
      ? await this.reg.certify(id, chain.wallet(this.provider, 9).address, eff, hash, ver, ov)
      : await this.reg[action](id, eff, hash, ver, ov);
    const tA = now(); // ganache mines on send: the change exists at A from here
    this.nonce++;
    const rcpt = await tx.wait();
    if (rcpt.status !== 1 || rcpt.logs.length !== 1) throw new Error(`${action} ${c.id} failed at A`);
    c.ver = ver;
    c.status = STATUS_AFTER[action];
    const ch = { i: this.changes.length, cert: c.id, action, status: c.status, effective: eff,
      srcVersion: ver, txHash: tx.hash.toLowerCase(), block: rcpt.blockNumber,
      locator: `${tx.hash.toLowerCase()}:${rcpt.logs[0].index}`, tA, phase, retracted: false };
    this.changes.push(ch);
    if (c.status === 'cancelled') { this.certs = this.certs.filter((x) => x !== c); this.freshCert(); }
    return ch;
  }
}

// A steady stream of changes at the configured rate, until stopped.
class Stream {
  constructor(run) { this.run = run; this.running = null; }

  start(phase) {
    this.stop_ = false;
    this.running = (async () => {
      const gap = 1000 / this.run.o.rate;
      let next = now();
      while (!this.stop_) {
        await this.run.src.change(phase);
        next += gap;
        const w = next - now();
        if (w > 0) await sleep(w); else next = now();
      }
    })().catch((e) => { this.error = e; });
  }

  async stop() {
    this.stop_ = true;
    if (this.running) await this.running;
    this.running = null;
    if (this.error) throw new Error(`the source stream failed: ${this.error.message}`);
  }
}

// ---- the destination: events on registry B, as the test sees them arrive --------------

const IFACE = new ethers.Interface(chain.ABI);
const TOPIC = IFACE.getEvent('StatusChanged').topicHash;

function decodeEvents(logs, seenAt) {
  return logs.map((l) => {
    const e = IFACE.parseLog(l);
    return { cert: ethers.decodeBytes32String(e.args.certId), status: chain.STATUS[Number(e.args.status)],
      effective: Number(e.args.effective), version: Number(e.args.version),
      txHash: l.transactionHash.toLowerCase(), block: Number(l.blockNumber),
      logIndex: Number(l.logIndex), seenAt };
  });
}

async function getEvents(url, address, from, to) {
  const logs = await rpc(url, 'eth_getLogs', [{ address, topics: [TOPIC],
    fromBlock: ethers.toQuantity(from), toBlock: to === 'latest' ? to : ethers.toQuantity(to) }], 10000);
  return logs;
}

class Watcher {
  constructor(run) { this.run = run; this.events = []; this.last = 0; }

  start() {
    this.stop_ = false;
    this.running = (async () => {
      while (!this.stop_) {
        try { await this.poll(); } catch { /* B down: it comes back */ }
        await sleep(50);
      }
    })();
  }

  async poll() {
    const r = this.run;
    const head = Number(await rpc(r.B.url, 'eth_blockNumber', [], 1000));
    if (head <= this.last) return;
    const logs = await getEvents(r.B.url, r.regB, this.last + 1, head);
    this.events.push(...decodeEvents(logs, now()));
    this.last = head;
  }

  async stop() { this.stop_ = true; await this.running; }

  seen(ch) { return this.events.some((e) => e.cert === ch.cert && e.effective === ch.effective); }
}

// ---- the run -------------------------------------------------------------------------

class Run {
  constructor(o) {
    this.o = o;
    this.rand = rng(o.seed);
    this.t0 = now();
    this.notes = [];     // scenario results: {scenario, ok, detail}
    this.phases = [];    // {name, from, to}
    this.work = fs.mkdtempSync(path.join(process.env.TMPDIR || '/tmp', 'tb-chaos.'));
    this.logPath = path.join(this.work, 'relay.log');
    this.configPath = path.join(this.work, 'relay.json');
    this.store = path.join(this.work, 'relay.db');
  }

  note(scenario, ok, detail) {
    this.notes.push({ scenario, ok, detail });
    console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${scenario}: ${detail}`);
  }

  say(msg) { console.log(`[${((now() - this.t0) / 1000).toFixed(1)}s] ${msg}`); }

  async phase(name, fn) {
    this.say(`== ${name}`);
    const p = { name, from: now(), to: null };
    this.phases.push(p);
    try { return await fn(); } finally { p.to = now(); }
  }

  tb(args) {
    const r = cp.spawnSync(path.join(BUILD, 'tradebridge'), args,
      { env: { ...process.env, ...this.env }, encoding: 'utf8', maxBuffer: 256 << 20 });
    return { code: r.status, out: r.stdout || '', err: r.stderr || '' };
  }

  config(withRemoved) {
    const w = this.work;
    const nets = {
      'pe-cadena': { adapter: 'cadena', rpc: this.A.url, registry: this.regA, country: 'PE',
        confirmations: 0, timeout: '2s' },
      'cl-cadena': { adapter: 'cadena', rpc: this.B.url, registry: this.regB, country: 'CL',
        confirmations: 0, timeout: '2s', state_dir: path.join(w, 'cl-state') },
    };
    const routes = [{ from: 'pe-cadena', to: 'cl-cadena', types: ['cadena.aeo.status'],
      mapping: path.join(SRC, 'mappings', 'cadena-aeo.json'),
      reverse: path.join(SRC, 'mappings', 'cadena-aeo.json'), allow_missing: ['AEOCertificate.Holder'] }];
    const policies = { 'cl-cadena': { country: 'CL', types: ['aeo.status'],
      drop: ['AEOCertificate.IssuingAuthority'] } };
    if (withRemoved) { // co-cadena: a partner whose node never answers, so its rows wait
      nets['co-cadena'] = { adapter: 'cadena', rpc: `http://127.0.0.1:${this.deadPort}`,
        registry: this.regB, country: 'CO', confirmations: 0, timeout: '1s',
        state_dir: path.join(w, 'co-state') };
      routes.push({ ...routes[0], to: 'co-cadena' });
      policies['co-cadena'] = { country: 'CO', types: ['aeo.status'] };
    }
    const relay = { store: this.store, key_file: path.join(w, 'relay.key'), idle: '100ms',
      admin: `127.0.0.1:${this.adminPort}`, backoff_base: '200ms', backoff_max: '1s',
      max_attempts: 1000, wco_dir: path.join(SRC, 'mappings', 'wco') };
    if (this.o.resume === 'auto') relay.reorg_auto_resume = true;
    return { relay, networks: nets, routes, policies, mras: { PE: ['CL', 'CO', 'MX'] } };
  }

  writeConfig(text) {
    const tmp = `${this.configPath}.tmp`;
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, this.configPath);
  }

  async setup() {
    const [pa, pb] = [await freePort(), await freePort()];
    this.adminPort = await freePort();
    this.deadPort = await freePort(); // nothing listens there
    this.A = new Ganache(this.work, 'chain-a', pa, 1337);
    this.B = new Ganache(this.work, 'chain-b', pb, 1338);
    await Promise.all([this.A.start(), this.B.start()]);
    const deploy = async (url, i) => {
      const p = new ethers.JsonRpcProvider(url, undefined, { staticNetwork: true, pollingInterval: 50 });
      const f = new ethers.ContractFactory(chain.ABI, chain.bytecode(), chain.wallet(p, 0));
      const c = await f.deploy();
      await c.waitForDeployment();
      const reg = new ethers.Contract(await c.getAddress(), chain.ABI, chain.wallet(p, 0));
      await (i === 1 ? reg.addAdministration(chain.wallet(p, 1).address, 'PE')
        : reg.addRelayer(chain.wallet(p, 2).address)).then((t) => t.wait());
      return reg.getAddress();
    };
    this.regA = await deploy(this.A.url, 1);
    this.regB = await deploy(this.B.url, 2);
    const kg = this.tb(['keygen', '-o', path.join(this.work, 'relay.key')]);
    if (kg.code !== 0) throw new Error(`keygen: ${kg.err}`);
    for (const d of ['cl-state', 'co-state']) fs.mkdirSync(path.join(this.work, d));
    const prov = new ethers.JsonRpcProvider(this.B.url, undefined, { staticNetwork: true });
    this.token = `chaos-${ethers.hexlify(ethers.randomBytes(16)).slice(2)}`;
    this.env = { TRADEBRIDGE_ADAPTER_PATH: path.join(BUILD, 'adapters', 'cadena', '.libs'),
      TRADEBRIDGE_CL_CADENA_KEY: chain.wallet(prov, 2).privateKey,
      TRADEBRIDGE_CO_CADENA_KEY: chain.wallet(prov, 3).privateKey,
      TRADEBRIDGE_ADMIN_TOKEN: this.token };
    this.goodConfig = JSON.stringify(this.config(this.o.on.has('remove-network')), null, 1);
    this.writeConfig(this.goodConfig);
    const cc = this.tb(['check-config', '-c', this.configPath]);
    if (cc.code !== 0) throw new Error(`check-config: ${cc.out}${cc.err}`);
    this.relay = new Relay(this);
    this.src = new Source(this);
    await this.src.connect();
    this.stream = new Stream(this);
    this.watch = new Watcher(this);
    this.watch.start();
  }

  async metrics() {
    try {
      const r = await fetch(`http://127.0.0.1:${this.adminPort}/metrics`,
        { headers: { authorization: `Bearer ${this.token}` }, signal: AbortSignal.timeout(3000) });
      return r.ok ? await r.text() : null;
    } catch { return null; }
  }

  // Bring the relay back if it died by itself (noted: the oracle reports it).
  async keepUp() {
    if (!this.relay.alive()) { this.relay.start(); await sleep(300); }
  }

  // Wait until every change still expected at B is seen there; false at the deadline.
  async settled(ms) {
    const end = now() + ms;
    while (now() < end) {
      await this.keepUp();
      if (this.src.changes.every((c) => c.retracted || this.watch.seen(c))) return true;
      await sleep(200);
    }
    return false;
  }

  async cleanup() {
    await this.stream.stop().catch(() => {});
    if (this.watch) await this.watch.stop().catch(() => {});
    if (this.relay) await stopGroup(this.relay.child, 'SIGKILL');
    if (this.src && this.src.provider) this.src.provider.destroy();
    for (const g of [this.A, this.B]) if (g) await g.stop().catch(() => {});
    if (this.o.keep !== '1') fs.rmSync(this.work, { recursive: true, force: true });
    else console.log(`work directory kept: ${this.work}`);
  }
}

// ---- what the store says (read-only, beside the running relay) -----------------------

function storeRows(run) {
  const r = cp.spawnSync('sqlite3', ['-readonly', '-cmd', '.timeout 5000', run.store,
    "SELECT destination || '|' || state || '|' || count(*) FROM outbox GROUP BY destination, state"],
  { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sqlite3 ${run.store}: ${r.stderr || r.error}`);
  const out = {};
  for (const l of r.stdout.split('\n').filter(Boolean)) {
    const [dest, state, n] = l.split('|');
    (out[dest] = out[dest] || {})[state] = Number(n);
  }
  return out;
}

const pendingTotal = (rows) => Object.values(rows).reduce((s, x) => s + (x.pending || 0), 0);

function receipts(run) {
  const r = run.tb(['receipts', 'list', '--json', '-s', run.store]);
  if (r.code !== 0) throw new Error(`receipts list: ${r.err}`);
  return r.out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

// ---- scenarios ------------------------------------------------------------------------

const between = (run, [a, b]) => a + Math.floor(run.rand() * (b - a + 1));

// Arm a fault point and let the relay reach it: it dies there as kill -9 would.
async function faultKill(run, point) {
  const rl = run.relay;
  if (rl.alive()) { rl.child.expectedExit = 'restart to arm a fault point'; await rl.term(); }
  rl.start({ TRADEBRIDGE_TEST_FAULT: point });
  rl.child.expectedExit = `fault point ${point}`;
  const from = now();
  await waitExit(rl.child, 30000);
  const fired = rl.child.signalCode === 'SIGKILL' &&
    rl.lines.some((l) => l.t >= from && l.text.includes(`test fault point ${point} reached`));
  if (fired) rl.faultKills.push(point);
  else await stopGroup(rl.child, 'SIGKILL');
  run.note('fault-window', fired, fired ? `killed at ${point} (between journal and send)`
    : `fault point ${point} was not reached within 30 s: is it still in the write path?`);
  rl.start();
}

async function killsPhase(run) {
  const o = run.o;
  const plan = o.on.has('kills') ? Array(o.kills).fill('kill') : [];
  if (o.on.has('fault-window')) {
    plan.splice(0, 0, 'evm.nonce-spent');
    plan.splice(Math.ceil(plan.length / 2), 0, 'evm.before-send');
  }
  const end = now() + o.stream * 1000; // at least this long, however many kills
  for (const step of plan) {
    await sleep(between(run, o.killGap));
    await run.keepUp();
    if (step !== 'kill') { await faultKill(run, step); continue; }
    await run.relay.kill9();
    await sleep(between(run, [0, 300]));
    run.relay.start();
  }
  if (now() < end) await sleep(end - now());
}

async function outagePhase(run) {
  await sleep(2000);
  run.say(`   chain B stops for ${run.o.outage} s`);
  const from = now();
  await run.B.stop();
  await sleep(run.o.outage * 1000);
  await run.B.start();
  run.B.down.push([from, now()]);
  run.say('   chain B is back, same port and state');
  await sleep(3000);
}

// After a SIGHUP: the relay's first line about it, or its exit (null after ms).
async function hupAnswer(run, from, ms) {
  const end = now() + ms;
  const about = /SIGHUP|configuration|relay\.json/i;
  while (now() < end) {
    const l = run.relay.lines.find((x) => x.t >= from && !x.text.startsWith('[chaos]') && about.test(x.text));
    if (l || !run.relay.alive()) return l || { text: '(exited)' };
    await sleep(100);
  }
  return null;
}

async function removeNetworkPhase(run) {
  const rows = storeRows(run)['co-cadena'] || {};
  run.writeConfig(JSON.stringify(run.config(false), null, 1));
  run.goodConfig = fs.readFileSync(run.configPath, 'utf8');
  const from = now();
  run.relay.hup();
  const said = await hupAnswer(run, from, 90000);
  if (!said) run.note('remove-network', false, 'no answer to SIGHUP within 90 s');
  await sleep(3000);
  run.note('remove-network', (rows.pending || 0) > 0, `${rows.pending || 0} rows for co-cadena ` +
    'were pending when SIGHUP removed it (their fate is judged at the end)');
  run.removed = 'co-cadena';
}

async function brokenSighupPhase(run) {
  const good = run.goodConfig;
  run.writeConfig(good.slice(0, Math.floor(good.length / 2))); // a half-written file
  const from = now();
  run.relay.hup();
  const said = await hupAnswer(run, from, 90000);
  await sleep(2000);
  const alive = run.relay.alive();
  const x = run.relay.exits[run.relay.exits.length - 1];
  run.note('broken-sighup', alive && !!said, alive
    ? `still running on the old configuration; it said: ${said ? said.text : '(nothing within 90 s)'}`
    : `the relay stopped with exit code ${x && x.code}, signal ${x && x.signal}; it said: ${said ? said.text : '(nothing)'}`);
  run.writeConfig(good);
  await run.keepUp();
}

async function reorgPhase(run) {
  const o = run.o;
  await run.stream.stop();
  if (!(await run.settled(90000))) run.say('   (not everything had reached B before the re-org)');
  const snapBlock = Number(await rpc(run.A.url, 'eth_blockNumber'));
  const snap = await rpc(run.A.url, 'evm_snapshot');
  const model = run.src.snapshot();
  const dropped = [];
  for (let i = 0; i < o['reorg-depth']; i++) dropped.push(await run.src.change('reorg-dropped', true));
  const end = now() + 60000; // let them reach B, so their receipts must be retracted
  while (now() < end && !dropped.every((c) => run.watch.seen(c))) { await run.keepUp(); await sleep(200); }
  if (!(await rpc(run.A.url, 'evm_revert', [snap]))) throw new Error('evm_revert refused');
  const at = now();
  for (const c of dropped) { c.retracted = true; c.retractedAt = at; }
  run.src.restore(model);
  await run.src.resync();
  for (let i = 0; i < o['reorg-depth'] + 3; i++) await run.src.change('reorg-new');
  run.say(`   A re-organised from block ${snapBlock}: ${dropped.length} changes dropped ` +
    `(${dropped.filter((c) => run.watch.seen(c)).length} already at B), a longer chain mined`);
  const hash2 = /0x[0-9a-fA-F]{64}[^]*0x[0-9a-fA-F]{64}/;
  let line = null;
  const until = now() + 20000;
  while (now() < until && !line) {
    line = run.relay.lines.find((l) => l.t >= at && /re-?org/i.test(l.text) && hash2.test(l.text));
    await sleep(200);
  }
  run.note('reorg', !!line, line ? `detected and logged: ${line.text.slice(0, 200)}`
    : 'no log line naming the re-org and both block hashes within 20 s');
  if (o.resume !== 'auto') { // ingest holds for the operator: nothing of the new chain yet
    await sleep(3000);
    const early = run.src.changes.filter((c) => c.phase === 'reorg-new' && run.watch.seen(c));
    run.note('reorg', early.length === 0, early.length ? `${early.length} changes of the new chain ` +
      'were delivered before the operator moved the cursor' : 'ingest held until the operator moved the cursor');
  }
  await resume(run, snapBlock);
  run.stream.start('after-reorg');
  await sleep(3000);
}

async function resume(run, block) {
  if (run.o.resume === 'auto') return;
  const args = run.o.resume.split(/\s+/).map((a) => a.replace('{network}', 'pe-cadena')
    .replace('{block}', String(block)).replace('{config}', run.configPath).replace('{store}', run.store));
  const r = run.tb(args);
  run.note('reorg', r.code === 0, `tradebridge ${args.join(' ')}: exit ${r.code}` +
    `${(r.out + r.err).trim() ? `: ${(r.out + r.err).trim().split('\n')[0]}` : ''}`);
}

// A stretch without faults: outside latency next to the relay's own histogram.
async function calmPhase(run) {
  await run.stream.stop();
  await run.settled(60000);
  const pid = run.relay.child.pid;
  const m0 = await run.metrics();
  const first = run.src.changes.length;
  const gap = 1000 / run.o.rate;
  for (let i = 0; i < run.o.calm; i++) { await run.src.change('calm'); await sleep(gap); }
  await run.settled(60000);
  const m1 = await run.metrics();
  run.calm = { changes: run.src.changes.slice(first).map((c) => c.i),
    metric: run.relay.child.pid === pid ? { before: m0, after: m1 } : null };
}

async function drainPhase(run) {
  const tLast = Math.max(...run.src.changes.map((c) => c.tA));
  const end = now() + run.o.drain * 1000;
  let drained = false;
  while (now() < end && !drained) {
    await run.keepUp();
    const seenAll = run.src.changes.every((c) => c.retracted || run.watch.seen(c));
    drained = seenAll && pendingTotal(storeRows(run)) === 0;
    if (!drained) await sleep(1000);
  }
  run.drain = { drained, ms: drained ? now() - tLast : null };
  run.say(drained ? `   drained ${((now() - tLast) / 1000).toFixed(1)} s after the last change`
    : `   NOT drained ${run.o.drain} s after the last change`);
}

// ---- facts for the oracle ----------------------------------------------------------------

async function facts(run) {
  const a = decodeEvents(await getEvents(run.A.url, run.regA, 0, 'latest'), null);
  const seen = new Map(run.watch.events.map((e) => [`${e.txHash}:${e.logIndex}`, e.seenAt]));
  const b = decodeEvents(await getEvents(run.B.url, run.regB, 0, 'latest'), null)
    .map((e) => ({ ...e, seenAt: seen.get(`${e.txHash}:${e.logIndex}`) || null }));
  const stop = await run.relay.term();
  const v = run.tb(['receipts', 'verify', '-k', path.join(run.work, 'relay.key'), '-s', run.store]);
  const dl = run.tb(['dead-letters', 'list', '--json', '-s', run.store]);
  return {
    options: run.o, changes: run.src.changes, aEvents: a, bEvents: b, receipts: receipts(run),
    verify: { code: v.code, text: (v.out + v.err).trim() },
    deadLetters: dl.code === 0 ? JSON.parse(dl.out || '[]') : null, deadLettersError: dl.err,
    outbox: storeRows(run), removed: run.removed || null, watched: 'cl-cadena',
    relay: { lines: run.relay.lines, up: run.relay.up, exits: run.relay.exits, kills: run.relay.kills,
      faultKills: run.relay.faultKills, finalStop: stop },
    notes: run.notes, drain: run.drain, calm: run.calm, t0: run.t0, tEnd: now(),
    bDown: run.B.down,
  };
}

// ---- main ------------------------------------------------------------------------------

async function chaos(run) {
  const o = run.o;
  await run.phase('setup: two ganache chains, registries, relay', () => run.setup());
  run.relay.start();
  run.stream.start('stream');
  await run.phase('stream with kill -9 (random and at the fault points)', () => killsPhase(run));
  if (o.on.has('outage')) await run.phase('destination outage', () => outagePhase(run));
  if (o.on.has('remove-network')) await run.phase('network removed by SIGHUP', () => removeNetworkPhase(run));
  if (o.on.has('broken-sighup')) await run.phase('broken configuration on SIGHUP', () => brokenSighupPhase(run));
  if (o.on.has('reorg')) await run.phase('deep re-org at the source', () => reorgPhase(run));
  await run.phase('calm stretch (latency)', () => calmPhase(run));
  await run.phase('drain', () => drainPhase(run));
  return facts(run);
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  console.log(`chaos: seed ${o.seed} (repeat with --seed=${o.seed}); ${o.certs} certificates, ` +
    `${o.rate} changes/s, ${o.kills} random kills, outage ${o.outage} s, re-org depth ${o['reorg-depth']}`);
  const why = Object.fromEntries(o['not-enabled'].split(';').filter(Boolean).map((x) => x.split(/:(.*)/s)));
  for (const s of SCENARIOS)
    console.log(o.on.has(s) ? `  scenario ${s}: enabled`
      : `  scenario ${s}: NOT YET ENABLED${why[s] ? ` (${why[s]})` : ''}`);
  const run = new Run(o);
  const bail = () => { run.cleanup().finally(() => process.exit(2)); };
  process.on('SIGINT', bail);
  process.on('SIGTERM', bail);
  let code = 2;
  try {
    const f = await chaos(run);
    const verdict = oracle.judge(f);
    console.log(verdict.text);
    if (o.keep === '1') fs.writeFileSync(path.join(run.work, 'facts.json'), JSON.stringify(f));
    code = verdict.failures.length ? 1 : 0;
  } catch (e) {
    console.error(`chaos: ${e.stack || e}`);
    if (fs.existsSync(run.logPath)) console.error(`--- relay log (last lines):\n${
      fs.readFileSync(run.logPath, 'utf8').split('\n').slice(-20).join('\n')}`);
  } finally {
    await run.cleanup();
  }
  process.exit(code);
}

main();
