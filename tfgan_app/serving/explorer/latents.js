// tfgan latents in the browser: the page's seed -> latent is the library's `sample_latents(1, dim, seed)`
// (tfgan_app/latent.py), so a seed gives the same image in the page, `tfgan generate --seed` and the
// server's generate_png(seed).
//
// `sample_latents` is `tf.random.stateless_normal(shape, seed=[seed, 0x5EED])` on CPU: TensorFlow's
// Philox4x32-10 counter-based generator (key and counter derived from the seed pair by one Philox call,
// as StatelessRandomGetKeyCounter does) and Box-Muller in float32, four normals per Philox block.
// Reproduced here with 32-bit integer arithmetic; floats agree with TensorFlow to float32 rounding of
// log / sin / cos (tests/test_explorer_web.py compares them).
"use strict";

(function (root) {
  const M0 = 0xd2511f53;
  const M1 = 0xcd9e8d57;
  const W0 = 0x9e3779b9;
  const W1 = 0xbb67ae85;
  const SEED_SALT = 0x5eed; // tfgan_app/latent.py: the second seed word

  // High and low 32 bits of the 64-bit product a * b (a, b uint32).
  function mulhilo(a, b) {
    const aHi = a >>> 16, aLo = a & 0xffff, bHi = b >>> 16, bLo = b & 0xffff;
    const lo = Math.imul(a, b) >>> 0;
    const cross = aHi * bLo + aLo * bHi; // < 2^33, exact in a double
    const hi = (aHi * bHi + Math.floor((cross + ((aLo * bLo) >>> 16)) / 65536)) >>> 0;
    return [hi, lo];
  }

  // Philox4x32 with 10 rounds: 4 uint32 of `counter` (4 uint32) under `key` (2 uint32).
  function philox(counter, key) {
    let [c0, c1, c2, c3] = counter;
    let [k0, k1] = key;
    for (let round = 0; round < 10; round++) {
      const [hi0, lo0] = mulhilo(M0, c0);
      const [hi1, lo1] = mulhilo(M1, c2);
      [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    return [c0, c1, c2, c3];
  }

  // Key and starting counter of stateless ops for the seed pair (seed, SEED_SALT), both int64.
  function keyCounter(seed) {
    const lo = seed >>> 0;
    const hi = seed < 0 ? 0xffffffff : Math.floor(seed / 4294967296) >>> 0;
    const mix = philox([lo, hi, SEED_SALT, 0], [0x3ec8f720, 0x02461e29]);
    return { key: [mix[0], mix[1]], counter: [0, 0, mix[2], mix[3]] };
  }

  // The counter advanced by `n` blocks (128-bit addition).
  function skip(counter, n) {
    const out = counter.slice();
    let carry = n;
    for (let i = 0; i < 4 && carry > 0; i++) {
      const sum = out[i] + carry;
      out[i] = sum >>> 0;
      carry = Math.floor(sum / 4294967296);
    }
    return out;
  }

  const f32 = Math.fround;
  // TensorFlow's Uint32ToFloat: 23 random mantissa bits as a float in [0, 1).
  function uint32ToFloat(x) {
    return f32(((x & 0x7fffff) / 8388608));
  }

  // Two normals from two uint32 (TensorFlow's BoxMullerFloat, float32 arithmetic).
  function boxMuller(x0, x1) {
    let u1 = uint32ToFloat(x0);
    if (u1 < f32(1.0e-7)) u1 = f32(1.0e-7);
    const v1 = f32(2.0 * Math.PI * uint32ToFloat(x1));
    const u2 = f32(Math.sqrt(f32(-2.0 * f32(Math.log(u1)))));
    return [f32(f32(Math.sin(v1)) * u2), f32(f32(Math.cos(v1)) * u2)];
  }

  // `[num * dim]` float32 standard normals: `sample_latents(num, dim, seed)` flattened row-major.
  function sampleLatents(num, dim, seed) {
    const total = num * dim;
    const values = new Float32Array(total);
    const { key, counter } = keyCounter(seed);
    for (let block = 0; 4 * block < total; block++) {
      const bits = philox(skip(counter, block), key);
      const normals = boxMuller(bits[0], bits[1]).concat(boxMuller(bits[2], bits[3]));
      for (let j = 0; j < 4 && 4 * block + j < total; j++) values[4 * block + j] = normals[j];
    }
    return values;
  }

  root.tfganLatents = { sampleLatents: sampleLatents, philox: philox };
})(typeof window !== "undefined" ? window : globalThis);
