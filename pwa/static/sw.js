/* Learnloop service worker, served at /sw.js with scope "/".
   The server replaces the version placeholder below, so every release gets fresh caches. */
const VERSION = "__LEARNLOOP_VERSION__";

// The reflection outbox (IndexedDB + replay), shared with the writer page.
importScripts(`/static/outbox.js?v=${VERSION}`);
const Outbox = self.LearnloopOutbox;
// Courses saved for offline (Cache Storage "learnloop-courses"), shared with player.js and /saved.
importScripts(`/static/offline_courses.js?v=${VERSION}`);
const OfflineCourses = self.LearnloopOfflineCourses;

const CACHE_PREFIX = "learnloop-";
const SHELL_CACHE = `${CACHE_PREFIX}shell-${VERSION}`;
// Per-user copies that must outlive a new version: writer pages and my assignment list. Both are
// refreshed whenever the network answers, and dropped when the server says we are signed out.
const PAGES_CACHE = Outbox.PAGES_CACHE;
const API_CACHE = Outbox.API_CACHE;
// Saved courses are the user's choice: they outlive app updates (never swept on activate).
const COURSES_CACHE = OfflineCourses.CACHE;
const CURRENT_CACHES = [SHELL_CACHE, PAGES_CACHE, API_CACHE, COURSES_CACHE];
const WRITER_PAGE = /^\/write\/\d+$/;
const WATCH_PAGE = /^\/watch\/(\d+)$/;
const COURSE_PAGE = /^\/courses\/(\d+)$/;
const COURSE_MEDIA = /^\/media\/courses\/\d+\/versions\/\d+\/(video\.mp4|poster\.jpg)$/;
const OFFLINE_URL = "/offline.html";
const SAVED_URL = "/saved";
const PRECACHE_URLS = [
  OFFLINE_URL,
  "/static/app.css",
  "/static/app.js",
  "/static/outbox.js",
  "/static/write.js",
  "/static/write.css",
  "/static/player.js",
  "/static/offline_courses.js",
  "/static/watch.css",
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
      .then(async (cache) => {
        await cache.addAll(PRECACHE_URLS.map((url) => new Request(url, { cache: "reload" })));
        // The saved-courses page opens offline too; a failure here must not stop the install.
        await cache.add(new Request(SAVED_URL, { cache: "reload" })).catch(() => undefined);
      })
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
  // Saved courses: their pages and whole videos answer from the cache when the network cannot.
  if (request.mode === "navigate" && WATCH_PAGE.test(url.pathname)) {
    event.respondWith(watchPage(event, url));
    return;
  }
  if (request.mode === "navigate" && url.pathname === SAVED_URL) {
    event.respondWith(savedPage(event));
    return;
  }
  if (request.mode === "navigate" && COURSE_PAGE.test(url.pathname)) {
    event.respondWith(coursePage(event, url));
    return;
  }
  if (COURSE_MEDIA.test(url.pathname)) {
    event.respondWith(courseMedia(event, url));
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

/* ---- courses saved for offline ---- */

async function cachedWatchPage(url) {
  const cache = await caches.open(COURSES_CACHE);
  return cache.match(url.pathname, { ignoreVary: true });
}

async function offlineFallback() {
  const offline = await (await caches.open(SHELL_CACHE)).match(OFFLINE_URL);
  return offline || Response.error();
}

// Network first; a saved course's copy is refreshed (while its video is still the saved one) and
// served when the network fails. A course I may no longer see (404) is removed from this phone.
async function watchPage(event, url) {
  const id = WATCH_PAGE.exec(url.pathname)[1];
  try {
    const response = (await event.preloadResponse) || (await fetch(event.request));
    if (response.status === 200 && !response.redirected && response.type === "basic") {
      event.waitUntil(refreshSavedPage(id, url.pathname, response.clone()).catch(() => undefined));
    } else if (response.status === 404) {
      event.waitUntil(OfflineCourses.remove(id).catch(() => undefined));
    }
    return response;
  } catch (error) {
    return (await cachedWatchPage(url)) || offlineFallback();
  }
}

async function refreshSavedPage(id, path, response) {
  const meta = await OfflineCourses.get(id);
  if (!meta) return;
  const html = await response.text();
  const data = OfflineCourses.pageData(html);
  // A replaced video is not saved yet: keep the page that plays the saved one.
  if (!data || !data.video_url || new URL(data.video_url, self.location.origin).pathname !== meta.videoUrl) return;
  const cache = await caches.open(COURSES_CACHE);
  await cache.put(path, new Response(html, { headers: { "Content-Type": "text/html; charset=utf-8" } }));
}

// Offline, a saved course's detail page (ReactPy needs the network) opens its saved watch page.
async function coursePage(event, url) {
  try {
    const preloaded = await event.preloadResponse;
    if (preloaded) return preloaded;
    return await fetch(event.request);
  } catch (error) {
    const id = COURSE_PAGE.exec(url.pathname)[1];
    const cache = await caches.open(COURSES_CACHE);
    return (await cache.match(OfflineCourses.watchUrl(id), { ignoreVary: true })) || offlineFallback();
  }
}

async function savedPage(event) {
  const cache = await caches.open(SHELL_CACHE);
  try {
    const response = (await event.preloadResponse) || (await fetch(event.request));
    if (response.status === 200 && !response.redirected && response.type === "basic") {
      event.waitUntil(cache.put(SAVED_URL, response.clone()).catch(() => undefined));
    }
    return response;
  } catch (error) {
    return (await cache.match(SAVED_URL, { ignoreVary: true })) || offlineFallback();
  }
}

// A saved video answers from its whole cached copy, Range requests included (a 206 cut from the
// blob), so playback and seeking work offline; anything not saved goes to the network untouched.
async function courseMedia(event, url) {
  const { request } = event;
  const cache = await caches.open(COURSES_CACHE);
  const cached = await cache.match(url.pathname, { ignoreVary: true });
  if (!cached) return fetch(request);
  const range = request.headers.get("range");
  if (!range) return cached;
  return rangeResponse(await cached.blob(), range, cached.headers.get("Content-Type"));
}

// One "bytes=" range (what media elements ask for): start-end, start- or -suffix.
function rangeResponse(blob, header, type) {
  const size = blob.size;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  let start = NaN;
  let end = NaN;
  if (match && match[1] !== "") {
    start = Number(match[1]);
    end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
  } else if (match && match[2] !== "") {
    const suffix = Number(match[2]);
    start = Math.max(0, size - suffix);
    end = size - 1;
  }
  if (!(start <= end) || start >= size) {
    return new Response(null, { status: 416, headers: { "Content-Range": `bytes */${size}` } });
  }
  return new Response(blob.slice(start, end + 1), {
    status: 206,
    statusText: "Partial Content",
    headers: {
      "Content-Type": type || "video/mp4",
      "Content-Range": `bytes ${start}-${end}/${size}`,
      "Content-Length": String(end - start + 1),
      "Accept-Ranges": "bytes",
    },
  });
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
  const url = sameOriginUrl(payload.url);
  event.waitUntil(
    self.registration.showNotification(title, {
      body: typeof payload.body === "string" ? payload.body : "",
      icon: NOTIFICATION_ICON,
      badge: NOTIFICATION_BADGE,
      // One notification per message: its link names it, so a push that arrives twice (a worker that
      // died right after sending) replaces the first instead of showing a second.
      tag: url,
      data: { url },
    }),
  );
});

// The link (/api/v1/notifications/{id}/open) marks the message read and redirects to its page:
// shown in an open window of the app when there is one, else in a new one.
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = sameOriginUrl(event.notification.data && event.notification.data.url);
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      const open = windows.find((client) => client.url === target);
      if (open) return open.focus();
      const app = windows.find((client) => new URL(client.url).origin === self.location.origin);
      if (app && "navigate" in app) {
        try {
          const focused = await app.focus();
          const moved = await (focused || app).navigate(target);
          if (moved) return moved;
        } catch (error) {
          /* not controlled by this worker yet: open a window instead */
        }
      }
      return self.clients.openWindow(target);
    })(),
  );
});
