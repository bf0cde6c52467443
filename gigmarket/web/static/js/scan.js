// Reading a QR code with the phone's camera, where the browser can (BarcodeDetector); pages
// always offer a field to type the code as well, for browsers that cannot.

/** Whether this browser can read a QR code from the camera at all. */
export const canScan = () => "BarcodeDetector" in window && !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);

/** Look through the back camera for up to ten seconds; the code read, or null. */
export async function readQr() {
  let stream = null;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    const video = document.createElement("video");
    video.playsInline = true;
    video.muted = true;
    video.srcObject = stream;
    await video.play();
    const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    for (let i = 0; i < 50; i++) {
      const found = await detector.detect(video);
      if (found.length) return found[0].rawValue;
      await new Promise((r) => setTimeout(r, 200));
    }
    return null;
  } catch {
    return null;
  } finally {
    if (stream) for (const track of stream.getTracks()) track.stop();
  }
}
