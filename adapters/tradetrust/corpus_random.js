// Shared by oa_corpus.js and oa3_corpus.js: a seeded generator (mulberry32) so one
// seed gives the same document shapes in both (salts stay random), and the pool of
// awkward strings every corpus draws from.
"use strict";

function generator(seed) {
  seed >>>= 0;
  function rnd() {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const int = (n) => Math.floor(rnd() * n);
  return { rnd, pick, int };
}

const STRINGS = ["", "a", "Café", "naïve ✓", "emoji 😀", "quote \" back \\ slash", "tab\tnl\n",
  "\u0001ctl", "/slash/", "𝄞 music", "日本語", "0x1234", "1e21", "  spaces  ", "\u2028sep"];

module.exports = { generator, STRINGS };
