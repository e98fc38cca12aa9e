// The studio's HTTP API, and a queue that keeps at most one colour request in flight.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function check(response) {
  if (response.ok) return response;
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    if (body && body.detail) message = body.detail;
  } catch (_) { /* not JSON: keep the status line */ }
  if (response.status === 503) message = `The model is busy: ${message}`;
  throw new ApiError(response.status, message);
}

function form(fields) {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (value === null || value === undefined) continue;
    if (value instanceof Blob) data.append(name, value, `${name}.png`);
    else data.append(name, String(value));
  }
  return data;
}

async function postForPicture(path, fields) {
  const response = await check(await fetch(path, { method: "POST", body: form(fields) }));
  return { blob: await response.blob(), headers: response.headers };
}

export async function health() {
  return (await check(await fetch("api/health"))).json();
}

// {lineart, hints} Blobs -> {blob, headers} of the coloured page (PNG).
export function colorize({ lineart, hints }) {
  return postForPicture("api/colorize", { lineart, hints });
}

export function attention({ lineart, hints, block }) {
  return postForPicture("api/attention", { lineart, hints, block });
}

export function lineartFromPicture(picture, extractor) {
  return postForPicture("api/lineart", { image: picture, extractor });
}

// Runs `send(args)` one at a time. A request made while one is in flight waits;
// a newer one replaces it, and the answer of the one in flight is dropped if
// a newer request is waiting, so requests never pile up and the newest wins.
export class LatestOnly {
  constructor(send, { onResult, onError, onBusy }) {
    this.send = send;
    this.onResult = onResult;
    this.onError = onError;
    this.onBusy = onBusy || (() => {});
    this.inFlight = false;
    this.waiting = null;
  }

  request(args) {
    if (this.inFlight) {
      this.waiting = args;
      return;
    }
    this.start(args);
  }

  async start(args) {
    this.inFlight = true;
    this.onBusy(true);
    const started = performance.now();
    try {
      const result = await this.send(args);
      if (!this.waiting) this.onResult(result, performance.now() - started);
    } catch (error) {
      if (!this.waiting) this.onError(error);
    } finally {
      this.inFlight = false;
      const next = this.waiting;
      this.waiting = null;
      if (next) this.start(next);
      else this.onBusy(false);
    }
  }
}
