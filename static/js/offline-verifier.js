// Damane offline verifier: checks a certificate's QR payload (DMN1, DMN2) with the
// fund's published keys and revocation list, cached in this browser, with no
// network once the page is loaded. Format: docs/verification.md. It also checks a
// receipt of the integrator API (a JWS, docs/integrators.md "Signed receipts")
// against the same keys, and shows what the fund answered, when and to what.
"use strict";

import { sameCertificate, splitQrText } from "./qr-text.js";

// DMN1: 16-hex key id, JSON object claims (revocation list, older certificates).
// DMN2: 8-hex key id prefix, positional claims [id, kind, number, holder, issued, valid until].
const TOKEN_RE = /^DMN([12])\.([0-9a-f]{8}|[0-9a-f]{16})\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{86})$/;
const QR_FIELDS = ["id", "k", "n", "h", "i", "u"];
const STORE_KEYS = "damane.verifier.keys";
const STORE_REVOCATIONS = "damane.verifier.revocations";

const root = document.getElementById("offline-verifier");
const t = (name) => root.dataset[name] || name;
// The certificate kinds by QR letter, labelled in the page's language, as the
// registry publishes them (certificates.registry, embedded by the page).
const kinds = JSON.parse(document.getElementById("offline-kinds")?.textContent || "{}");
// The same labels by kind name ("employment"), as the API's answers name them.
const kindNames = JSON.parse(document.getElementById("offline-kind-names")?.textContent || "{}");

function b64urlToBytes(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  const binary = atob(base64);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

async function sha256Hex(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

function expandClaims(version, json) {
  const value = JSON.parse(json);
  if (version === "1") return value;
  if (!Array.isArray(value) || value.length !== QR_FIELDS.length) throw new Error("malformed");
  const claims = Object.fromEntries(QR_FIELDS.map((name, i) => [name, value[i]]));
  for (const name of ["i", "u"]) {
    const day = String(claims[name]);
    claims[name] = `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}`;
  }
  return claims;
}

async function verifyToken(token, jwks) {
  const match = TOKEN_RE.exec(token);
  if (!match) throw new Error("malformed");
  const [, version, kid, body, signature] = match;
  if ((version === "1") !== (kid.length === 16)) throw new Error("malformed");
  const jwk = (jwks.keys || []).find((k) => k.kid.startsWith(kid));
  if (!jwk) throw new Error("unknown_key");
  const key = await crypto.subtle.importKey(
    "jwk",
    { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, ext: true },
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["verify"],
  );
  const signingInput = new TextEncoder().encode(token.slice(0, token.lastIndexOf(".")));
  const ok = await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, b64urlToBytes(signature), signingInput);
  if (!ok) throw new Error("bad_signature");
  return expandClaims(version, new TextDecoder().decode(b64urlToBytes(body)));
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
  if (material.revocations) {
    status.replaceChildren(`${t("syncedAt")} `, ltr(formatMoment(material.syncedAt)), ".");
  } else {
    status.textContent = t("noRevocations");
  }
}

const MONTHS = (root.dataset.months || "").split("|");
const pad = (n) => String(n).padStart(2, "0");

// dd/mm/yyyy in every language, as on the certificates.
function formatDay(iso) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
  return match ? `${match[3]}/${match[2]}/${match[1]}` : iso;
}

// "202610" -> the month in words of the page's language: "octobre 2026", "أكتوبر 2026".
function formatPeriod(period) {
  const match = /^(\d{4})(\d{2})$/.exec(String(period || ""));
  if (!match || !MONTHS[Number(match[2]) - 1]) return period;
  return `${MONTHS[Number(match[2]) - 1]} ${match[1]}`;
}

// A moment in this device's time zone: dd/mm/yyyy hh:mm.
function formatMoment(value) {
  const moment = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(moment.getTime())) return String(value);
  return `${pad(moment.getDate())}/${pad(moment.getMonth() + 1)}/${moment.getFullYear()} `
    + `${pad(moment.getHours())}:${pad(moment.getMinutes())}`;
}

// Numbers, codes and dates keep their own direction inside Arabic text.
function ltr(text) {
  const bdi = document.createElement("bdi");
  bdi.dir = "ltr";
  bdi.textContent = text;
  return bdi;
}

// isolate: true keeps the value left to right on one line; "wrap" lets a long one (a request) wrap.
function row(label, value, isolate) {
  const dt = document.createElement("dt");
  dt.textContent = label;
  const dd = document.createElement("dd");
  if (isolate) {
    const bdi = ltr(value);
    if (isolate === "wrap") bdi.className = "url";
    dd.append(bdi);
  } else dd.textContent = value;
  return [dt, dd];
}

// The verdict, then [label, value, isolate] rows.
function showRows(verdictClass, title, rows) {
  const box = document.getElementById("offline-result");
  box.classList.remove("hidden");
  const verdict = box.querySelector(".verdict");
  verdict.className = `verdict ${verdictClass}`;
  verdict.querySelector("h2").textContent = title;
  const facts = box.querySelector("dl");
  facts.replaceChildren();
  document.getElementById("offline-checked-at").replaceChildren(`${t("checkedAt")} `, ltr(formatMoment(new Date())), ".");
  for (const [label, value, isolate] of rows) facts.append(...row(label, value, isolate));
}

function show(verdictClass, title, claims) {
  if (!claims) return showRows(verdictClass, title, []);
  const rows = [
    [t("labelType"), kinds[claims.k] || claims.k],
    [t("labelNumber"), claims.n, true],
    [t("labelHolder"), claims.h],
    [t("labelIssued"), formatDay(claims.i), true],
    [t("labelValidUntil"), formatDay(claims.u), true],
  ];
  const f = claims.f || {};
  if (f.e) rows.push([t("labelEmployer"), f.e]);
  if (f.s) rows.push([t("labelSince"), formatDay(f.s), true]);
  if (f.x) rows.push([t("labelUntil"), formatDay(f.x), true]);
  if (f.p) rows.push([t("labelPeriod"), formatPeriod(f.p)]);
  return showRows(verdictClass, title, rows);
}

async function check(text) {
  if (!material.keys) await sync();
  if (!material.keys) return show("verdict-bad", t("noKeys"), null);
  // A receipt may come wrapped over several lines: its alphabet has no white space.
  const receipt = (text || "").replace(/\s+/g, "");
  if (RECEIPT_RE.test(receipt)) return checkReceipt(receipt);
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
  // "Today" is the fund's, Africa/Casablanca (docs/verification.md, "Expiry"), not UTC or the device's zone.
  const today = new Intl.DateTimeFormat("en-CA", {
    timeZone: "Africa/Casablanca", year: "numeric", month: "2-digit", day: "2-digit",
  }).format(new Date());
  if (material.revocations && material.revocations.r.includes(entry)) return show("verdict-bad", t("revoked"), claims);
  if (claims.u < today) return show("verdict-bad", t("expired"), claims);
  if (material.revocations && material.revocations.s.includes(entry)) return show("verdict-bad", t("replaced"), claims);
  return show("verdict-ok", material.revocations ? t("valid") : t("validUnchecked"), claims);
}

// --- Receipts of the integrator API (docs/integrators.md, "Signed receipts") ---------------

// JWS compact serialisation: header.claims.signature, an ES256 signature being 64 bytes.
const RECEIPT_RE = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{86})$/;

function decodeJson(part) {
  return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(b64urlToBytes(part)));
}

// The claims of a receipt whose signature verifies with the published key its kid names,
// exactly (the full id: no prefix match); only ES256, whatever else the header says.
async function verifyReceipt(receipt, jwks) {
  const match = RECEIPT_RE.exec(receipt);
  if (!match) throw new Error("malformed");
  const header = decodeJson(match[1]);
  if (!header || header.alg !== "ES256" || typeof header.kid !== "string") throw new Error("malformed");
  const jwk = (jwks.keys || []).find((k) => k.kid === header.kid);
  if (!jwk) throw new Error("unknown_key");
  const key = await crypto.subtle.importKey(
    "jwk",
    { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, ext: true },
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["verify"],
  );
  const signingInput = new TextEncoder().encode(`${match[1]}.${match[2]}`);
  const ok = await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, b64urlToBytes(match[3]), signingInput);
  if (!ok) throw new Error("bad_signature");
  const claims = decodeJson(match[2]);
  if (!claims || typeof claims !== "object" || Array.isArray(claims) || !("res" in claims)) throw new Error("malformed");
  return claims;
}

// A Unix time as the fund's clock reads it (Africa/Casablanca): dd/mm/yyyy hh:mm:ss.
function formatFundMoment(seconds) {
  const moment = new Date(Number(seconds) * 1000);
  if (!Number.isFinite(Number(seconds)) || Number.isNaN(moment.getTime())) return String(seconds);
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-GB", {
    timeZone: "Africa/Casablanca", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  }).formatToParts(moment).map((part) => [part.type, part.value]));
  return `${parts.day}/${parts.month}/${parts.year} ${parts.hour}:${parts.minute}:${parts.second}`;
}

const STATES = { valid: "stateValid", revoked: "stateRevoked", expired: "stateExpired", replaced: "stateReplaced" };

// One answer of /api/v1/verify, in a line: "AT-2026-00000042 · Valid", or "not genuine".
function verdictLine(answer) {
  if (!answer || answer.genuine !== true) return t("answerNotGenuine");
  return `${answer.number} · ${STATES[answer.state] ? t(STATES[answer.state]) : answer.state}`;
}

function answerRows(res) {
  if (Array.isArray(res)) {
    // /api/v1/verify/batch: one verdict per item, in the order asked.
    return res.map((item, i) => [`${t("labelItem")} ${i + 1}`, verdictLine(item), true]);
  }
  if (res && "genuine" in res) {
    if (res.genuine !== true) return [[t("labelAnswer"), t("answerNotGenuine")]];
    const rows = [
      [t("labelAnswer"), t("answerGenuine")],
      [t("labelState"), STATES[res.state] ? t(STATES[res.state]) : String(res.state)],
      [t("labelType"), kindNames[res.type] || String(res.type)],
      [t("labelNumber"), String(res.number), true],
    ];
    if (res.holder && res.holder.name) rows.push([t("labelHolder"), res.holder.name]);
    if (res.issued_on) rows.push([t("labelIssued"), formatDay(res.issued_on), true]);
    if (res.valid_until) rows.push([t("labelValidUntil"), formatDay(res.valid_until), true]);
    if (res.revoked_on) rows.push([t("labelRevokedOn"), formatDay(res.revoked_on), true]);
    return rows;
  }
  if (res && "valid" in res) {
    if (res.valid !== true) return [[t("labelAnswer"), t("answerShareInvalid")]];
    const rows = [[t("labelAnswer"), t("answerShareValid")]];
    if (res.recipient) rows.push([t("labelRecipient"), res.recipient]);
    if (res.holder && res.holder.name) rows.push([t("labelHolder"), res.holder.name]);
    return rows;
  }
  return [[t("labelAnswer"), JSON.stringify(res), "wrap"]];
}

async function checkReceipt(receipt) {
  let claims;
  try {
    claims = await verifyReceipt(receipt, material.keys);
  } catch (error) {
    // Altered, forged, malformed or signed with a key the fund has not published: one answer.
    return showRows("verdict-bad", t("notAReceipt"), []);
  }
  const req = claims.req || {};
  const rows = [
    [t("labelAnsweredAt"), formatFundMoment(claims.iat), true],
    [t("labelRequest"), `${req.method || ""} ${req.path || ""} ${JSON.stringify(req.params || {})}`.trim(), "wrap"],
  ];
  if (claims.org) rows.push([t("labelOrganisation"), String(claims.org)]);
  if (claims.key) rows.push([t("labelKey"), String(claims.key), true]);
  rows.push(...answerRows(claims.res));
  return showRows("verdict-ok", t("receiptGenuine"), rows);
}

// jsQR (Apache-2.0, npm "jsqr" 1.4.0, static/js/vendor/) reads frames where the
// browser has no BarcodeDetector (Chromium on Linux and Windows); loaded only then.
function loadJsQR() {
  if (window.jsQR) return Promise.resolve(window.jsQR);
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = root.dataset.jsqrUrl;
    script.onload = () => resolve(window.jsQR);
    script.onerror = reject;
    document.head.append(script);
  });
}

async function frameReader(video) {
  if ("BarcodeDetector" in window) {
    const detector = new BarcodeDetector({ formats: ["qr_code"] });
    return async () => ((await detector.detect(video).catch(() => []))[0] || {}).rawValue;
  }
  const decode = await loadJsQR();
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  return async () => {
    if (!video.videoWidth) return undefined;
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    context.drawImage(video, 0, 0);
    const frame = context.getImageData(0, 0, canvas.width, canvas.height);
    return (decode(frame.data, frame.width, frame.height, { inversionAttempts: "dontInvert" }) || {}).data;
  };
}

async function scan() {
  const video = document.querySelector("#scanner video");
  const read = await frameReader(video);
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
  video.srcObject = stream;
  video.classList.remove("hidden");
  await video.play();
  const stop = () => stream.getTracks().forEach((track) => track.stop());
  const tick = async () => {
    const text = await read();
    if (text) {
      stop();
      video.classList.add("hidden");
      document.getElementById("payload").value = text;
      return check(text);
    }
    setTimeout(tick, 150);
  };
  tick();
}

document.getElementById("offline-form").addEventListener("submit", (event) => {
  event.preventDefault();
  check(document.getElementById("payload").value);
});
if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
  const button = document.getElementById("scan-button");
  button.classList.remove("hidden");
  button.addEventListener("click", () => scan().catch(() => button.classList.add("hidden")));
}
document.getElementById("verify-another").addEventListener("click", () => {
  document.getElementById("offline-result").classList.add("hidden");
  const payload = document.getElementById("payload");
  payload.value = "";
  payload.focus();
});

// After one visit, the service worker serves this page and its data with no network.
if ("serviceWorker" in navigator) {
  navigator.serviceWorker
    .register(root.dataset.serviceWorker, { scope: root.dataset.scope })
    .then(() => navigator.serviceWorker.ready)
    .then(() => { root.dataset.offlineReadyState = "ready"; })
    .catch(() => {});
}
sync();
