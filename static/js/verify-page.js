// The verify page opened from a QR code: the signed payload stays in the
// address's fragment, which the server never sees. If it names another
// certificate than the page's address, the paper is not genuine (docs/security.md §22).
"use strict";

import { sameCertificate, unverifiedClaims } from "./qr-text.js";

const check = document.getElementById("qr-check");
const hash = window.location.hash.slice(1);
if (check && hash) {
  const claims = unverifiedClaims(decodeURIComponent(hash));
  if (!claims || !sameCertificate(check.dataset.publicId, claims)) {
    document.getElementById("certificate-verdict").hidden = true;
    check.hidden = false;
  }
}
