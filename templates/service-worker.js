{% load static %}// Damane, the installed web app: service worker for the whole site (scope "/").
// Without a network, a page the person opens is replaced by the offline page, which
// says what still works (the offline verifier) and what needs the network. It never
// stores a page it fetched: personal pages (account, certificates, requests, share
// codes) stay out of every cache. The offline verifier keeps its own worker and cache
// (verification/offline-sw.js), and this one leaves its pages alone.
"use strict";

const CACHE = "damane-app-v1-{{ language }}";
const OFFLINE = "{% url 'offline' %}?lang={{ language }}";
const VERIFIER = "{% url 'verification:offline' %}";
// What the offline page needs to be drawn, and nothing else.
const SHELL = [
  "{% static 'css/damane.css' %}",
  "{% static 'js/ui.js' %}",
  "{% static 'img/logo.svg' %}",
  "{% static 'img/icons/icon-192.png' %}",
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => Promise.all([
        // Without cookies: the page is the same for everyone and carries nobody's session.
        fetch(OFFLINE, { credentials: "omit" }).then((response) => {
          if (!response.ok) throw new Error(`offline page: HTTP ${response.status}`);
          return cache.put(OFFLINE, response);
        }),
        cache.addAll(SHELL),
      ]))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((name) => name.startsWith("damane-app-") && name !== CACHE).map((name) => caches.delete(name)),
      ))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith(VERIFIER)) return;  // The offline verifier's own worker answers there.
  if (request.mode === "navigate") {
    // The network's answer goes to the page and nowhere else.
    event.respondWith(fetch(request).catch(() => caches.open(CACHE).then((cache) => cache.match(OFFLINE))));
    return;
  }
  if (SHELL.includes(url.pathname)) {
    event.respondWith(fetch(request).catch(() => caches.open(CACHE).then((cache) => cache.match(url.pathname))));
  }
});
