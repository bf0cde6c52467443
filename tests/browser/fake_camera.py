"""A camera for Chromium that films a QR code: a Y4M video written by hand (a 40-byte header,
then raw 4:2:0 frames), for ``--use-file-for-fake-video-capture``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import qrcode

WIDTH, HEIGHT = 640, 480


def qr_frame(text: str) -> np.ndarray:
    """A grey frame (luma) with ``text`` as a QR code in the middle, quiet zone included."""
    code = qrcode.QRCode(border=4, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text)
    code.make(fit=True)
    modules = np.array(code.get_matrix(), dtype=bool)
    scale = (HEIGHT - 40) // modules.shape[0]
    img = np.kron(modules, np.ones((scale, scale), dtype=bool))
    # Video levels: 16 is black, 235 white; the surround is a light grey wall.
    frame = np.full((HEIGHT, WIDTH), 200, dtype=np.uint8)
    top, left = (HEIGHT - img.shape[0]) // 2, (WIDTH - img.shape[1]) // 2
    frame[top:top + img.shape[0], left:left + img.shape[1]] = np.where(img, 16, 235)
    return frame


def write_y4m(path: Path, text: str, frames: int = 10) -> Path:
    """A short looping video of the QR for ``text``; Chromium replays it as the camera."""
    luma = qr_frame(text).tobytes()
    chroma = bytes([128]) * ((WIDTH // 2) * (HEIGHT // 2))
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            f.write(b"FRAME\n" + luma + chroma + chroma)
    return path
