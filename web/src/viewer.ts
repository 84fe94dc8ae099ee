/**
 * The result view: the image as percentile-stretched grey (as the QC overlay stretches it) with each mask's outlines
 * on its own layer, on one canvas with wheel zoom (around the cursor), drag to pan and per-mask toggles.
 */
import type { Image2D } from '../../lib/image.js';
import { percentiles, QC_COLORS } from '../../lib/io/qc-render.js';

function layer(width: number, height: number, paint: (px: Uint32Array) => void): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const image = new ImageData(width, height);
  paint(new Uint32Array(image.data.buffer));
  canvas.getContext('2d')!.putImageData(image, 0, 0);
  return canvas;
}

/** RGBA as one little-endian word (every browser's typed arrays on x86 and ARM). */
const word = (r: number, g: number, b: number, a = 255) => ((a << 24) | (b << 16) | (g << 8) | r) >>> 0;

export function greyLayer(plane: Image2D): HTMLCanvasElement {
  const [p0, p1] = percentiles(plane.data, [1, 99.5]);
  const scale = p1 > p0 ? 255 / (p1 - p0) : 0;
  return layer(plane.width, plane.height, (px) => {
    const d = plane.data;
    for (let i = 0; i < d.length; i++) {
      const v = d[i] === d[i] ? d[i] : p0;
      const g = Math.max(0, Math.min(255, Math.round((v - p0) * scale)));
      px[i] = word(g, g, g);
    }
  });
}

/** The outline pixels of a mask (1): a labelled pixel with a 4-neighbour of another label. */
export function outlineBits(mask: Image2D<Uint32Array>): Uint8Array {
  const { width: W, height: H, data: L } = mask;
  const bits = new Uint8Array(W * H);
  for (let y = 0, i = 0; y < H; y++) {
    for (let x = 0; x < W; x++, i++) {
      const v = L[i];
      if (v !== 0 && ((x > 0 && L[i - 1] !== v) || (x + 1 < W && L[i + 1] !== v) || (y > 0 && L[i - W] !== v) || (y + 1 < H && L[i + W] !== v))) bits[i] = 1;
    }
  }
  return bits;
}

/** Bits at half the size (rounded up): a pixel is set when any of its 2×2 block is. */
function halve(bits: Uint8Array, W: number, H: number): { bits: Uint8Array; width: number; height: number } {
  const [w, h] = [Math.ceil(W / 2), Math.ceil(H / 2)];
  const out = new Uint8Array(w * h);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (bits[y * W + x]) out[(y >> 1) * w + (x >> 1)] = 1;
  return { bits: out, width: w, height: h };
}

/**
 * A mask's outlines in one colour, as canvases at full size and at 1/2, 1/4, … (a pixel set when any pixel of its
 * block is an outline). Drawn smaller than its size, a 1-pixel outline would lose most of its pixels to nearest-
 * neighbour sampling (a 2048² field fitted into 800 pixels showed dotted rings); the level drawn is the first whose
 * pixels cover at least one screen pixel each.
 */
export class OutlineLayer {
  private readonly levels: { bits: Uint8Array; width: number; height: number; canvas?: HTMLCanvasElement }[];
  private readonly color: number;

  constructor(mask: Image2D<Uint32Array>, color: readonly number[]) {
    this.levels = [{ bits: outlineBits(mask), width: mask.width, height: mask.height }];
    this.color = word(color[0], color[1], color[2]);
  }

  /** The canvas for a display scale (screen pixels per image pixel) and the image pixels per canvas pixel. */
  at(scale: number): { canvas: HTMLCanvasElement; factor: number } {
    const k = scale >= 1 ? 0 : Math.min(12, Math.ceil(Math.log2(1 / scale) - 1e-9));
    while (this.levels.length <= k) {
      const last = this.levels[this.levels.length - 1];
      this.levels.push(halve(last.bits, last.width, last.height));
    }
    const level = this.levels[k];
    level.canvas ??= layer(level.width, level.height, (px) => {
      for (let i = 0; i < level.bits.length; i++) if (level.bits[i]) px[i] = this.color;
    });
    return { canvas: level.canvas, factor: 2 ** k };
  }
}

export const MASK_COLORS = QC_COLORS;

export class Viewer {
  private base: HTMLCanvasElement | undefined;
  private layers: { name: string; outlines: OutlineLayer; visible: boolean }[] = [];
  private scale = 1;
  private ox = 0;
  private oy = 0;

  constructor(private readonly canvas: HTMLCanvasElement) {
    canvas.addEventListener('wheel', (e) => {
      e.preventDefault();
      const f = Math.exp(-e.deltaY * 0.0015);
      const r = canvas.getBoundingClientRect();
      const [mx, my] = [(e.clientX - r.left) * (canvas.width / r.width), (e.clientY - r.top) * (canvas.height / r.height)];
      this.ox = mx - (mx - this.ox) * f;
      this.oy = my - (my - this.oy) * f;
      this.scale *= f;
      this.draw();
    }, { passive: false });
    let drag: { x: number; y: number } | undefined;
    canvas.addEventListener('pointerdown', (e) => {
      drag = { x: e.clientX, y: e.clientY };
      canvas.setPointerCapture(e.pointerId);
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!drag) return;
      const r = canvas.getBoundingClientRect();
      this.ox += (e.clientX - drag.x) * (canvas.width / r.width);
      this.oy += (e.clientY - drag.y) * (canvas.height / r.height);
      drag = { x: e.clientX, y: e.clientY };
      this.draw();
    });
    canvas.addEventListener('pointerup', () => (drag = undefined));
    canvas.addEventListener('dblclick', () => this.fit());
  }

  show(background: Image2D, masks: { name: string; mask: Image2D<Uint32Array> }[] = []): void {
    const keep = new Map(this.layers.map((l) => [l.name, l.visible]));
    const sizeChanged = this.base?.width !== background.width || this.base?.height !== background.height;
    this.base = greyLayer(background);
    this.layers = masks.map(({ name, mask }, i) => ({
      name,
      outlines: new OutlineLayer(mask, MASK_COLORS[i % MASK_COLORS.length]),
      visible: keep.get(name) ?? true,
    }));
    if (sizeChanged) this.fit();
    else this.draw();
  }

  /** Drops the outlines (a run started; its result replaces them). */
  clearMasks(): void {
    this.layers = [];
    this.draw();
  }

  setVisible(name: string, visible: boolean): void {
    for (const l of this.layers) if (l.name === name) l.visible = visible;
    this.draw();
  }

  fit(): void {
    if (!this.base) return;
    this.scale = Math.min(this.canvas.width / this.base.width, this.canvas.height / this.base.height);
    this.ox = (this.canvas.width - this.base.width * this.scale) / 2;
    this.oy = (this.canvas.height - this.base.height * this.scale) / 2;
    this.draw();
  }

  private draw(): void {
    const ctx = this.canvas.getContext('2d')!;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = '#111';
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    if (!this.base) return;
    ctx.setTransform(this.scale, 0, 0, this.scale, this.ox, this.oy);
    // Pixels stay pixels when magnified; a picture shrunk is filtered (sampled, it would alias).
    ctx.imageSmoothingEnabled = this.scale < 1;
    ctx.drawImage(this.base, 0, 0);
    ctx.imageSmoothingEnabled = false;
    for (const l of this.layers) {
      if (!l.visible) continue;
      const { canvas, factor } = l.outlines.at(this.scale);
      ctx.drawImage(canvas, 0, 0, canvas.width * factor, canvas.height * factor);
    }
  }
}
