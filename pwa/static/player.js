/* Learnloop course player: resume, honest watched intervals, "save for offline" buttons.
   Plain script, no modules; loaded on every page (the shell and the plain /watch and /saved pages).

   It attaches once to every <video data-progress-url> (ReactPy re-renders: a MutationObserver finds new
   ones), resumes at data-position, and reports what was really played:
     POST data-progress-url {"intervals": [[start, end], ...], "position"}
   every ~10 s while playing, on pause and end, and when the page is hidden or left. Only playback
   counts: a seek closes the interval, a jump between two time updates is never counted. What could not
   be sent (offline, a server error) waits in localStorage, per person and course, and goes out when
   the network returns; the server merges intervals, so sending one twice is harmless.

   Video attributes: data-progress-url (required), data-course-id, data-version-id (the video version
   this page plays: progress counts against it), data-position (seconds),
   data-viewer (employee id: on a shared phone, progress is only ever sent under its owner's session),
   data-rendered-at (ms: a position this phone recorded later wins over the page's).
   Buttons [data-offline-save="<course id>"] save the course for offline (offline_courses.js); their
   labels come from data-offline-label-{save,saving,saving-unknown,saved,failed,quota,offline,unsupported}
   ("{percent}" is filled in); optional [data-offline-status="<id>"] (a live region) and
   <progress data-offline-progress="<id>"> show messages and progress. */
(function () {
  "use strict";

  var STORE_PREFIX = "learnloop.progress.";
  var SEND_EVERY_MS = 10000;
  var MAX_PER_POST = 200;
  var MAX_KEPT = 2000;
  var MAX_RESUME_RECORDS = 200;
  var RESUME_TAIL_SECONDS = 5;
  var MAX_STEP_SECONDS = 2; // a bigger gap between two time updates is a jump, not playback
  var MAX_COUNTED_RATE = 2; // faster than this is skimming, not watching
  var CLOCK_SLACK_SECONDS = 0.5;
  var ME_URL = "/api/v1/me";
  // The same request would fail again: drop what it carried instead of retrying forever.
  var PERMANENT = [400, 403, 404, 409, 410, 413, 422];

  var players = [];
  var attached = typeof WeakSet === "function" ? new WeakSet() : null;
  var me = null; // who is signed in, asked once per page when needed

  function round(value) {
    return Math.round(value * 100) / 100;
  }

  function isOnline() {
    return navigator.onLine !== false;
  }

  /* Sorted, non-overlapping intervals; touching ones join. */
  function merge(intervals) {
    var sorted = intervals
      .filter(function (interval) {
        return interval && isFinite(interval[0]) && isFinite(interval[1]) && interval[1] > interval[0];
      })
      .map(function (interval) {
        return [interval[0], interval[1]];
      })
      .sort(function (a, b) {
        return a[0] - b[0];
      });
    var out = [];
    sorted.forEach(function (interval) {
      var last = out[out.length - 1];
      if (last && interval[0] <= last[1] + 0.01) last[1] = Math.max(last[1], interval[1]);
      else out.push(interval);
    });
    return out;
  }

  /* ---- what waits to be sent, per person and course ---- */

  function storeKey(owner, courseId) {
    return STORE_PREFIX + (owner || "anyone") + "." + courseId;
  }

  function storeRead(key) {
    try {
      var value = JSON.parse(window.localStorage.getItem(key) || "null");
      return value && typeof value === "object" ? value : null;
    } catch (error) {
      return null;
    }
  }

  function storeWrite(key, record) {
    try {
      if (record) window.localStorage.setItem(key, JSON.stringify(record));
      else window.localStorage.removeItem(key);
    } catch (error) {
      /* storage full or blocked: the next successful post catches up */
    }
  }

  function storedKeys() {
    var keys = [];
    try {
      for (var index = 0; index < window.localStorage.length; index += 1) {
        var key = window.localStorage.key(index);
        if (key && key.indexOf(STORE_PREFIX) === 0) keys.push(key);
      }
    } catch (error) {
      return [];
    }
    return keys;
  }

  /* POST one batch. Resolves to "sent" (or dropped for good: "rejected") or "waiting". */
  function post(url, intervals, position, versionId, keepalive) {
    if (!isOnline()) return Promise.resolve({ status: "waiting" });
    var body = { intervals: intervals, position: round(Math.max(0, position || 0)) };
    if (versionId) body.version_id = Number(versionId);
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      keepalive: Boolean(keepalive),
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    }).then(
      function (response) {
        if (response.ok) {
          return response
            .json()
            .catch(function () {
              return null;
            })
            .then(function (body) {
              return { status: "sent", body: body };
            });
        }
        return { status: PERMANENT.indexOf(response.status) !== -1 ? "rejected" : "waiting" };
      },
      function () {
        return { status: "waiting" };
      },
    );
  }

  function whoAmI() {
    if (me) return me;
    me = fetch(ME_URL, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 401) return { id: null, signedOut: true };
        if (!response.ok) throw new Error("me: HTTP " + response.status);
        return response.json();
      })
      .catch(function (error) {
        me = null; // ask again next time
        throw error;
      });
    return me;
  }

  /* Positions kept only for resuming stay bounded: the oldest go first. */
  function pruneStored() {
    var sent = storedKeys()
      .map(function (key) {
        return { key: key, record: storeRead(key) };
      })
      .filter(function (entry) {
        return entry.record && entry.record.sent;
      });
    if (sent.length <= MAX_RESUME_RECORDS) return;
    sent
      .sort(function (a, b) {
        return (a.record.at || 0) - (b.record.at || 0);
      })
      .slice(0, sent.length - MAX_RESUME_RECORDS)
      .forEach(function (entry) {
        storeWrite(entry.key, null);
      });
  }

  /* Progress kept on this phone for courses no page is playing now: sent under its owner's session. */
  async function sendStored() {
    if (!isOnline()) return;
    var keys = storedKeys().filter(function (key) {
      var record = storeRead(key);
      var playing = players.some(function (player) {
        return player.key === key;
      });
      return !playing && !(record && record.sent); // sent ones are only kept for resuming
    });
    if (!keys.length) return; // the usual case: no request at all
    var who;
    try {
      who = await whoAmI();
    } catch (error) {
      return;
    }
    if (!who || who.id === null || who.id === undefined) return;
    for (var index = 0; index < keys.length; index += 1) {
      var record = storeRead(keys[index]);
      if (!record || !record.url) {
        storeWrite(keys[index], null);
        continue;
      }
      if (record.owner && String(record.owner) !== String(who.id)) continue; // someone else's, kept for them
      var rest = merge(record.intervals || []);
      do {
        var result = await post(record.url, rest.slice(0, MAX_PER_POST), record.position, record.versionId, false);
        if (result.status === "waiting") return;
        rest = rest.slice(MAX_PER_POST);
        storeWrite(keys[index], Object.assign(record, { intervals: rest, sent: rest.length === 0 }));
      } while (rest.length);
    }
  }

  /* ---- one <video> ---- */

  function Player(video) {
    var courseId =
      video.getAttribute("data-course-id") ||
      (/\/courses\/(\d+)\//.exec(video.getAttribute("data-progress-url") || "") || [])[1] ||
      "unknown";
    var owner = video.getAttribute("data-viewer") || "";
    var self = {
      video: video,
      courseId: courseId,
      owner: owner,
      key: storeKey(owner, courseId),
      pending: [], // closed intervals not yet sent
      current: null, // the interval being played now
      last: null, // currentTime at the last time update, null after a seek
      lastClock: 0, // performance.now() at that update
      sending: false,
      inflight: [], // the batch of the request in flight: kept (and flushed on leaving) until it settles
      lastSentPosition: null, // null: nothing sent from this page yet (the server has data-position)
      timer: null,
      resumed: false,
    };
    var kept = storeRead(self.key);
    if (kept && Array.isArray(kept.intervals)) self.pending = merge(kept.intervals);
    if (kept && kept.sent) self.lastSentPosition = kept.position;

    function url() {
      return video.getAttribute("data-progress-url");
    }

    function duration() {
      var value = video.duration;
      if (isFinite(value) && value > 0) return value;
      return Number(video.getAttribute("data-duration")) || Infinity;
    }

    function closeInterval() {
      if (self.current && self.current[1] > self.current[0]) self.pending.push(self.current);
      self.current = null;
    }

    // Played from `from` to `to` without a seek: extend the interval being played, or start one.
    function played(from, to) {
      if (self.current && Math.abs(self.current[1] - from) < 0.001) {
        self.current[1] = to;
      } else {
        closeInterval();
        self.current = [from, to];
      }
    }

    // Count what played since the last update, if it could really have played in the time that
    // passed (at a watching speed); anything else is a jump and is never counted.
    function step() {
      var now = video.currentTime;
      var clock = performance.now();
      if (self.last === null || video.seeking) {
        self.last = now;
        self.lastClock = clock;
        return;
      }
      var delta = now - self.last;
      var rate = video.playbackRate || 1;
      var possible = ((clock - self.lastClock) / 1000) * rate + CLOCK_SLACK_SECONDS;
      var counted = rate > 0 && rate <= MAX_COUNTED_RATE;
      if (counted && delta > 0 && delta <= MAX_STEP_SECONDS * Math.max(1, rate) && delta <= possible) {
        played(self.last, now);
      } else if (delta !== 0) {
        closeInterval();
      }
      self.last = now;
      self.lastClock = clock;
    }

    // Where the server last heard playback stood: what this page sent, else what the page was drawn with.
    function knownPosition() {
      if (self.lastSentPosition !== null) return self.lastSentPosition;
      return round(Math.max(0, Number(video.getAttribute("data-position")) || 0));
    }

    function unsent() {
      var all = self.pending.concat(self.current ? [self.current.slice()] : []);
      var end = duration();
      return merge(
        all.map(function (interval) {
          return [round(Math.max(0, interval[0])), round(Math.min(end, interval[1]))];
        }),
      );
    }

    // Kept per person and course: what is not sent yet (a batch in flight included: the page may die
    // before its answer comes), and where playback stands (for resuming).
    function remember(sent) {
      var target = url();
      if (!target) return;
      var kept = merge(self.inflight.concat(sent ? [] : unsent()));
      storeWrite(self.key, {
        url: target,
        versionId: video.getAttribute("data-version-id") || null,
        owner: self.owner || null,
        intervals: kept.slice(-MAX_KEPT),
        position: round(video.currentTime || 0),
        at: Date.now(),
        sent: kept.length === 0 && Boolean(sent),
      });
    }

    function send(keepalive) {
      step();
      var target = url();
      if (!target) return;
      var all = unsent();
      var position = round(Math.min(video.currentTime || 0, duration()));
      if (!all.length && !self.inflight.length && position === knownPosition()) return; // nothing new
      remember(false); // whatever happens next, nothing is lost if the page dies now
      if (self.sending) {
        // Leaving the page: the request in flight may die with it, so its batch goes out again with
        // what came since, in a request that outlives the page (the server merges: twice is harmless).
        // Nothing changes here: if the page lives on, the request in flight settles as usual.
        if (keepalive) {
          var flush = merge(self.inflight.concat(all)).slice(0, MAX_PER_POST);
          post(target, flush, position, video.getAttribute("data-version-id"), true);
        }
        return;
      }
      var batch = all.slice(0, MAX_PER_POST);
      // The interval being played stays open (it is sent again, longer, next time: the server merges).
      self.pending = all.slice(MAX_PER_POST);
      self.inflight = batch;
      self.sending = true;
      post(target, batch, position, video.getAttribute("data-version-id"), keepalive).then(function (result) {
        self.sending = false;
        self.inflight = [];
        if (result.status === "waiting") {
          self.pending = merge(self.pending.concat(batch));
        } else {
          self.lastSentPosition = position;
          if (result.status === "sent" && result.body) {
            video.dispatchEvent(new CustomEvent("learnloop-progress", { detail: result.body, bubbles: true }));
          }
        }
        remember(self.pending.length === 0 && self.lastSentPosition === position);
      });
    }

    function resume() {
      if (self.resumed) return;
      self.resumed = true;
      var position = Number(video.getAttribute("data-position")) || 0;
      var renderedAt = Number(video.getAttribute("data-rendered-at")) || 0;
      var kept = storeRead(self.key);
      // This phone watched on after the page was drawn (offline, say): its position is the newer one.
      // A page that does not say when it was drawn only yields to progress the server has not seen.
      var newer = kept && (renderedAt ? kept.at > renderedAt : !kept.sent);
      if (newer && isFinite(kept.position)) position = Number(kept.position);
      var end = video.duration;
      if (position > 0 && isFinite(end) && position < end - RESUME_TAIL_SECONDS) {
        video.currentTime = position;
      }
    }

    function startTimer() {
      if (self.timer) return;
      self.timer = window.setInterval(function () {
        if (!video.paused) send(false);
      }, SEND_EVERY_MS);
    }

    function stopTimer() {
      if (self.timer) window.clearInterval(self.timer);
      self.timer = null;
    }

    video.addEventListener("loadedmetadata", resume);
    if (video.readyState >= 1) resume();
    video.addEventListener("playing", function () {
      self.last = video.currentTime;
      self.lastClock = performance.now();
      startTimer();
    });
    video.addEventListener("timeupdate", step);
    video.addEventListener("seeking", function () {
      closeInterval();
      self.last = null;
    });
    video.addEventListener("seeked", function () {
      self.last = video.currentTime;
      self.lastClock = performance.now();
    });
    video.addEventListener("pause", function () {
      step();
      closeInterval();
      stopTimer();
      send(false);
    });
    video.addEventListener("ended", function () {
      step();
      closeInterval();
      stopTimer();
      send(false);
    });

    self.send = send;
    self.finish = function (keepalive) {
      step();
      closeInterval();
      stopTimer();
      send(keepalive);
    };
    return self;
  }

  function attach(video) {
    if (attached ? attached.has(video) : video.__learnloopPlayer) return;
    if (attached) attached.add(video);
    else video.__learnloopPlayer = true;
    var player = Player(video);
    players.push(player);
    if (!player.owner && isOnline()) {
      // A page that did not say whose session this is: ask, so the kept copy has an owner.
      whoAmI()
        .then(function (who) {
          if (who && who.id !== null && who.id !== undefined && !player.owner) {
            var kept = storeRead(player.key);
            storeWrite(player.key, null);
            player.owner = String(who.id);
            player.key = storeKey(player.owner, player.courseId);
            if (kept) storeWrite(player.key, Object.assign(kept, { owner: player.owner }));
          }
        })
        .catch(function () {});
    }
  }

  // ReactPy may take a video out of the page: what it played is sent before it goes.
  function dropDetached() {
    players = players.filter(function (player) {
      if (player.video.isConnected) return true;
      player.finish(false);
      return false;
    });
  }

  /* ---- "save for offline" buttons ---- */

  var saving = {}; // course id -> {state, percent}

  // offline_courses.js, loaded next to this script the first time a page shows a save button
  // (pages that already include it skip the request).
  var PLAYER_SRC = document.currentScript ? document.currentScript.src : "";
  var coursesReady = null;

  function withCourses() {
    if (window.LearnloopOfflineCourses) return Promise.resolve(window.LearnloopOfflineCourses);
    if (!coursesReady) {
      coursesReady = new Promise(function (resolve) {
        var script = document.createElement("script");
        var match = /^(.*\/)player\.js(\?.*)?$/.exec(PLAYER_SRC);
        script.src = match ? match[1] + "offline_courses.js" + (match[2] || "") : "/static/offline_courses.js";
        script.onload = function () {
          resolve(window.LearnloopOfflineCourses || null);
        };
        script.onerror = function () {
          coursesReady = null; // try again on the next tap
          resolve(null);
        };
        document.head.appendChild(script);
      });
    }
    return coursesReady;
  }

  // The label a page rendered for a state; without one, the button's own first words (plus the
  // percentage while saving), so a page that renders fewer labels still shows something true.
  function label(button, state, percent) {
    var known = percent !== null && percent !== undefined;
    var name = state === "saving" && !known ? "saving-unknown" : state;
    var text = button.getAttribute("data-offline-label-" + name);
    if (!text && state === "saving") text = button.getAttribute("data-offline-label-saving");
    if (!text) {
      var own = button.getAttribute("data-offline-label-save") || originalText(button);
      text = state === "saving" && known ? own + " {percent}%" : own;
    }
    return text.replace("{percent}", String(percent || 0));
  }

  var originals = typeof WeakMap === "function" ? new WeakMap() : null;

  function originalText(button) {
    if (!originals) return button.textContent;
    if (!originals.has(button)) originals.set(button, button.textContent);
    return originals.get(button);
  }

  // Change the text node in place: a ReactPy (preact) re-render keeps working on the node it made.
  function setText(element, text) {
    if (element.textContent === text) return;
    var only = element.childNodes.length === 1 ? element.firstChild : null;
    if (only && only.nodeType === 3) only.data = text;
    else element.textContent = text;
  }

  function showState(id) {
    var status = saving[id];
    if (!status) return;
    var problem = ["failed", "quota", "offline", "unsupported"].indexOf(status.state) !== -1;
    document.querySelectorAll('[data-offline-save="' + id + '"]').forEach(function (button) {
      var note = document.querySelector('[data-offline-status="' + id + '"]');
      // Without a status line of its own, the button says what went wrong.
      var text = label(button, problem && note ? "save" : status.state, status.percent);
      setText(button, text);
      if (button.getAttribute("data-offline-state") !== status.state) {
        button.setAttribute("data-offline-state", status.state);
      }
      var busy = status.state === "saving" ? "true" : "false";
      if (button.getAttribute("aria-busy") !== busy) button.setAttribute("aria-busy", busy);
      if (note) {
        var message = problem || status.state === "saved" ? label(button, status.state, null) : "";
        if (status.state === "saving") message = "";
        setText(note, message);
      }
    });
    document.querySelectorAll('progress[data-offline-progress="' + id + '"]').forEach(function (bar) {
      var hidden = status.state !== "saving";
      if (bar.hidden !== hidden) bar.hidden = hidden;
      if (status.percent === null || status.percent === undefined) bar.removeAttribute("value");
      else if (bar.value !== status.percent) bar.value = status.percent;
    });
  }

  function setState(id, state, percent) {
    saving[id] = { state: state, percent: percent === undefined ? null : percent };
    showState(id);
  }

  function knowButton(button) {
    var id = button.getAttribute("data-offline-save");
    if (!id) return;
    originalText(button);
    if (saving[id]) {
      showState(id);
      return;
    }
    saving[id] = { state: "save", percent: null };
    withCourses()
      .then(function (courses) {
        return courses && courses.supported() ? courses.get(id) : null;
      })
      .then(
        function (meta) {
          if (saving[id].state === "save") setState(id, meta ? "saved" : "save");
        },
        function () {},
      );
  }

  function saveCourse(id) {
    var status = saving[id];
    if (status && status.state === "saving") return;
    if (status && status.state === "saved") {
      window.location.href = "/saved";
      return;
    }
    if (!isOnline()) {
      setState(id, "offline");
      return;
    }
    setState(id, "saving", 0);
    withCourses()
      .then(function (courses) {
        if (!courses || !courses.supported()) {
          var error = new Error("unsupported");
          error.reason = "unsupported";
          throw error;
        }
        return courses.save(id, function (loaded, total) {
          setState(id, "saving", total ? Math.min(100, Math.floor((loaded / total) * 100)) : null);
        });
      })
      .then(
        function () {
          setState(id, "saved");
        },
        function (error) {
          setState(id, (error && error.reason) || "failed");
        },
      );
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    var button = target && target.closest("[data-offline-save]");
    if (!button) return;
    event.preventDefault();
    saveCourse(button.getAttribute("data-offline-save"));
  });

  window.addEventListener("learnloop-offline-course", function (event) {
    var detail = event.detail || {};
    if (detail.id && !(saving[detail.id] && saving[detail.id].state === "saving")) {
      setState(detail.id, detail.meta ? "saved" : "save");
    }
  });

  /* ---- finding videos and buttons, now and whenever the page changes ---- */

  var scanQueued = false;

  function scan() {
    scanQueued = false;
    document.querySelectorAll("video[data-progress-url]").forEach(attach);
    document.querySelectorAll("[data-offline-save]").forEach(knowButton);
    dropDetached();
  }

  function queueScan() {
    if (scanQueued) return;
    scanQueued = true;
    window.requestAnimationFrame ? window.requestAnimationFrame(scan) : window.setTimeout(scan, 16);
  }

  function sendAll(keepalive) {
    players.forEach(function (player) {
      player.send(keepalive);
    });
  }

  function start() {
    scan();
    new MutationObserver(queueScan).observe(document.documentElement, {
      childList: true,
      subtree: true,
      characterData: true,
      attributes: true,
      attributeFilter: ["data-progress-url", "data-offline-save"],
    });
    pruneStored();
    sendStored();
  }

  window.addEventListener("online", function () {
    me = null;
    sendAll(false);
    sendStored();
  });
  window.addEventListener("pagehide", function () {
    sendAll(true);
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") sendAll(true);
  });

  window.LearnloopPlayer = { merge: merge, sendStored: sendStored };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
