// Fake-camera clips for Chromium (`--use-file-for-fake-video-capture=<file>.y4m`): a PNG
// screenshot of a QR code becomes a short grayscale Y4M clip, the code centred on white.
import { PNG } from "pngjs";

/** Luma plane of a PNG: {width, height, data: Uint8Array} (BT.601, alpha composited on white). */
export function lumaFromPng(pngBytes) {
  const png = PNG.sync.read(pngBytes);
  const data = new Uint8Array(png.width * png.height);
  for (let i = 0; i < data.length; i++) {
    const [r, g, b, a] = png.data.subarray(i * 4, i * 4 + 4);
    const y = 0.299 * r + 0.587 * g + 0.114 * b;
    data[i] = Math.round((y * a + 255 * (255 - a)) / 255);
  }
  return { width: png.width, height: png.height, data };
}

/** `image` centred on a white `width`×`height` luma plane (cropped if it is larger). */
export function centerOnWhite(image, width, height) {
  const out = new Uint8Array(width * height).fill(255);
  const dx = Math.floor((width - image.width) / 2);
  const dy = Math.floor((height - image.height) / 2);
  for (let y = 0; y < image.height; y++) {
    const ty = y + dy;
    if (ty < 0 || ty >= height) continue;
    for (let x = 0; x < image.width; x++) {
      const tx = x + dx;
      if (tx >= 0 && tx < width) out[ty * width + tx] = image.data[y * image.width + x];
    }
  }
  return { width, height, data: out };
}

/** A Y4M clip (4:2:0, chroma neutral) showing the luma plane `image` for `frames` frames. */
export function y4mFromLuma(image, { fps = 5, frames = 5 } = {}) {
  const { width, height, data } = image;
  if (width % 2 || height % 2) throw new Error("Y4M 4:2:0 needs even dimensions");
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`, "ascii");
  const chroma = Buffer.alloc((width / 2) * (height / 2), 128);
  const frame = Buffer.concat([Buffer.from("FRAME\n", "ascii"), Buffer.from(data), chroma, chroma]);
  return Buffer.concat([header, ...Array(frames).fill(frame)]);
}

/** RGBA pixels of a luma plane (what jsQR takes). */
export function rgbaFromLuma(image) {
  const out = new Uint8ClampedArray(image.width * image.height * 4);
  for (let i = 0; i < image.data.length; i++) {
    out.set([image.data[i], image.data[i], image.data[i], 255], i * 4);
  }
  return out;
}
