/* Learnloop service worker, served at /sw.js with scope "/".
   The server replaces the version placeholder below, so every release gets fresh caches. */
const VERSION = "__LEARNLOOP_VERSION__";

// The reflection outbox (IndexedDB + replay), shared with the writer page.
importScripts(`/static/outbox.js?v=${VERSION}`);
const Outbox = self.LearnloopOutbox;

const CACHE_PREFIX = "learnloop-";
const SHELL_CACHE = `${CACHE_PREFIX}shell-${VERSION}`;
// Per-user copies that must outlive a new version: writer pages and my assignment list. Both are
// refreshed whenever the network answers, and dropped when the server says we are signed out.
const PAGES_CACHE = Outbox.PAGES_CACHE;
const API_CACHE = Outbox.API_CACHE;
const CURRENT_CACHES = [SHELL_CACHE, PAGES_CACHE, API_CACHE];
const WRITER_PAGE = /^\/write\/\d+$/;
const OFFLINE_URL = "/offline.html";
const PRECACHE_URLS = [
  OFFLINE_URL,
  "/static/app.css",
  "/static/app.js",
  "/static/outbox.js",
  "/static/write.js",
  "/static/write.css",
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

  // The writer works offline: its page is kept per assignment and served when the network fails.
  if (request.mode === "navigate" && WRITER_PAGE.test(url.pathname)) {
    event.respondWith(writerPage(event, url));
    return;
  }
  // Other pages are per user and live: network only (nothing stored), the offline page when it fails.
  if (request.mode === "navigate") {
    event.respondWith(networkFirstNavigation(event));
    return;
  }
  if (url.pathname === Outbox.ASSIGNMENTS_URL && !url.search) {
    event.respondWith(assignmentsNetworkFirst(event));
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
  try {
    return await network;
  } catch (error) {
    // Offline with a page cached under another version's ?v=: the precached copy will do.
    const fallback = await cache.match(request, { ignoreSearch: true });
    if (fallback) return fallback;
    throw error;
  }
}

/* ---- the reflection writer, offline ---- */

async function forgetPersonalCopies() {
  await Promise.all([caches.delete(PAGES_CACHE), caches.delete(API_CACHE)]);
}

async function writerPage(event, url) {
  const cache = await caches.open(PAGES_CACHE);
  try {
    const response = (await event.preloadResponse) || (await fetch(event.request));
    if (response.status === 200 && !response.redirected && response.type === "basic") {
      event.waitUntil(cache.put(url.pathname, response.clone()).catch(() => undefined));
    } else if (response.type === "opaqueredirect" || response.redirected || [401, 404].includes(response.status)) {
      // Signed out, or not mine (any more): no copy of it may stay on this phone.
      event.waitUntil(cache.delete(url.pathname).catch(() => undefined));
    }
    return response;
  } catch (error) {
    const cached = await cache.match(url.pathname, { ignoreVary: true });
    if (cached) return cached;
    const offline = await (await caches.open(SHELL_CACHE)).match(OFFLINE_URL);
    return offline || Response.error();
  }
}

async function assignmentsNetworkFirst(event) {
  const cache = await caches.open(API_CACHE);
  try {
    const response = await fetch(event.request);
    if (response.status === 200) {
      event.waitUntil(cache.put(Outbox.ASSIGNMENTS_URL, response.clone()).catch(() => undefined));
    } else if (response.status === 401) {
      event.waitUntil(forgetPersonalCopies().catch(() => undefined));
    }
    return response;
  } catch (error) {
    const cached = await cache.match(Outbox.ASSIGNMENTS_URL, { ignoreVary: true });
    if (cached) return cached;
    throw error;
  }
}

/* ---- the outbox: Background Sync where the browser has it; pages also ask on "online" ---- */

async function replayOutbox({ fromSync }) {
  const results = await Outbox.replayAll();
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  for (const client of windows) client.postMessage({ type: Outbox.MESSAGE_TYPE, results });
  // Throwing makes the browser retry the sync later (with backoff) while something still waits.
  if (fromSync && results.some((result) => result.status === "waiting")) {
    throw new Error("reflections outbox: still waiting for the network");
  }
  return results;
}

self.addEventListener("sync", (event) => {
  if (event.tag === Outbox.SYNC_TAG) event.waitUntil(replayOutbox({ fromSync: true }));
});

self.addEventListener("message", (event) => {
  const message = event.data || {};
  if (message.type === "learnloop-outbox-replay") {
    event.waitUntil(replayOutbox({ fromSync: false }).catch(() => undefined));
  }
});

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
