// The one JavaScript definition of the TFLite model's pre- and post-processing.
//
// It mirrors tfcolor/serving/tflite_runner.py (TFLiteColorizer.colorize) and the
// value ranges of tfcolor/serving/signature.py step by step, so the browser and
// the Python LiteRT interpreter give the same picture for the same line art and
// hint layer:
//   - the line art (uint8 gray) is scaled to fit the model's square size S,
//     keeping its aspect ratio: Pillow's BOX filter when shrinking, BICUBIC when
//     growing; hints (uint8 RGBA) with Pillow's NEAREST, so hint colours stay exact;
//   - both are padded at the bottom/right with white paper / "no hint";
//   - values go to the model ranges (line art and hint RGB in [-1, 1], hint mask
//     alpha > 0), quantised when the model has uint8 I/O;
//   - the output [-1, 1] goes back to uint8, is cropped and scaled back to the
//     input size with Pillow's BICUBIC.
// The resampling re-implements Pillow's fixed-point convolution (Resample.c,
// one axis at a time, x then y, as tflite_runner.resize_separable)
// and its nearest-neighbour scaling (Geometry.c), float32 steps go through
// Math.fround and numpy's round-half-to-even is kept, so results match the
// Python side to the bit except where the model itself differs.
// Images are flat row-major typed arrays with `channels` values per pixel.

export const LINEART_KEY = 'lineart';
export const HINTS_KEY = 'hints';
export const IMAGE_KEY = 'image';

const WHITE = 255;
const PRECISION_BITS = 22;  // Pillow's 8-bit resampling precision (32 - 8 - 2)

/** Round half to even, as Python's round() and numpy.round. */
export function roundHalfEven(value) {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The size the picture takes inside the model's S x S input, as the Python runner. */
export function fitInside(height, width, size) {
  const scale = Math.min(size / height, size / width);
  return {
    scale,
    fitHeight: Math.max(1, roundHalfEven(height * scale)),
    fitWidth: Math.max(1, roundHalfEven(width * scale)),
  };
}

const FILTERS = {
  box: {support: 0.5, weight: (x) => (x > -0.5 && x <= 0.5 ? 1.0 : 0.0)},
  bicubic: {
    support: 2.0,
    weight: (x) => {
      const a = -0.5;
      x = Math.abs(x);
      if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
      if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
      return 0.0;
    },
  },
};

// Per output position: the first input index and integer weights (Pillow's
// precompute_coeffs + normalize_coeffs_8bpc).
function resampleWeights(inSize, outSize, filter) {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1.0);
  const support = filter.support * filterScale;
  const inverseScale = 1.0 / filterScale;  // multiplied, not divided, as Pillow (box edges)
  const taps = [];
  for (let out = 0; out < outSize; out++) {
    const center = (out + 0.5) * scale;
    const first = Math.max(0, Math.trunc(center - support + 0.5));
    const last = Math.min(inSize, Math.trunc(center + support + 0.5));
    const weights = [];
    let total = 0.0;
    for (let x = first; x < last; x++) {
      const weight = filter.weight((x - center + 0.5) * inverseScale);
      weights.push(weight);
      total += weight;
    }
    const fixed = weights.map((weight) => {
      const normalised = total !== 0.0 ? weight / total : weight;
      const scaled = normalised * (1 << PRECISION_BITS);
      return Math.trunc(normalised < 0 ? scaled - 0.5 : scaled + 0.5);
    });
    taps.push({first, weights: fixed});
  }
  return taps;
}

function clip8(sum) {
  return Math.min(255, Math.max(0, Math.floor(sum / (1 << PRECISION_BITS))));
}

// One separable pass along x (`horizontal`) or y.
function resamplePass(src, width, height, channels, outSize, filter, horizontal) {
  const inSize = horizontal ? width : height;
  const taps = resampleWeights(inSize, outSize, filter);
  const outWidth = horizontal ? outSize : width;
  const outHeight = horizontal ? height : outSize;
  const out = new Uint8Array(outWidth * outHeight * channels);
  const half = 1 << (PRECISION_BITS - 1);
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      const {first, weights} = taps[horizontal ? x : y];
      for (let c = 0; c < channels; c++) {
        let sum = half;
        for (let i = 0; i < weights.length; i++) {
          const index = horizontal ? (y * width + first + i) : ((first + i) * width + x);
          sum += src[index * channels + c] * weights[i];
        }
        out[(y * outWidth + x) * channels + c] = clip8(sum);
      }
    }
  }
  return out;
}

/** tflite_runner.resize_separable: Pillow's BOX or BICUBIC resize along x, then along y. */
export function resizeFiltered(src, width, height, channels, outWidth, outHeight, filterName) {
  const filter = FILTERS[filterName];
  if (!filter) throw new Error(`unknown filter ${filterName}`);
  let image = src, currentWidth = width;
  if (outWidth !== width) {
    image = resamplePass(image, width, height, channels, outWidth, filter, true);
    currentWidth = outWidth;
  }
  if (outHeight !== height) {
    image = resamplePass(image, currentWidth, height, channels, outHeight, filter, false);
  }
  return image === src ? Uint8Array.from(src) : image;
}

// Pillow's nearest-neighbour source indices: a running sum from half a step.
function nearestIndices(inSize, outSize) {
  const step = inSize / outSize;
  const indices = new Int32Array(outSize);
  let position = step * 0.5;
  for (let i = 0; i < outSize; i++) {
    indices[i] = Math.min(inSize - 1, Math.trunc(position));
    position += step;
  }
  return indices;
}

/** Pillow's Image.resize with NEAREST (keeps hint colours and alpha exact). */
export function resizeNearest(src, width, height, channels, outWidth, outHeight) {
  const columns = nearestIndices(width, outWidth);
  const rows = nearestIndices(height, outHeight);
  const out = new Uint8Array(outWidth * outHeight * channels);
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      const from = (rows[y] * width + columns[x]) * channels;
      const to = (y * outWidth + x) * channels;
      for (let c = 0; c < channels; c++) out[to + c] = src[from + c];
    }
  }
  return out;
}

/** uint8 line art -> float32 in [-1, 1] (white paper = +1), as numpy float32. */
export function lineartToModel(lineart) {
  const out = new Float32Array(lineart.length);
  for (let i = 0; i < lineart.length; i++) {
    out[i] = Math.fround(Math.fround(lineart[i] / 127.5) - 1.0);
  }
  return out;
}

/** uint8 RGBA hints -> float32 (RGB in [-1, 1] where alpha > 0, else 0; mask). */
export function hintsToModel(hints) {
  const out = new Float32Array(hints.length);
  for (let i = 0; i < hints.length; i += 4) {
    const hinted = hints[i + 3] > 0;
    for (let c = 0; c < 3; c++) {
      out[i + c] = hinted ? Math.fround(Math.fround(hints[i + c] / 127.5) - 1.0) : 0.0;
    }
    out[i + 3] = hinted ? 1.0 : 0.0;
  }
  return out;
}

/** float image in [-1, 1] -> uint8, rounded half to even as numpy. */
export function imageToUint8(image) {
  const out = new Uint8Array(image.length);
  for (let i = 0; i < image.length; i++) {
    const value = roundHalfEven(Math.fround(Math.fround(image[i] + 1.0) * 127.5));
    out[i] = Math.min(255, Math.max(0, value));
  }
  return out;
}

/** Float values -> a uint8 tensor through its scale and zero point. */
export function quantize(values, {scale, zeroPoint}) {
  const out = new Uint8Array(values.length);
  const scale32 = Math.fround(scale);
  for (let i = 0; i < values.length; i++) {
    const q = roundHalfEven(Math.fround(values[i] / scale32)) + zeroPoint;
    out[i] = Math.min(255, Math.max(0, q));
  }
  return out;
}

/** A uint8 tensor -> float32 through its scale and zero point. */
export function dequantize(values, {scale, zeroPoint}) {
  const out = new Float32Array(values.length);
  const scale32 = Math.fround(scale);
  for (let i = 0; i < values.length; i++) {
    out[i] = Math.fround((values[i] - zeroPoint) * scale32);
  }
  return out;
}

/**
 * uint8 line art (H*W gray) and RGBA hints (H*W*4) of any size -> the model's
 * two float inputs at S x S (NHWC, batch 1) and where the picture sits in them.
 */
export function prepareInputs(lineart, hints, width, height, size) {
  if (lineart.length !== width * height) {
    throw new Error(`line art must hold ${width}x${height} gray values, got ${lineart.length}`);
  }
  if (!hints) hints = new Uint8Array(width * height * 4);
  if (hints.length !== width * height * 4) {
    throw new Error(`hints must be ${width}x${height} RGBA like the line art, got ${hints.length} values`);
  }
  const fit = fitInside(height, width, size);
  const lineartFit = resizeFiltered(lineart, width, height, 1, fit.fitWidth, fit.fitHeight,
                                    fit.scale < 1 ? 'box' : 'bicubic');
  const hintsFit = resizeNearest(hints, width, height, 4, fit.fitWidth, fit.fitHeight);
  const lineartCanvas = new Uint8Array(size * size).fill(WHITE);
  const hintsCanvas = new Uint8Array(size * size * 4);
  for (let y = 0; y < fit.fitHeight; y++) {
    lineartCanvas.set(lineartFit.subarray(y * fit.fitWidth, (y + 1) * fit.fitWidth), y * size);
    hintsCanvas.set(hintsFit.subarray(y * fit.fitWidth * 4, (y + 1) * fit.fitWidth * 4),
                    y * size * 4);
  }
  return {
    [LINEART_KEY]: lineartToModel(lineartCanvas),
    [HINTS_KEY]: hintsToModel(hintsCanvas),
    fit, width, height, size,
  };
}

/** The model's float output (S*S*3) -> uint8 RGB (H*W*3) at the input's size. */
export function finishOutput(image, prepared) {
  const {fit, width, height, size} = prepared;
  const crop = new Float32Array(fit.fitWidth * fit.fitHeight * 3);
  for (let y = 0; y < fit.fitHeight; y++) {
    crop.set(image.subarray(y * size * 3, (y * size + fit.fitWidth) * 3), y * fit.fitWidth * 3);
  }
  const rgb = imageToUint8(crop);
  if (fit.fitWidth === width && fit.fitHeight === height) return rgb;
  return resizeFiltered(rgb, fit.fitWidth, fit.fitHeight, 3, width, height, 'bicubic');
}

/** uint8 RGB (H*W*3) -> RGBA ImageData pixels for a canvas. */
export function rgbToRgba(rgb) {
  const rgba = new Uint8ClampedArray((rgb.length / 3) * 4);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    rgba[j] = rgb[i]; rgba[j + 1] = rgb[i + 1]; rgba[j + 2] = rgb[i + 2]; rgba[j + 3] = 255;
  }
  return rgba;
}

/** Canvas RGBA pixels -> uint8 gray line art, as PIL's convert("L") (ITU-R 601-2 luma). */
export function rgbaToGray(rgba) {
  const gray = new Uint8Array(rgba.length / 4);
  for (let i = 0; i < gray.length; i++) {
    const j = i * 4;
    gray[i] = (rgba[j] * 19595 + rgba[j + 1] * 38470 + rgba[j + 2] * 7471 + 0x8000) >> 16;
  }
  return gray;
}
