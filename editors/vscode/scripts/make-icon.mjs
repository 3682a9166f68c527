// Draws images/icon.png (128x128): a white shield on a green rounded square, with a green
// hourglass inside: "guarding the await". Plain Node (zlib), 4x4 supersampling.
//
//   node scripts/make-icon.mjs

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const SIZE = 128;
const SS = 4;
const GREEN = [12, 75, 51];
const LIGHT = [68, 183, 139];
const WHITE = [250, 250, 247];

function roundedSquare(x, y) {
  const r = 0.2, h = 1 - r;
  const dx = Math.max(Math.abs(x) - h, 0), dy = Math.max(Math.abs(y) - h, 0);
  return Math.hypot(dx, dy) <= r;
}

// Shield in [-1,1]^2: flat top with a notch curve, straight sides, pointed bottom.
function shield(x, y, s) {
  const u = x / s, v = (y + 0.78 * s) / (1.58 * s); // v: 0 at top, 1 at the point
  if (v < 0 || v > 1) return false;
  const top = 0.06 * Math.cos(u * Math.PI / 2); // the top edge dips toward the middle
  if (v < top) return false;
  const w = v < 0.45 ? 0.78 : 0.78 * Math.pow(1 - (v - 0.45) / 0.55, 0.75);
  return Math.abs(u) <= w;
}

function hourglass(x, y) {
  const top = -0.42, bottom = 0.46, mid = (top + bottom) / 2, half = (bottom - top) / 2;
  if (y < top || y > bottom) return null;
  const d = Math.abs(y - mid) / half; // 0 at the waist, 1 at the caps
  if (d > 0.86) return Math.abs(x) <= 0.42 ? 'cap' : null; // caps
  const w = 0.06 + 0.28 * d;
  if (Math.abs(x) > w + 0.05) return null;
  if (Math.abs(x) > w) return 'frame';
  // sand: the lower bulb is full, the upper one half empty
  if (y > mid + 0.03 || (y < mid && y > mid - 0.5 * half * 0.6)) return 'sand';
  return 'glass';
}

function pixel(px, py) {
  let acc = [0, 0, 0, 0];
  for (let sy = 0; sy < SS; sy++) {
    for (let sx = 0; sx < SS; sx++) {
      const x = ((px + (sx + 0.5) / SS) / SIZE) * 2 - 1;
      const y = ((py + (sy + 0.5) / SS) / SIZE) * 2 - 1;
      let c = null;
      if (roundedSquare(x, y)) {
        c = GREEN;
        if (shield(x, y, 0.8)) {
          c = WHITE;
          const h = hourglass(x, y);
          if (h === 'cap' || h === 'frame') c = GREEN;
          else if (h === 'sand') c = LIGHT;
        }
      }
      if (c) {
        acc[0] += c[0]; acc[1] += c[1]; acc[2] += c[2]; acc[3] += 255;
      }
    }
  }
  const n = SS * SS, a = acc[3] / n;
  if (a === 0) return [0, 0, 0, 0];
  return [acc[0] / (acc[3] / 255), acc[1] / (acc[3] / 255), acc[2] / (acc[3] / 255), a].map(Math.round);
}

const raw = Buffer.alloc((SIZE * 4 + 1) * SIZE);
for (let y = 0; y < SIZE; y++) {
  raw[y * (SIZE * 4 + 1)] = 0; // filter: none
  for (let x = 0; x < SIZE; x++) {
    const p = pixel(x, y);
    for (let i = 0; i < 4; i++) raw[y * (SIZE * 4 + 1) + 1 + x * 4 + i] = p[i];
  }
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(SIZE, 0);
ihdr.writeUInt32BE(SIZE, 4);
ihdr[8] = 8; // bit depth
ihdr[9] = 6; // RGBA
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', ihdr),
  chunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
  chunk('IEND', Buffer.alloc(0)),
]);
const out = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'images', 'icon.png');
fs.writeFileSync(out, png);
console.log(`wrote ${out} (${png.length} bytes)`);
