/* Learnloop offline courses, shared by every page (player.js saves), the /saved page and the service
   worker (importScripts). Plain script, no modules: it defines self.LearnloopOfflineCourses.

   Cache Storage "learnloop-courses" holds, per saved course:
     /watch/{id}                       the course's plain page (network first while online)
     /media/courses/{id}/versions/...  the whole video (a complete 200: the worker cuts Range answers
                                       from it, so seeking works offline) and its poster
     /offline-courses/{id}.json        what the /saved page lists: {id, title, duration, watchUrl,
                                       videoUrl, posterUrl, versionId, bytes, savedAt}
   The meta entry is written last: a course counts as saved only once everything else is in. */
(function (scope) {
  "use strict";

  var CACHE = "learnloop-courses";
  var META_PREFIX = "/offline-courses/";
  var DATA_PATTERN = /<script type="application\/json" id="watch-data">([\s\S]*?)<\/script>/;
  var QUOTA_MARGIN = 1.1; // keep a little room: the browser counts its own overhead too
  var inFlight = {};

  function supported() {
    return typeof scope.caches !== "undefined" && typeof scope.fetch === "function";
  }

  function watchUrl(id) {
    return "/watch/" + id;
  }

  function metaUrl(id) {
    return META_PREFIX + id + ".json";
  }

  function pathOf(url) {
    return new URL(url, scope.location.href).pathname;
  }

  function courseIdOfPath(path) {
    var match = /^\/offline-courses\/(\d+)\.json$/.exec(path);
    return match ? match[1] : null;
  }

  function failure(reason, cause) {
    var error = new Error("offline course: " + reason);
    error.reason = reason; // offline | unsupported | quota | failed
    error.cause = cause;
    return error;
  }

  function isQuotaError(error) {
    return Boolean(error) && (error.name === "QuotaExceededError" || error.code === 22);
  }

  /* What a /watch/{id} page says about its course (its #watch-data JSON), or null. */
  function pageData(html) {
    var match = DATA_PATTERN.exec(html || "");
    if (!match) return null;
    try {
      return JSON.parse(match[1]);
    } catch (error) {
      return null;
    }
  }

  function openCache() {
    return scope.caches.open(CACHE);
  }

  async function get(id) {
    if (!supported()) return null;
    var cache = await openCache();
    var response = await cache.match(metaUrl(id));
    return response ? response.json() : null;
  }

  /* Every saved course, most recently saved first. */
  async function list() {
    if (!supported()) return [];
    var cache = await openCache();
    var requests = await cache.keys();
    var metas = await Promise.all(
      requests
        .filter(function (request) {
          return courseIdOfPath(pathOf(request.url)) !== null;
        })
        .map(function (request) {
          return cache.match(request).then(function (response) {
            return response ? response.json().catch(function () { return null; }) : null;
          });
        }),
    );
    return metas
      .filter(Boolean)
      .sort(function (a, b) {
        return (b.savedAt || 0) - (a.savedAt || 0);
      });
  }

  /* Everything kept for one course goes: its meta, page, video and poster. */
  async function remove(id) {
    if (!supported()) return false;
    var cache = await openCache();
    var media = "/media/courses/" + id + "/";
    var requests = await cache.keys();
    var removed = false;
    for (var index = 0; index < requests.length; index += 1) {
      var path = pathOf(requests[index].url);
      if (path === metaUrl(id) || path === watchUrl(id) || path.indexOf(media) === 0) {
        removed = (await cache.delete(requests[index])) || removed;
      }
    }
    announce(id, null);
    return removed;
  }

  function announce(id, meta) {
    if (typeof scope.dispatchEvent === "function" && typeof scope.CustomEvent === "function") {
      scope.dispatchEvent(new CustomEvent("learnloop-offline-course", { detail: { id: String(id), meta: meta } }));
    }
  }

  async function storageLeft() {
    var storage = scope.navigator && scope.navigator.storage;
    if (!storage || typeof storage.estimate !== "function") return null;
    try {
      var estimate = await storage.estimate();
      if (!estimate.quota) return null;
      return estimate.quota - (estimate.usage || 0);
    } catch (error) {
      return null;
    }
  }

  async function usage() {
    var storage = scope.navigator && scope.navigator.storage;
    if (!storage || typeof storage.estimate !== "function") return null;
    try {
      var estimate = await storage.estimate();
      return { usage: estimate.usage || 0, quota: estimate.quota || 0 };
    } catch (error) {
      return null;
    }
  }

  function askToPersist() {
    var storage = scope.navigator && scope.navigator.storage;
    if (storage && typeof storage.persist === "function") storage.persist().catch(function () {});
  }

  /* Fetch a whole file (no Range header, so the answer is a complete 200) and keep it under `key`,
     streaming it into the cache; onProgress(loaded, total|null) as the bytes arrive. Returns its size. */
  async function keepWhole(cache, url, key, onProgress, signal) {
    var response = await fetch(url, { credentials: "same-origin", cache: "no-store", signal: signal });
    if (response.status !== 200) throw failure("failed", new Error("HTTP " + response.status));
    var total = Number(response.headers.get("Content-Length")) || null;
    if (total) {
      var left = await storageLeft();
      if (left !== null && left < total * QUOTA_MARGIN) {
        if (response.body) response.body.cancel().catch(function () {});
        throw failure("quota");
      }
    }
    var loaded = 0;
    var body = response.body;
    if (body && typeof TransformStream === "function") {
      body = body.pipeThrough(
        new TransformStream({
          transform: function (chunk, controller) {
            loaded += chunk.byteLength;
            if (onProgress) onProgress(loaded, total);
            controller.enqueue(chunk);
          },
        }),
      );
    } else {
      body = await response.blob();
      loaded = body.size;
    }
    var headers = { "Content-Type": response.headers.get("Content-Type") || "application/octet-stream" };
    if (total) headers["Content-Length"] = String(total);
    await cache.put(key, new Response(body, { status: 200, headers: headers }));
    if (onProgress) onProgress(loaded, total || loaded);
    return loaded;
  }

  async function saveNow(id, onProgress) {
    if (!supported()) throw failure("unsupported");
    if (scope.navigator && scope.navigator.onLine === false) throw failure("offline");
    var cache = await openCache();
    var written = [];
    try {
      var page = await fetch(watchUrl(id), {
        credentials: "same-origin",
        cache: "no-store",
        headers: { Accept: "text/html" },
      });
      if (page.status !== 200 || page.redirected) throw failure("failed", new Error("page HTTP " + page.status));
      var html = await page.text();
      var data = pageData(html);
      if (!data || !data.video_url) throw failure("failed", new Error("no video on the page"));
      askToPersist();
      var videoKey = pathOf(data.video_url);
      written.push(videoKey);
      var bytes = await keepWhole(cache, data.video_url, videoKey, onProgress, null);
      var posterKey = null;
      if (data.poster_url) {
        posterKey = pathOf(data.poster_url);
        written.push(posterKey);
        bytes += await keepWhole(cache, data.poster_url, posterKey, null, null).catch(function (error) {
          if (isQuotaError(error) || error.reason === "quota") throw error;
          posterKey = null; // the video plays without its poster
          return 0;
        });
      }
      var pageBody = new Blob([html], { type: "text/html" });
      written.push(watchUrl(id));
      await cache.put(
        watchUrl(id),
        new Response(pageBody, { status: 200, headers: { "Content-Type": "text/html; charset=utf-8" } }),
      );
      var meta = {
        id: String(id),
        title: data.title || "",
        duration: Number(data.duration) || 0,
        watchUrl: watchUrl(id),
        videoUrl: videoKey,
        posterUrl: posterKey,
        versionId: data.version_id || null,
        bytes: bytes + pageBody.size,
        savedAt: Date.now(),
      };
      await cache.put(
        metaUrl(id),
        new Response(JSON.stringify(meta), { headers: { "Content-Type": "application/json" } }),
      );
      announce(id, meta);
      return meta;
    } catch (error) {
      // Nothing half-saved may stay behind (a course with a video but no meta would never be listed).
      await Promise.all(
        written.map(function (key) {
          return cache.delete(key).catch(function () {});
        }),
      );
      if (error && error.reason) throw error;
      if (isQuotaError(error)) throw failure("quota", error);
      if (scope.navigator && scope.navigator.onLine === false) throw failure("offline", error);
      throw failure("failed", error);
    }
  }

  /* Save one course for offline; a second call while it is saving shares the first. */
  function save(id, onProgress) {
    id = String(id);
    if (!inFlight[id]) {
      inFlight[id] = saveNow(id, onProgress).finally(function () {
        delete inFlight[id];
      });
    }
    return inFlight[id];
  }

  scope.LearnloopOfflineCourses = {
    CACHE: CACHE,
    EVENT: "learnloop-offline-course",
    supported: supported,
    watchUrl: watchUrl,
    metaUrl: metaUrl,
    pageData: pageData,
    get: get,
    list: list,
    save: save,
    saving: function (id) {
      return Boolean(inFlight[String(id)]);
    },
    remove: remove,
    usage: usage,
  };
})(self);

/* ---- the /saved page: what is kept on this phone, the space it takes, and removing it ---- */
(function () {
  "use strict";

  if (typeof document === "undefined") return;
  var Courses = self.LearnloopOfflineCourses;

  function start() {
    var dataElement = document.getElementById("saved-data");
    if (!dataElement) return;
    var data = JSON.parse(dataElement.textContent);
    var locale = data.locale || "zh-CN";
    var messages = data.messages || {};
    var list = document.getElementById("saved-list");
    var loading = document.getElementById("saved-loading");
    var empty = document.getElementById("saved-empty");
    var unsupported = document.getElementById("saved-unsupported");
    var summary = document.getElementById("saved-summary");
    var device = document.getElementById("saved-device");
    var statusLine = document.getElementById("saved-status");
    var dialog = document.getElementById("saved-confirm");
    var confirmText = document.getElementById("saved-confirm-text");

    function t(key, params) {
      return (messages[key] || key).replace(/\{(\w+)\}/g, function (whole, name) {
        return params && name in params ? String(params[name]) : whole;
      });
    }

    function size(bytes) {
      // Decimal units, as phones show their storage.
      var units = [
        ["gigabyte", 1e9],
        ["megabyte", 1e6],
        ["kilobyte", 1e3],
      ];
      for (var index = 0; index < units.length; index += 1) {
        if (bytes >= units[index][1] || index === units.length - 1) {
          var value = bytes / units[index][1];
          try {
            return new Intl.NumberFormat(locale, {
              style: "unit",
              unit: units[index][0],
              maximumFractionDigits: value < 10 ? 1 : 0,
            }).format(value);
          } catch (error) {
            return value.toFixed(1) + " " + ["GB", "MB", "KB"][index];
          }
        }
      }
      return String(bytes);
    }

    function when(time) {
      try {
        return new Date(time).toLocaleString(locale, { dateStyle: "medium", timeStyle: "short" });
      } catch (error) {
        return new Date(time).toLocaleString();
      }
    }

    function askToRemove(meta) {
      confirmText.textContent = t("confirm_text", { title: meta.title, size: size(meta.bytes || 0) });
      if (typeof dialog.showModal !== "function") {
        return Promise.resolve(window.confirm(confirmText.textContent));
      }
      return new Promise(function (resolve) {
        dialog.returnValue = "";
        dialog.addEventListener(
          "close",
          function () {
            resolve(dialog.returnValue === "remove");
          },
          { once: true },
        );
        dialog.showModal();
      });
    }

    function row(meta) {
      var item = document.createElement("li");
      item.className = "list-cell saved-item";
      item.setAttribute("data-course-id", meta.id);
      var main = document.createElement("div");
      main.className = "list-cell-main";
      var title = document.createElement("a");
      title.className = "list-cell-title saved-title";
      title.href = meta.watchUrl;
      title.textContent = meta.title;
      var sub = document.createElement("span");
      sub.className = "list-cell-sub saved-size";
      sub.textContent = t("size", { size: size(meta.bytes || 0) }) + " · " + t("saved_at", { date: when(meta.savedAt) });
      main.appendChild(title);
      main.appendChild(sub);
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "btn saved-remove";
      remove.textContent = t("remove");
      remove.setAttribute("aria-label", t("remove_label", { title: meta.title }));
      remove.addEventListener("click", function () {
        askToRemove(meta).then(function (yes) {
          if (!yes) {
            remove.focus();
            return;
          }
          Courses.remove(meta.id).then(
            function () {
              statusLine.textContent = t("removed", { title: meta.title });
              render().then(function () {
                var next = list.querySelector(".saved-remove") || empty.querySelector("a");
                if (next) next.focus();
              });
            },
            function () {
              statusLine.textContent = t("remove_failed");
            },
          );
        });
      });
      item.appendChild(main);
      item.appendChild(remove);
      return item;
    }

    async function render() {
      if (!Courses || !Courses.supported()) {
        loading.hidden = true;
        unsupported.hidden = false;
        return;
      }
      var metas = await Courses.list().catch(function () {
        return [];
      });
      var total = metas.reduce(function (sum, meta) {
        return sum + (meta.bytes || 0);
      }, 0);
      list.textContent = "";
      metas.forEach(function (meta) {
        list.appendChild(row(meta));
      });
      loading.hidden = true;
      list.hidden = metas.length === 0;
      empty.hidden = metas.length !== 0;
      summary.textContent = t("summary", { count: metas.length, size: size(total) });
      var estimate = await Courses.usage();
      device.textContent =
        estimate && estimate.quota
          ? t("device", { used: size(estimate.usage), free: size(Math.max(0, estimate.quota - estimate.usage)) })
          : "";
    }

    render();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
