// Reading a QR code with the camera in every browser: BarcodeDetector where the browser has one
// (Chrome on Android, Edge), else the vendored jsQR decoder (static/vendor/jsqr, loaded on first
// use) over camera frames drawn to a canvas. Pages always offer a field to type the code too.

const JSQR_SRC = "/static/vendor/jsqr/jsQR.js";
const FRAME_MS = 150;
let jsqrLoading = null;

/** Whether this browser can open a camera at all (the decoding works everywhere). */
export const canScan = () => !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);

/** The jsQR function, loading the vendored script once (same origin: allowed by the CSP). */
function loadJsQr() {
  if (window.jsQR) return Promise.resolve(window.jsQR);
  if (!jsqrLoading) {
    jsqrLoading = new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = JSQR_SRC;
      s.onload = () => resolve(window.jsQR);
      s.onerror = () => { jsqrLoading = null; reject(new Error("the QR decoder did not load")); };
      document.head.append(s);
    });
  }
  return jsqrLoading;
}

async function nativeDetector() {
  if (!("BarcodeDetector" in window)) return null;
  try {
    const formats = await window.BarcodeDetector.getSupportedFormats();
    return formats.includes("qr_code") ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
  } catch {
    return null;
  }
}

/** A reader of one video frame: resolves to the QR text in it, or null. */
async function frameReader(video) {
  const detector = await nativeDetector();
  if (detector) {
    return async () => {
      const found = await detector.detect(video);
      return found.length ? found[0].rawValue : null;
    };
  }
  const jsQR = await loadJsQr();
  const canvas = document.createElement("canvas");
  const g = canvas.getContext("2d", { willReadFrequently: true });
  return async () => {
    const w = video.videoWidth;
    const hgt = video.videoHeight;
    if (!w || !hgt) return null;
    canvas.width = w;
    canvas.height = hgt;
    g.drawImage(video, 0, 0, w, hgt);
    const found = jsQR(g.getImageData(0, 0, w, hgt).data, w, hgt, { inversionAttempts: "attemptBoth" });
    return found ? found.data : null;
  };
}

/**
 * Look through the back camera for up to ``timeoutMs``; the code read, or null. While it looks,
 * the live picture is shown in ``preview`` (an element) so the person can aim.
 */
export async function readQr({ preview = null, timeoutMs = 20000 } = {}) {
  let stream = null;
  const video = document.createElement("video");
  video.playsInline = true;
  video.muted = true;
  video.className = "scan-preview";
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    video.srcObject = stream;
    if (preview) preview.replaceChildren(video);
    await video.play();
    const read = await frameReader(video);
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const text = await read();
      if (text) return text;
      await new Promise((r) => setTimeout(r, FRAME_MS));
    }
    return null;
  } catch {
    return null;
  } finally {
    if (stream) for (const track of stream.getTracks()) track.stop();
    video.remove();
    if (preview) preview.replaceChildren();
  }
}

/** Decode a QR from an image already on the page (e.g. to check a printed code); text or null. */
export async function decodeImage(img) {
  const jsQR = await loadJsQr();
  const canvas = document.createElement("canvas");
  // Drawn at least 480 px wide: a small vector QR needs a few pixels per module to be read.
  const scale = Math.max(1, 480 / (img.width || img.naturalWidth || 480));
  canvas.width = Math.round((img.width || img.naturalWidth) * scale);
  canvas.height = Math.round((img.height || img.naturalHeight) * scale);
  const g = canvas.getContext("2d", { willReadFrequently: true });
  g.fillStyle = "#fff";
  g.fillRect(0, 0, canvas.width, canvas.height);
  g.drawImage(img, 0, 0, canvas.width, canvas.height);
  const found = jsQR(g.getImageData(0, 0, canvas.width, canvas.height).data, canvas.width, canvas.height);
  return found ? found.data : null;
}
