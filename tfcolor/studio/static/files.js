// Files in and out of the page: open, drop, download.

export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// Calls onFile(file) for a file picked in `input` (and lets the same file be picked again).
export function onPicked(input, onFile) {
  input.addEventListener("change", () => {
    const file = input.files && input.files[0];
    input.value = "";
    if (file) onFile(file);
  });
}

// Calls onFile(file) for a file dropped anywhere on `target`.
export function onDropped(target, onFile) {
  target.addEventListener("dragover", (event) => {
    event.preventDefault();
    target.classList.add("dragging");
  });
  target.addEventListener("dragleave", () => target.classList.remove("dragging"));
  target.addEventListener("drop", (event) => {
    event.preventDefault();
    target.classList.remove("dragging");
    const file = event.dataTransfer.files && event.dataTransfer.files[0];
    if (file) onFile(file);
  });
}

// An image file -> ImageBitmap with its stored values (no colour conversion, straight alpha).
export function decode(blob) {
  return createImageBitmap(blob, { premultiplyAlpha: "none", colorSpaceConversion: "none" });
}

export function stem(name) {
  return (name || "page").replace(/\.[^.]*$/, "");
}
