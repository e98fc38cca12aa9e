// The studio's "colour on this device" mode: the same call as api.colorize, answered
// in the page by LiteRT.js. ({lineart, hints} PNG Blobs -> {blob, headers}), so the
// page's queue, tools and hint layer format stay the same as in server mode.

import {loadColorizer, startRuntime} from './litert_runtime.js';
import {rgbaToGray, rgbToRgba} from './model_io.js';

const WASM_FOLDER = './vendor/litertjs/core/wasm/';

async function pixelsOf(blob) {
  const bitmap = await createImageBitmap(blob, {premultiplyAlpha: 'none',
                                                colorSpaceConversion: 'none'});
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d', {willReadFrequently: true});
  context.drawImage(bitmap, 0, 0);
  return context.getImageData(0, 0, bitmap.width, bitmap.height);
}

async function pngOf(rgb, width, height) {
  const canvas = new OffscreenCanvas(width, height);
  canvas.getContext('2d').putImageData(new ImageData(rgbToRgba(rgb), width, height), 0, 0);
  return canvas.convertToBlob({type: 'image/png'});
}

export class DeviceColouring {
  /** Loads LiteRT.js and downloads the model once (`onDevice`: /api/health's on_device). */
  static async load(onDevice) {
    const runtime = await startRuntime(WASM_FOLDER);
    const colorizer = await loadColorizer(onDevice.model_url,
                                          {quantization: onDevice.io_spec.quantization});
    return new DeviceColouring(colorizer, runtime);
  }

  constructor(colorizer, runtime) {
    this.colorizer = colorizer;
    this.threaded = runtime.threaded;
  }

  async colorize({lineart, hints}) {
    const page = await pixelsOf(lineart);
    const hintPixels = hints ? (await pixelsOf(hints)).data : null;
    const rgb = await this.colorizer.colorize(rgbaToGray(page.data), hintPixels,
                                              page.width, page.height);
    return {blob: await pngOf(rgb, page.width, page.height), headers: new Headers()};
  }

  /** One line for the page: what runs where, the model's size, the last in-browser latency. */
  describe() {
    const megabytes = (this.colorizer.downloadBytes / 1e6).toFixed(1);
    const latency = this.colorizer.lastLatencyMs === null ? ''
      : ` · in-browser ${Math.round(this.colorizer.lastLatencyMs)} ms`;
    return `on this device (LiteRT.js, WebAssembly ${this.threaded ? 'threaded' : 'single-threaded'})` +
           ` · model ${megabytes} MB${latency}`;
  }
}
