// The hint layer: a transparent canvas over the line art, painted pixel by pixel.
//
// Painting writes RGBA values straight into the layer's pixels (no canvas
// antialiasing), so every hinted pixel has exactly the brush colour and alpha
// 255, and everything else alpha 0: the PNG saved from it is the hint layer
// `tfcolor.colorize --hints` reads, and the model sees the chosen colour.

export function hexToRgb(hex) {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

export function rgbToHex(rgb) {
  return "#" + rgb.map((v) => v.toString(16).padStart(2, "0")).join("");
}

export class HintLayer {
  // onStrokeEnd(): a stroke changed the layer. onStrokeStart(): before it does.
  // onPick(x, y): the eyedropper clicked this pixel.
  constructor(canvas, { onStrokeStart, onStrokeEnd, onPick }) {
    this.canvas = canvas;
    this.context = canvas.getContext("2d", { willReadFrequently: true });
    this.onStrokeStart = onStrokeStart;
    this.onStrokeEnd = onStrokeEnd;
    this.onPick = onPick;
    this.tool = "brush";
    this.size = 4;
    this.rgb = [224, 64, 64];
    this.last = null;
    this.reset(0, 0);
    canvas.addEventListener("pointerdown", (event) => this.down(event));
    canvas.addEventListener("pointermove", (event) => this.move(event));
    canvas.addEventListener("pointerup", (event) => this.up(event));
    canvas.addEventListener("pointercancel", (event) => this.up(event));
  }

  reset(width, height) {
    this.canvas.width = width;
    this.canvas.height = height;
    this.pixels = new ImageData(Math.max(width, 1), Math.max(height, 1));
    this.last = null;
    this.draw();
  }

  get width() { return this.canvas.width; }
  get height() { return this.canvas.height; }

  snapshot() { return new Uint8ClampedArray(this.pixels.data); }

  restore(data) {
    this.pixels.data.set(data);
    this.draw();
  }

  isEmpty() {
    const data = this.pixels.data;
    for (let i = 3; i < data.length; i += 4) if (data[i]) return false;
    return true;
  }

  // RGBA values of the layer's size; alpha > 0 becomes 255 (a hint is a hint).
  setPixels(data) {
    const target = this.pixels.data;
    for (let i = 0; i < target.length; i += 4) {
      const hinted = data[i + 3] > 0;
      target[i] = hinted ? data[i] : 0;
      target[i + 1] = hinted ? data[i + 1] : 0;
      target[i + 2] = hinted ? data[i + 2] : 0;
      target[i + 3] = hinted ? 255 : 0;
    }
    this.draw();
  }

  draw() {
    if (this.width && this.height) this.context.putImageData(this.pixels, 0, 0);
  }

  toBlob() {
    return new Promise((resolve) => this.canvas.toBlob(resolve, "image/png"));
  }

  // Pointer position in layer pixels (the canvas may be shown scaled).
  position(event) {
    const rect = this.canvas.getBoundingClientRect();
    return [(event.clientX - rect.left) * this.width / rect.width,
            (event.clientY - rect.top) * this.height / rect.height];
  }

  // The disc of diameter `size` around (x, y): pixels whose centre is inside,
  // and always the pixel under the point.
  stamp(x, y) {
    const radius = this.size / 2;
    const data = this.pixels.data;
    const erase = this.tool === "eraser";
    const value = erase ? [0, 0, 0, 0] : [...this.rgb, 255];
    const left = Math.max(0, Math.floor(x - radius)), right = Math.min(this.width - 1, Math.floor(x + radius));
    const top = Math.max(0, Math.floor(y - radius)), bottom = Math.min(this.height - 1, Math.floor(y + radius));
    for (let row = top; row <= bottom; row++) {
      for (let col = left; col <= right; col++) {
        const dx = col + 0.5 - x, dy = row + 0.5 - y;
        const under = col === Math.floor(x) && row === Math.floor(y);
        if (under || dx * dx + dy * dy <= radius * radius) data.set(value, (row * this.width + col) * 4);
      }
    }
  }

  // Stamps every half pixel from the last point to (x, y).
  lineTo(x, y) {
    const [x0, y0] = this.last || [x, y];
    const steps = Math.max(1, Math.ceil(Math.hypot(x - x0, y - y0) * 2));
    for (let i = 1; i <= steps; i++) this.stamp(x0 + (x - x0) * i / steps, y0 + (y - y0) * i / steps);
    this.last = [x, y];
    this.draw();
  }

  down(event) {
    if (!this.width || event.button !== 0) return;
    const [x, y] = this.position(event);
    if (this.tool === "eyedropper") {
      this.onPick(Math.floor(x), Math.floor(y));
      return;
    }
    this.canvas.setPointerCapture(event.pointerId);
    this.onStrokeStart();
    this.last = null;
    this.lineTo(x, y);
  }

  move(event) {
    if (!this.last) return;
    this.lineTo(...this.position(event));
  }

  up(event) {
    if (!this.last) return;
    if (event.type === "pointerup") this.lineTo(...this.position(event));
    this.last = null;
    this.onStrokeEnd();
  }
}
