// Wires the page: open line art, paint hints, colour on every change, show the result.

import * as api from "./api.js";
import * as files from "./files.js";
import { History } from "./history.js";
import { HintLayer, hexToRgb, rgbToHex } from "./canvas.js";
import { Palette } from "./palette.js";

const $ = (id) => document.getElementById(id);

const state = {
  health: null,
  lineart: null,      // the line art Blob exactly as opened (sent as is)
  name: "page",
  result: null,       // the last coloured page (PNG Blob from the server)
  resultPixels: null, // its ImageData, for the eyedropper
};

// ---------------------------------------------------------------------------
// Status line

function showMessage(text) {
  $("message").textContent = text || "";
  $("message").hidden = !text;
}

function setBusy(busy) {
  $("busy").hidden = !busy;
  document.body.dataset.busy = busy ? "1" : "0";
}

// ---------------------------------------------------------------------------
// Canvases

const history = new History();
const layer = new HintLayer($("hint-canvas"), {
  onStrokeStart: () => history.record(layer.snapshot()),
  onStrokeEnd: () => { palette.use($("colour").value); hintsChanged(); },
  onPick: pick,
});
const palette = new Palette($("palette"), chooseColour);

function displayScale(width, height) {
  const room = Math.max(200, (window.innerWidth - 80) / ($("overlay").checked ? 1 : 2));
  const scale = Math.min(room / width, (window.innerHeight - 200) / height, 8);
  return scale >= 1 ? Math.floor(scale) : Math.max(scale, 0.05);
}

function layOut() {
  const { width, height } = layer;
  const scale = displayScale(width, height);
  for (const id of ["lineart-canvas", "attention-canvas", "hint-canvas", "result-canvas"]) {
    $(id).style.width = `${width * scale}px`;
    $(id).style.height = `${height * scale}px`;
  }
}

function drawBitmap(canvas, bitmap, background) {
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  if (background) {
    context.fillStyle = background;
    context.fillRect(0, 0, bitmap.width, bitmap.height);
  }
  context.drawImage(bitmap, 0, 0);
  return context;
}

function sizeNote() {
  const { health } = state;
  const { width, height } = layer;
  const notes = [];
  if (health.fixed_size) {
    notes.push(`This .tflite model has one fixed size: the ${width}×${height} page is ` +
               `resized to ${health.fixed_size}×${health.fixed_size} for it and back.`);
  } else if (health.max_side && Math.max(width, height) > health.max_side) {
    notes.push(`The ${width}×${height} page is larger than ${health.max_side} px: it is ` +
               "scaled down for the model and the result scaled back up.");
  }
  $("size-note").textContent = notes.join(" ");
  $("size-note").hidden = !notes.length;
}

// ---------------------------------------------------------------------------
// Colouring

// On-device mode (a .tflite model): the page colours with LiteRT.js, no request per stroke.
let device = null;

function onDevice() {
  return device !== null && $("on-device").checked;
}

function showMode() {
  $("mode").textContent = onDevice() ? device.describe() : "on the server";
}

async function startOnDevice(facts) {
  $("on-device-control").hidden = false;
  if (facts.runtime_error) {
    $("on-device").checked = false;
    $("on-device").disabled = true;
    showMessage(facts.runtime_error);
    document.body.dataset.device = "error";
    return;
  }
  $("mode").textContent = `downloading the model (${(facts.model_bytes / 1e6).toFixed(1)} MB)…`;
  try {
    // Loaded only here: LiteRT.js (npm ci) is needed for on-device mode alone, so a
    // page on a server-side model works without it.
    const { DeviceColouring } = await import("./ondevice/device_colouring.js");
    device = await DeviceColouring.load(facts);
    document.body.dataset.device = "ready";
  } catch (error) {
    $("on-device").checked = false;
    showMessage(`Cannot colour on this device: ${error.message}`);
    document.body.dataset.device = "error";
  }
  showMode();
}

const colouring = new api.LatestOnly((args) => (onDevice() ? device.colorize(args)
                                                           : api.colorize(args)), {
  onBusy: setBusy,
  onResult: showResult,
  onError: (error) => showMessage(error.message),
});

const attentionQueue = new api.LatestOnly(api.attention, {
  onBusy: () => {},
  onResult: showAttention,
  onError: (error) => showMessage(error.message),
});

async function requestColours() {
  if (!state.lineart) return;
  const hints = layer.isEmpty() ? null : await layer.toBlob();
  colouring.request({ lineart: state.lineart, hints });
  if ($("attention").checked) {
    attentionQueue.request({ lineart: state.lineart, hints, block: $("attention-block").value });
  }
}

async function showResult({ blob }, milliseconds) {
  showMessage("");
  state.result = blob;
  const context = drawBitmap($("result-canvas"), await files.decode(blob));
  state.resultPixels = context.getImageData(0, 0, layer.width, layer.height);
  $("latency").textContent = `last: ${Math.round(milliseconds)} ms`;
  showMode();
  $("download-result").disabled = false;
  document.body.dataset.results = String(Number(document.body.dataset.results || 0) + 1);
}

// Gray attention PNG -> a red overlay whose opacity is the attention.
async function showAttention({ blob }) {
  const canvas = $("attention-canvas");
  const context = drawBitmap(canvas, await files.decode(blob));
  const image = context.getImageData(0, 0, canvas.width, canvas.height);
  for (let i = 0; i < image.data.length; i += 4) {
    const value = image.data[i];
    image.data.set([255, 40, 0, Math.round(value * 0.7)], i);
  }
  context.putImageData(image, 0, 0);
  canvas.hidden = !$("attention").checked;
  layOut();
}

function hintsChanged() {
  $("undo").disabled = !history.canUndo;
  $("redo").disabled = !history.canRedo;
  requestColours();
}

// ---------------------------------------------------------------------------
// Opening files

async function openLineart(blob, name) {
  let bitmap;
  try {
    bitmap = await files.decode(blob);
  } catch (_) {
    showMessage(`${name}: the browser cannot read this file as an image`);
    return;
  }
  showMessage("");
  state.lineart = blob;
  state.name = files.stem(name);
  state.result = null;
  drawBitmap($("lineart-canvas"), bitmap, "white");
  $("result-canvas").width = 0;
  $("attention-canvas").hidden = true;
  layer.reset(bitmap.width, bitmap.height);
  history.clear();
  document.querySelector(".empty").hidden = true;
  $("save-hints").disabled = false;
  $("download-result").disabled = true;
  layOut();
  sizeNote();
  hintsChanged();
}

async function openPicture(file) {
  setBusy(true);
  try {
    const { blob } = await api.lineartFromPicture(file, $("extractor").value);
    await openLineart(blob, `${files.stem(file.name)}_lineart.png`);
  } catch (error) {
    showMessage(error.message);
  } finally {
    setBusy(false);
  }
}

async function openHints(file) {
  if (!state.lineart) {
    showMessage("Open line art before its hint layer.");
    return;
  }
  let bitmap;
  try {
    bitmap = await files.decode(file);
  } catch (_) {
    showMessage(`${file.name}: not an image`);
    return;
  }
  if (bitmap.width !== layer.width || bitmap.height !== layer.height) {
    showMessage(`${file.name} is ${bitmap.width}×${bitmap.height} but the line art is ` +
                `${layer.width}×${layer.height}; a hint layer must have the line art's size.`);
    return;
  }
  const scratch = document.createElement("canvas");
  const context = drawBitmap(scratch, bitmap);
  history.record(layer.snapshot());
  layer.setPixels(context.getImageData(0, 0, bitmap.width, bitmap.height).data);
  hintsChanged();
}

// ---------------------------------------------------------------------------
// Tools

function chooseColour(hex) {
  $("colour").value = hex;
  layer.rgb = hexToRgb(hex);
}

function chooseTool(tool) {
  layer.tool = tool;
  for (const name of ["brush", "eraser", "eyedropper"]) {
    $(`tool-${name}`).setAttribute("aria-pressed", String(name === tool));
  }
}

function pick(x, y) {
  const pixels = state.resultPixels;
  if (!pixels || x < 0 || y < 0 || x >= pixels.width || y >= pixels.height) return;
  const i = (y * pixels.width + x) * 4;
  const hex = rgbToHex([pixels.data[i], pixels.data[i + 1], pixels.data[i + 2]]);
  chooseColour(hex);
  palette.use(hex);
  chooseTool("brush");
}

function undo() {
  const snapshot = history.undo(layer.snapshot());
  if (snapshot) { layer.restore(snapshot); hintsChanged(); }
}

function redo() {
  const snapshot = history.redo(layer.snapshot());
  if (snapshot) { layer.restore(snapshot); hintsChanged(); }
}

function clearHints() {
  if (!state.lineart || layer.isEmpty()) return;
  history.record(layer.snapshot());
  layer.restore(new Uint8ClampedArray(layer.width * layer.height * 4));
  hintsChanged();
}

// ---------------------------------------------------------------------------
// Start

function wire() {
  files.onPicked($("open-lineart"), (file) => openLineart(file, file.name));
  files.onPicked($("open-picture"), openPicture);
  files.onPicked($("open-hints"), openHints);
  files.onDropped(document.body, (file) => openLineart(file, file.name));
  for (const name of ["brush", "eraser", "eyedropper"]) {
    $(`tool-${name}`).addEventListener("click", () => chooseTool(name));
  }
  $("brush-size").addEventListener("input", () => {
    layer.size = Number($("brush-size").value);
    $("brush-size-value").textContent = $("brush-size").value;
  });
  $("colour").addEventListener("input", () => chooseColour($("colour").value));
  $("undo").addEventListener("click", undo);
  $("redo").addEventListener("click", redo);
  $("clear").addEventListener("click", clearHints);
  $("overlay").addEventListener("change", () => {
    $("workspace").classList.toggle("overlay", $("overlay").checked);
    if (layer.width) layOut();
  });
  $("attention").addEventListener("change", () => {
    $("attention-canvas").hidden = true;
    requestColours();
  });
  $("attention-block").addEventListener("change", requestColours);
  $("on-device").addEventListener("change", () => { showMode(); requestColours(); });
  $("result-canvas").addEventListener("click", (event) => {
    if (layer.tool !== "eyedropper") return;
    const [x, y] = layer.position(event);
    pick(Math.floor(x), Math.floor(y));
  });
  $("download-result").addEventListener("click", () => {
    if (state.result) files.download(state.result, `${state.name}_color.png`);
  });
  $("save-hints").addEventListener("click", async () => {
    files.download(await layer.toBlob(), `${state.name}_hints.png`);
  });
  document.addEventListener("keydown", (event) => {
    if (!(event.ctrlKey || event.metaKey)) return;
    const key = event.key.toLowerCase();
    if (key === "z" && !event.shiftKey) { event.preventDefault(); undo(); }
    else if ((key === "z" && event.shiftKey) || key === "y") { event.preventDefault(); redo(); }
  });
  window.addEventListener("resize", () => { if (layer.width) layOut(); });
}

async function start() {
  wire();
  chooseColour($("colour").value);
  hintsChanged();
  try {
    state.health = await api.health();
  } catch (error) {
    $("model-info").textContent = "no server";
    showMessage(`Cannot reach the studio server: ${error.message}`);
    return;
  }
  const { health } = state;
  $("model-info").textContent = `${health.kind} · ${health.model}` +
    (health.fixed_size ? ` · fixed ${health.fixed_size}×${health.fixed_size}` : "");
  $("extractor").replaceChildren(...health.extractors.map((kind) => new Option(kind, kind)));
  $("attention-control").hidden = !health.attention_blocks;
  $("attention-block").replaceChildren(new Option("mean of blocks", "-1"),
    ...Array.from({ length: health.attention_blocks }, (_, i) => new Option(`block ${i + 1}`, String(i))));
  if (health.on_device) await startOnDevice(health.on_device);
  else showMode();
  if (health.static) {  // a web demo folder: no server behind the page
    $("on-device").disabled = true;
    $("open-picture").closest("label").hidden = true;  // line art extraction needs the server
    $("extractor").hidden = true;
  }
  document.body.dataset.ready = "1";
  if (health.sample) {
    const response = await fetch(health.sample);
    if (response.ok) await openLineart(await response.blob(), health.sample);
  }
}

start();
