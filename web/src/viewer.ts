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

/** A labelled pixel with a 4-neighbour of another label, in `color`; everything else transparent. */
export function outlineLayer(mask: Image2D<Uint32Array>, color: readonly number[]): HTMLCanvasElement {
  const { width: W, height: H, data: L } = mask;
  const c = word(color[0], color[1], color[2]);
  return layer(W, H, (px) => {
    for (let y = 0, i = 0; y < H; y++) {
      for (let x = 0; x < W; x++, i++) {
        const v = L[i];
        if (v !== 0 && ((x > 0 && L[i - 1] !== v) || (x + 1 < W && L[i + 1] !== v) || (y > 0 && L[i - W] !== v) || (y + 1 < H && L[i + W] !== v))) px[i] = c;
      }
    }
  });
}

export const MASK_COLORS = QC_COLORS;

export class Viewer {
  private base: HTMLCanvasElement | undefined;
  private layers: { name: string; canvas: HTMLCanvasElement; visible: boolean }[] = [];
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
      canvas: outlineLayer(mask, MASK_COLORS[i % MASK_COLORS.length]),
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
    ctx.imageSmoothingEnabled = false;
    ctx.setTransform(this.scale, 0, 0, this.scale, this.ox, this.oy);
    ctx.drawImage(this.base, 0, 0);
    for (const l of this.layers) if (l.visible) ctx.drawImage(l.canvas, 0, 0);
  }
}
