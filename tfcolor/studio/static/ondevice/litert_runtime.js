// Runs a tfcolor .tflite model in the page with LiteRT.js (WebAssembly, XNNPack).
//
// LiteRT.js and its WebAssembly files come from the page's own origin: the page
// maps the bare specifiers "@litertjs/core" and "@litertjs/wasm-utils" to the
// vendor folder with an import map (see tfcolor/studio/vendor.py). The threaded
// build needs SharedArrayBuffer, i.e. a cross-origin isolated page (COOP/COEP
// headers); without them the single-threaded build runs.
// Pre- and post-processing: model_io.js.

import {loadAndCompile, loadLiteRt, Tensor} from '@litertjs/core';

import {HINTS_KEY, IMAGE_KEY, LINEART_KEY, dequantize, finishOutput, prepareInputs, quantize}
  from './model_io.js';

let runtime = null;

/**
 * Loads the LiteRT.js WebAssembly runtime once from `wasmFolderUrl` (same origin):
 * threaded when the page is cross-origin isolated, else single-threaded.
 * Resolves to {threaded, loadMs}.
 */
export function startRuntime(wasmFolderUrl) {
  if (!runtime) {
    const threaded = globalThis.crossOriginIsolated === true;
    const started = performance.now();
    runtime = loadLiteRt(new URL(wasmFolderUrl, document.baseURI).href, {threads: threaded})
      .then(() => ({threaded, loadMs: performance.now() - started}));
  }
  return runtime;
}

/**
 * Downloads a .tflite model once and compiles it for the CPU (WebAssembly).
 * `quantization`: {lineart, hints, image: {scale, zeroPoint}} for models with
 * uint8 I/O (LiteRT.js does not report it; the server or the export's
 * model.json gives it). Resolves to an OnDeviceColorizer.
 */
export async function loadColorizer(modelUrl, {quantization = null} = {}) {
  const started = performance.now();
  const response = await fetch(modelUrl);
  if (!response.ok) throw new Error(`model ${modelUrl}: HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const downloadMs = performance.now() - started;
  const model = await loadAndCompile(bytes, {accelerator: 'wasm'});
  return new OnDeviceColorizer(model, {
    downloadBytes: bytes.length, downloadMs,
    compileMs: performance.now() - started - downloadMs, quantization,
  });
}

/** A compiled model: colorize(lineart, hints, width, height) -> uint8 RGB. */
export class OnDeviceColorizer {
  constructor(model, {downloadBytes, downloadMs, compileMs, quantization}) {
    this.model = model;
    this.downloadBytes = downloadBytes;
    this.downloadMs = downloadMs;
    this.compileMs = compileMs;
    const inputs = Object.fromEntries(model.getInputDetails().map((d) => [d.name, d]));
    if (!inputs[LINEART_KEY] || !inputs[HINTS_KEY]) {
      throw new Error(`model inputs ${Object.keys(inputs)}, expected ${HINTS_KEY}, ${LINEART_KEY}: ` +
                      'was it made by tfcolor.export --tflite?');
    }
    this.size = inputs[LINEART_KEY].shape[1];
    this.ioType = inputs[LINEART_KEY].dtype;  // 'float32', or 'uint8' (quantised I/O)
    if (this.ioType === 'uint8' && !quantization) {
      throw new Error('the model has uint8 I/O: give its quantization (scale, zero point)');
    }
    this.quantization = quantization;
    this.lastLatencyMs = null;
  }

  _tensor(values, channels, key) {
    const shape = [1, this.size, this.size, channels];
    return new Tensor(this.ioType === 'uint8' ? quantize(values, this.quantization[key]) : values,
                      shape);
  }

  /**
   * uint8 gray line art (H*W) and RGBA hints (H*W*4, or null) -> uint8 RGB (H*W*3);
   * `lastLatencyMs` is the whole call (pre-processing, model, post-processing).
   */
  async colorize(lineart, hints, width, height) {
    const started = performance.now();
    const prepared = prepareInputs(lineart, hints, width, height, this.size);
    const inputs = {
      [LINEART_KEY]: this._tensor(prepared[LINEART_KEY], 1, LINEART_KEY),
      [HINTS_KEY]: this._tensor(prepared[HINTS_KEY], 4, HINTS_KEY),
    };
    let outputs;
    try {
      outputs = await this.model.run(inputs);
    } finally {
      inputs[LINEART_KEY].delete();
      inputs[HINTS_KEY].delete();
    }
    let image;
    try {
      image = outputs[IMAGE_KEY].toTypedArray().slice();
    } finally {
      for (const tensor of Object.values(outputs)) tensor.delete();
    }
    if (this.ioType === 'uint8') image = dequantize(image, this.quantization[IMAGE_KEY]);
    const rgb = finishOutput(image, prepared);
    this.lastLatencyMs = performance.now() - started;
    return rgb;
  }

  delete() {
    this.model.delete();
  }
}
