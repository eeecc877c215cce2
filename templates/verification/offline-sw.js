{% load static %}// Damane offline verifier: service worker. After one visit with a network, the
// verifier page, its script, style and the fund's keys and revocation list open
// from this cache with no network. Online, the network answers first and the
// cache is refreshed, so a new revocation list replaces the old one at once.
"use strict";

const CACHE = "damane-offline-verifier-v1";
const PAGE = "{% url 'verification:offline' %}";
const SHELL = [
  PAGE,
  "{% static 'css/damane.css' %}",
  "{% static 'js/ui.js' %}",
  "{% static 'js/offline-verifier.js' %}",
  "{% static 'js/qr-text.js' %}",
  "{% static 'js/vendor/jsQR.js' %}",
  "{% static 'img/logo.svg' %}",
  "{% url 'verification:keys' %}",
  "{% url 'verification:revocations' %}",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((name) => name.startsWith("damane-offline-verifier-") && name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  // The page is cached under its path: a query string or a language switch still finds it.
  const key = request.mode === "navigate" ? PAGE : url.pathname;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(key, copy));
        }
        return response;
      })
      .catch(() => caches.match(key).then((cached) => cached || Response.error())),
  );
});
