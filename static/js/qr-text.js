// What a certificate's QR text says, and whether its two names of the
// certificate agree (docs/security.md §22). The server applies the same rule in
// verification/services.py (read_qr_text); format: docs/verification.md.
"use strict";

const QR_TEXT_RE = /\/verify\/([A-Za-z0-9_-]{16,64})#(DMN[^#\s]+)$/;

// {publicId, token} from a scanned text; a payload alone gives publicId "".
// null when the text is an address that is not exactly a certificate's.
export function splitQrText(text) {
  const trimmed = (text || "").trim();
  const match = QR_TEXT_RE.exec(trimmed);
  if (match) return { publicId: match[1], token: match[2] };
  if (trimmed.includes("/verify/") || trimmed.includes("#")) return null;
  return { publicId: "", token: trimmed };
}

// The claims of a payload, decoded without checking its signature (for the
// address check only: only a verified signature makes them trustworthy).
export function unverifiedClaims(token) {
  const parts = (token || "").split(".");
  if (parts.length !== 4) return null;
  try {
    const base64 = parts[2].replace(/-/g, "+").replace(/_/g, "/") + "===".slice((parts[2].length + 3) % 4);
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    // DMN2 (certificate QR codes since issue 11): positional claims, the public id first.
    if (Array.isArray(claims)) return typeof claims[0] === "string" ? { id: claims[0] } : null;
    return claims && typeof claims === "object" ? claims : null;
  } catch (error) {
    return null;
  }
}

// The address and the payload name one and the same certificate (no address: nothing to compare).
export function sameCertificate(publicId, claims) {
  return !publicId || (claims && typeof claims.id === "string" && claims.id === publicId);
}
