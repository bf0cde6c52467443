// What an ID-card reader types into the kiosk (docs/kiosk.md): readers work as a keyboard
// wedge into the focused ID field and end with Enter. A plain reader types the 18-character
// number; readers that also read the chip's name type "name|number" (either order) or one JSON
// line {"id_number": "...", "name": "..."}. The name saves a Chinese name being tapped in.

const ID = /^[0-9]{17}[0-9X]$/;

/** The number and (when given) the name in a reader's line; null when it is neither. */
export function readCard(raw) {
  const text = String(raw || "").trim();
  if (!text) return null;
  if (text.startsWith("{")) {
    try {
      const data = JSON.parse(text);
      const id = String(data.id_number || "").toUpperCase();
      return ID.test(id) ? { idNumber: id, name: cleanName(data.name) } : null;
    } catch {
      return null;
    }
  }
  if (text.includes("|")) {
    const parts = text.split("|").map((p) => p.trim());
    const id = parts.find((p) => ID.test(p.toUpperCase()));
    if (!id) return null;
    const name = parts.find((p) => p !== id && p);
    return { idNumber: id.toUpperCase(), name: cleanName(name) };
  }
  const id = text.toUpperCase();
  return ID.test(id) ? { idNumber: id, name: null } : null;
}

/** Whether a field's text is (the start of) a reader's line rather than typed digits: the
 * keypad types only digits and X, so anything else came from the reader (the name first). */
export const isReaderLine = (text) => /[^0-9Xx]/.test(text);

function cleanName(name) {
  const s = String(name || "").replace(/\s+/g, "").slice(0, 20);
  return s || null;
}
