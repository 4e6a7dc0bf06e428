// The chaos run's oracle: from what the chains hold, the receipt log, the dead
// letters, the outbox states and the relay's log lines (never from the relay's own
// counters) it decides whether every change made at the source reached the
// destination exactly once and in order, or has a receipt saying exactly why not.
// judge() is a pure function of the facts tests/relay/chaos.js collected, so a
// saved facts.json (--keep=1) can be judged again.
// Invariant: every failure names the change, certificate or window it is about.
'use strict';

const BANNER = /relay running|admin API (on port|off)|configuration reloaded|^tradebridge run: stopped|^\[chaos\]/;
const EXPLAINS = { superseded: 'superseded', retracted: 'retracted-at-source' };

const lc = (s) => String(s || '').toLowerCase();
const keyOf = (cert, effective) => `${cert}@${effective}`;

function quantiles(xs) {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  return { n: s.length, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: s[s.length - 1] };
}

const fmtQ = (q) => (q ? `n=${q.n} p50 ${q.p50} ms, p90 ${q.p90} ms, p99 ${q.p99} ms, max ${q.max} ms`
  : 'no samples');

// Prometheus histogram buckets -> {le: cumulative count}
function histogram(text, name) {
  const out = new Map();
  if (!text) return out;
  const re = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)`, 'gm');
  for (let m; (m = re.exec(text));) out.set(m[1], Number(m[2]));
  return out;
}

// Quantiles of the histogram difference after - before, as bucket upper bounds.
function metricQuantiles(before, after) {
  const name = 'tradebridge_delivery_latency_seconds';
  const h0 = histogram(before, name);
  const h1 = histogram(after, name);
  if (h1.size === 0) return null;
  const les = [...h1.keys()];
  const cum = les.map((le) => h1.get(le) - (h0.get(le) || 0));
  const n = cum[cum.length - 1];
  if (!n) return { n: 0 };
  const at = (p) => { const i = cum.findIndex((c) => c >= p * n); return les[i] === '+Inf' ? '+Inf' : `<= ${Number(les[i]) * 1000}`; };
  return { n, p50: at(0.5), p90: at(0.9), p99: at(0.99) };
}

class Verdict {
  constructor() { this.failures = []; this.fig = {}; }

  fail(what, detail, limit = 8) {
    let f = this.failures.find((x) => x.what === what);
    if (!f) this.failures.push(f = { what, n: 0, examples: [] });
    f.n++;
    if (f.examples.length < limit) f.examples.push(detail);
  }
}

// Our own record of what we did must agree with chain A (else the test is wrong).
function checkSource(f, v) {
  const onA = new Map(f.aEvents.map((e) => [keyOf(e.cert, e.effective), e]));
  for (const c of f.changes) {
    const e = onA.get(keyOf(c.cert, c.effective));
    if (!c.retracted && !e) v.fail('source: a change the test made is not on chain A', c.locator);
    if (c.retracted && e) v.fail('source: a re-organised-away change is still on chain A', c.locator);
  }
  const made = new Set(f.changes.map((c) => keyOf(c.cert, c.effective)));
  for (const e of f.aEvents)
    if (!made.has(keyOf(e.cert, e.effective))) v.fail('source: chain A holds a change the test did not make', e.txHash);
}

function receiptsByLocator(f) {
  const m = new Map();
  for (const r of f.receipts) {
    if (r.destination.network !== f.watched) continue;
    const k = lc(r.source.locator);
    if (!m.has(k)) m.set(k, []);
    m.get(k).push(r);
  }
  return m;
}

// One change at the destination: delivered once, or not there with a reason.
function judgeChange(c, evs, rs, v, t) {
  const confirmed = rs.filter((r) => r.destination.status === 'confirmed');
  const has = (status) => rs.some((r) => r.destination.status === status);
  const what = `${c.cert} ${c.action} (change ${c.i}, ${c.locator})`;
  if (evs.length > 1) { t.duplicates++; v.fail('duplicate: a change took effect at the destination more than once', `${what}: ${evs.length} events`); }
  if (evs.length >= 1) {
    t.delivered++;
    if (confirmed.length !== 1) v.fail('receipts: a delivered change needs exactly one confirmed receipt', `${what}: ${confirmed.length}`);
    for (const r of confirmed)
      if (!r.destination.txref.startsWith('present:') && !evs.some((e) => e.txHash === lc(r.destination.txref)))
        v.fail('receipts: the confirmed receipt names a transaction that is not the event', `${what}: ${r.destination.txref}`);
    if (c.retracted) {
      t.retractedDelivered++;
      if (!has(EXPLAINS.retracted)) v.fail('retracted: delivered, then re-organised away at the source, without a retracted-at-source receipt', what);
    }
    if (evs[0].seenAt && !c.retracted) t.latency.push(evs[0].seenAt - c.tA);
    return;
  }
  if (confirmed.length) v.fail('lie: receipted as confirmed but never took effect at the destination', `${what}: txref ${confirmed[0].destination.txref}`);
  if (c.retracted) { t.retractedNever++; return; }
  if (has(EXPLAINS.superseded)) { t.superseded++; return; }
  t.lost++;
  v.fail('lost: neither at the destination nor explained by a receipt', `${what}${confirmed.length ? ' (a confirmed receipt lies)' : ''}`);
}

function checkDestination(f, v, t) {
  const byKey = new Map();
  for (const e of f.bEvents) {
    const k = keyOf(e.cert, e.effective);
    if (!byKey.has(k)) byKey.set(k, []);
    byKey.get(k).push(e);
  }
  const rl = receiptsByLocator(f);
  const made = new Set();
  for (const c of f.changes) {
    const k = keyOf(c.cert, c.effective);
    made.add(k);
    const evs = (byKey.get(k) || []).filter((e) => e.status === c.status);
    judgeChange(c, evs, rl.get(lc(c.locator)) || [], v, t);
  }
  for (const e of f.bEvents)
    if (!made.has(keyOf(e.cert, e.effective))) v.fail('phantom: the destination holds a change the source never made', `${e.cert} ${e.status} effective ${e.effective} (${e.txHash})`);
  // in order: per certificate, the destination's events follow the source's order
  const per = new Map();
  for (const e of [...f.bEvents].sort((a, b) => a.block - b.block || a.logIndex - b.logIndex)) {
    const last = per.get(e.cert);
    if (last && e.effective < last.effective) {
      t.outOfOrder++;
      v.fail('order: a certificate\'s changes reached the destination out of order', `${e.cert}: effective ${e.effective} after ${last.effective}`);
    }
    per.set(e.cert, e);
  }
}

function checkStore(f, v, t) {
  if (f.verify.code !== 0) v.fail('receipts verify failed', f.verify.text);
  for (const [dest, st] of Object.entries(f.outbox))
    if (st.pending) v.fail('pending: outbox rows still pending at the end', `${dest}: ${st.pending}`);
  if (!f.deadLetters) { v.fail('dead letters could not be listed', f.deadLettersError); return; }
  for (const d of f.deadLetters) {
    if (d.destination === f.removed) {
      t.deadRemoved++;
      if (!d.reason || !d.reason.includes(f.removed)) v.fail('dead letter of the removed network does not say why', `row ${d.id}: "${d.reason}"`);
    } else if (/re-?org/i.test(d.reason || '')) {
      t.deadRetracted++; // a pending row of a record from a dropped block: retired, with why
    } else {
      t.deadOther++;
      v.fail('dead letter for a network that was always there (a deliverable change given up)', `row ${d.id} ${d.destination}: ${d.reason}`);
    }
  }
  if (t.deadRetracted > t.retractedNever)
    v.fail('dead letters citing a re-org outnumber the re-organised-away changes never delivered', `${t.deadRetracted} > ${t.retractedNever}`);
  if (f.removed && t.deadRemoved === 0 && !(f.outbox[f.removed] || {}).delivered)
    v.fail('the removed network\'s pending rows did not become dead letters', f.removed);
}

function checkRelayProcess(f, v) {
  for (const x of f.relay.exits)
    if (!x.expected) v.fail('the relay stopped by itself', `exit code ${x.code}, signal ${x.signal} at +${((x.t - f.t0) / 1000).toFixed(1)} s`);
  const s = f.relay.finalStop;
  if (!s || s.code !== 0) v.fail('SIGTERM at the end did not stop the relay with exit 0', JSON.stringify(s));
  for (const n of f.notes) if (!n.ok) v.fail(`scenario ${n.scenario}`, n.detail);
}

// When was each change no longer owed to the destination?
function resolvedAt(c, evs, rs) {
  const seen = evs.map((e) => e.seenAt).filter(Boolean);
  if (seen.length) return Math.min(...seen);
  if (c.retracted) return c.retractedAt;
  const sup = rs.find((r) => r.destination.status === EXPLAINS.superseded);
  return sup ? Date.parse(sup.time) + 999 : Infinity;
}

// A stall: changes owed and nothing arriving for stall seconds within one life of
// the relay process (a restarted relay must notice a stall by itself). Every stall
// must have left at least one log line of that process (start-up banners and the
// test's own fault points do not count).
function checkStalls(f, v, t) {
  const byKey = new Map();
  for (const e of f.bEvents) {
    const k = keyOf(e.cert, e.effective);
    byKey.set(k, [...(byKey.get(k) || []), e]);
  }
  const rl = receiptsByLocator(f);
  const owed = f.changes.map((c) => [c.tA, resolvedAt(c, byKey.get(keyOf(c.cert, c.effective)) || [], rl.get(lc(c.locator)) || [])]);
  const progress = [...f.bEvents.map((e) => e.seenAt).filter(Boolean), ...owed.map((o) => o[1]).filter(Number.isFinite)].sort((a, b) => a - b);
  const lines = f.relay.lines.filter((l) => !BANNER.test(l.text) && !l.text.includes('test fault point')).map((l) => l.t);
  for (const [s, e] of f.relay.up) {
    const to = Math.min(e || f.tEnd, f.tEnd);
    for (const [from, end] of windows(s, to, owed, progress))
      if (end - from >= f.options.stall * 1000) {
        t.stalls++;
        if (!lines.some((x) => x >= from && x <= end + 500)) v.fail('silent stall: nothing arrived, changes were owed, and the relay logged nothing', `from +${((from - f.t0) / 1000).toFixed(1)} s to +${((end - f.t0) / 1000).toFixed(1)} s`);
      }
  }
}

// Maximal stretches of [a, b] (100 ms steps) with something owed and no progress.
function windows(a, b, owed, progress) {
  const out = [];
  let from = null;
  let p = progress.findIndex((x) => x > a);
  if (p < 0) p = progress.length;
  for (let x = a; x <= b; x += 100) {
    let moved = false;
    while (p < progress.length && progress[p] <= x) { p++; moved = true; }
    const due = owed.some(([c, r]) => c <= x && r > x);
    if (due && !moved && from === null) from = x;
    else if ((!due || moved) && from !== null) { out.push([from, x]); from = null; }
  }
  if (from !== null) out.push([from, b]);
  return out;
}

function judge(f) {
  const v = new Verdict();
  const t = { delivered: 0, duplicates: 0, superseded: 0, lost: 0, retractedDelivered: 0, retractedNever: 0,
    outOfOrder: 0, deadRemoved: 0, deadRetracted: 0, deadOther: 0, stalls: 0, latency: [] };
  checkSource(f, v);
  checkDestination(f, v, t);
  checkStore(f, v, t);
  checkRelayProcess(f, v);
  checkStalls(f, v, t);
  const calmSet = new Set(f.calm ? f.calm.changes : []);
  const calmLat = [];
  for (const c of f.changes) {
    if (!calmSet.has(c.i)) continue;
    const e = f.bEvents.find((x) => x.cert === c.cert && x.effective === c.effective && x.seenAt);
    if (e) calmLat.push(e.seenAt - c.tA);
  }
  const metric = f.calm && f.calm.metric ? metricQuantiles(f.calm.metric.before, f.calm.metric.after) : null;
  const retracted = f.changes.filter((c) => c.retracted).length;
  const out = [
    '== chaos figures (from chains A and B, the receipt log, dead letters, the outbox and the log)',
    `changes at the source     ${f.changes.length} (${retracted} re-organised away)`,
    `kills                     ${f.relay.kills} kill -9, ${f.relay.faultKills.length} at fault points (${f.relay.faultKills.join(', ') || 'none'})`,
    `delivered                 ${t.delivered}`,
    `superseded (receipted)    ${t.superseded}`,
    `retracted at source       ${t.retractedDelivered} delivered then retracted, ${t.retractedNever} never delivered`,
    `dead letters              ${t.deadRemoved} of the removed network${f.removed ? ` (${f.removed})` : ''}, ${t.deadRetracted} retired by the re-org, ${t.deadOther} other`,
    `lost                      ${t.lost} (must be 0)`,
    `duplicates                ${t.duplicates} (must be 0)`,
    `out of order              ${t.outOfOrder} (must be 0)`,
    `stalls >= ${f.options.stall} s            ${t.stalls} (each must have left a log line)`,
    `time to drain             ${f.drain && f.drain.drained ? `${(f.drain.ms / 1000).toFixed(1)} s after the last change` : 'did not drain'}`,
    `latency A -> B, measured  all: ${fmtQ(quantiles(t.latency))}`,
    `                          calm: ${fmtQ(quantiles(calmLat))} (test clock, 50 ms polling)`,
    `latency, relay's metric   calm: ${metric ? (metric.n ? `n=${metric.n} p50 ${metric.p50} ms, p90 ${metric.p90} ms, p99 ${metric.p99} ms` : 'n=0') : 'not available (no admin API answer or the relay restarted)'}`,
  ];
  if (v.failures.length === 0) out.push('chaos: PASS');
  else {
    out.push(`chaos: FAIL (${v.failures.length} kinds of failure)`);
    for (const x of v.failures) out.push(`  - ${x.what}: ${x.n}\n      ${x.examples.join('\n      ')}`);
  }
  return { failures: v.failures, figures: t, text: out.join('\n') };
}

module.exports = { judge, quantiles, metricQuantiles };

// node chaos_oracle.js facts.json: judge a kept run again (chaos.js --keep=1 writes it)
if (require.main === module) {
  const v = judge(JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8')));
  console.log(v.text);
  process.exit(v.failures.length ? 1 : 0);
}
