/* Learnloop service worker, served at /sw.js with scope "/".
   The server replaces the version placeholder below, so every release gets fresh caches. */
const VERSION = "__LEARNLOOP_VERSION__";

const CACHE_PREFIX = "learnloop-";
const SHELL_CACHE = `${CACHE_PREFIX}shell-${VERSION}`;
const CURRENT_CACHES = [SHELL_CACHE];
const OFFLINE_URL = "/offline.html";
const PRECACHE_URLS = [
  OFFLINE_URL,
  "/static/app.css",
  "/static/app.js",
  "/static/icons/icon-192.png",
  "/static/favicon.svg",
];
const CACHE_FIRST_PREFIXES = ["/static/", "/reactpy/static/"];
// Per-user or large: always straight to the network, never stored.
const NEVER_CACHE_PREFIXES = ["/api/", "/auth/", "/media/"];
const NOTIFICATION_ICON = "/static/icons/icon-192.png";
const NOTIFICATION_BADGE = "/static/icons/badge-96.png";

function startsWithAny(path, prefixes) {
  return prefixes.some((prefix) => path.startsWith(prefix));
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(SHELL_CACHE)
      // "reload" skips the HTTP cache, so a new version never precaches yesterday's files.
      .then((cache) => cache.addAll(PRECACHE_URLS.map((url) => new Request(url, { cache: "reload" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(
        names
          .filter((name) => name.startsWith(CACHE_PREFIX) && !CURRENT_CACHES.includes(name))
          .map((name) => caches.delete(name)),
      );
      // Lets navigations start while the worker boots: a real gain on a slow phone.
      if (self.registration.navigationPreload) {
        await self.registration.navigationPreload.enable();
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;

  // Pages are per user and live: network only (nothing stored), the offline page when it fails.
  if (request.mode === "navigate") {
    event.respondWith(networkFirstNavigation(event));
    return;
  }
  if (startsWithAny(url.pathname, NEVER_CACHE_PREFIXES)) return;
  if (request.headers.has("range")) return;
  if (startsWithAny(url.pathname, CACHE_FIRST_PREFIXES)) {
    event.respondWith(staleWhileRevalidate(event));
  }
});

async function networkFirstNavigation(event) {
  try {
    const preloaded = await event.preloadResponse;
    if (preloaded) return preloaded;
    return await fetch(event.request);
  } catch (error) {
    const cache = await caches.open(SHELL_CACHE);
    const offline = await cache.match(OFFLINE_URL);
    return offline || Response.error();
  }
}

// Answer from the cache at once when possible; refresh the cached copy in the background.
async function staleWhileRevalidate(event) {
  const { request } = event;
  const cache = await caches.open(SHELL_CACHE);
  const cached = await cache.match(request);
  const network = fetch(request).then((response) => {
    if (response.status === 200 && response.type === "basic") {
      const copy = response.clone();
      event.waitUntil(cache.put(request, copy).catch(() => undefined));
    }
    return response;
  });
  if (cached) {
    event.waitUntil(network.catch(() => undefined));
    return cached;
  }
  return network;
}

/* ---- push notifications ---- */

// Only our own pages may be opened from a notification.
function sameOriginUrl(value) {
  try {
    const url = new URL(value || "/", self.location.origin);
    return url.origin === self.location.origin ? url.href : new URL("/", self.location.origin).href;
  } catch (error) {
    return new URL("/", self.location.origin).href;
  }
}

self.addEventListener("push", (event) => {
  let payload = {};
  if (event.data) {
    try {
      payload = event.data.json() || {};
    } catch (error) {
      payload = { body: event.data.text() };
    }
  }
  // Always show something: iOS revokes the subscription after pushes that show no notification.
  const title = typeof payload.title === "string" && payload.title ? payload.title : "Learnloop";
  event.waitUntil(
    self.registration.showNotification(title, {
      body: typeof payload.body === "string" ? payload.body : "",
      icon: NOTIFICATION_ICON,
      badge: NOTIFICATION_BADGE,
      data: { url: sameOriginUrl(payload.url) },
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = sameOriginUrl(event.notification.data && event.notification.data.url);
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      const open = windows.find((client) => client.url === target);
      if (open) return open.focus();
      return self.clients.openWindow(target);
    })(),
  );
});
