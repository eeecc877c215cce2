// Damane offline verifier: checks a certificate's QR payload (DMN1) with the
// fund's published keys and revocation list, cached in this browser, with no
// network once the page is loaded. Format: docs/verification.md.
"use strict";

import { sameCertificate, splitQrText } from "./qr-text.js";

const TOKEN_RE = /^DMN1\.([0-9a-f]{16})\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{86})$/;
const STORE_KEYS = "damane.verifier.keys";
const STORE_REVOCATIONS = "damane.verifier.revocations";

const root = document.getElementById("offline-verifier");
const t = (name) => root.dataset[name] || name;

function b64urlToBytes(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  const binary = atob(base64);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

async function sha256Hex(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function verifyToken(token, jwks) {
  const match = TOKEN_RE.exec(token);
  if (!match) throw new Error("malformed");
  const jwk = (jwks.keys || []).find((k) => k.kid === match[1]);
  if (!jwk) throw new Error("unknown_key");
  const key = await crypto.subtle.importKey(
    "jwk",
    { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, ext: true },
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["verify"],
  );
  const signingInput = new TextEncoder().encode(token.slice(0, token.lastIndexOf(".")));
  const ok = await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, b64urlToBytes(match[3]), signingInput);
  if (!ok) throw new Error("bad_signature");
  return JSON.parse(new TextDecoder().decode(b64urlToBytes(match[2])));
}

async function fetchJson(url) {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new Error(String(response.status));
  return response.json();
}

let material = { keys: null, revocations: null, syncedAt: null };

async function sync() {
  const status = document.getElementById("sync-status");
  try {
    const [keys, list] = await Promise.all([fetchJson(root.dataset.keysUrl), fetchJson(root.dataset.revocationsUrl)]);
    localStorage.setItem(STORE_KEYS, JSON.stringify(keys));
    localStorage.setItem(STORE_REVOCATIONS, JSON.stringify(list));
  } catch (error) {
    // Offline: keep what was cached last time.
  }
  const keys = JSON.parse(localStorage.getItem(STORE_KEYS) || "null");
  const list = JSON.parse(localStorage.getItem(STORE_REVOCATIONS) || "null");
  if (!keys) {
    status.textContent = t("noKeys");
    return;
  }
  material.keys = keys;
  // Only the signed copy of the revocation list is trusted.
  try {
    const claims = list ? await verifyToken(list.signed, keys) : null;
    material.revocations = claims && claims.t === "revocations" ? claims : null;
  } catch (error) {
    material.revocations = null;
  }
  material.syncedAt = material.revocations ? material.revocations.g : null;
  status.textContent = material.revocations ? `${t("syncedAt")} ${material.syncedAt}` : t("noRevocations");
}

function row(label, value) {
  const dt = document.createElement("dt");
  dt.textContent = label;
  const dd = document.createElement("dd");
  dd.textContent = value;
  return [dt, dd];
}

function show(verdictClass, title, claims) {
  const box = document.getElementById("offline-result");
  box.classList.remove("hidden");
  const verdict = box.querySelector(".verdict");
  verdict.className = `verdict ${verdictClass}`;
  verdict.querySelector("h2").textContent = title;
  const facts = box.querySelector("dl");
  facts.replaceChildren();
  if (!claims) return;
  const kinds = { E: t("kindE"), A: t("kindA"), N: t("kindN"), S: t("kindS"), D: t("kindD"), R: t("kindR") };
  const rows = [
    [t("labelType"), kinds[claims.k] || claims.k],
    [t("labelNumber"), claims.n],
    [t("labelHolder"), claims.h],
    [t("labelIssued"), claims.i],
    [t("labelValidUntil"), claims.u],
  ];
  const f = claims.f || {};
  if (f.e) rows.push([t("labelEmployer"), f.e]);
  if (f.s) rows.push([t("labelSince"), f.s]);
  if (f.x) rows.push([t("labelUntil"), f.x]);
  if (f.p) rows.push([t("labelPeriod"), f.p]);
  for (const [label, value] of rows) facts.append(...row(label, value));
}

async function check(text) {
  if (!material.keys) await sync();
  if (!material.keys) return show("verdict-bad", t("noKeys"), null);
  let claims;
  const parts = splitQrText(text);
  try {
    if (!parts) throw new Error("malformed");
    claims = await verifyToken(parts.token, material.keys);
  } catch (error) {
    return show("verdict-bad", t("notGenuine"), null);
  }
  // A payload grafted onto another certificate's address: the phone would open one, this page check the other.
  if (!sameCertificate(parts.publicId, claims)) return show("verdict-bad", t("grafted"), null);
  const entry = await sha256Hex(claims.id);
  const today = new Date().toISOString().slice(0, 10);
  if (material.revocations && material.revocations.r.includes(entry)) return show("verdict-bad", t("revoked"), claims);
  if (claims.u < today) return show("verdict-bad", t("expired"), claims);
  if (material.revocations && material.revocations.s.includes(entry)) return show("verdict-bad", t("replaced"), claims);
  return show("verdict-ok", material.revocations ? t("valid") : t("validUnchecked"), claims);
}

async function scan() {
  const video = document.querySelector("#scanner video");
  const detector = new BarcodeDetector({ formats: ["qr_code"] });
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
  video.srcObject = stream;
  video.classList.remove("hidden");
  await video.play();
  const stop = () => stream.getTracks().forEach((track) => track.stop());
  const tick = async () => {
    const codes = await detector.detect(video).catch(() => []);
    if (codes.length) {
      stop();
      video.classList.add("hidden");
      document.getElementById("payload").value = codes[0].rawValue;
      return check(codes[0].rawValue);
    }
    requestAnimationFrame(tick);
  };
  tick();
}

document.getElementById("offline-form").addEventListener("submit", (event) => {
  event.preventDefault();
  check(document.getElementById("payload").value);
});
if ("BarcodeDetector" in window && navigator.mediaDevices) {
  const button = document.getElementById("scan-button");
  button.classList.remove("hidden");
  button.addEventListener("click", () => scan().catch(() => button.classList.add("hidden")));
}
sync();
