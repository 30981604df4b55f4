/* Learnloop push switch: subscribes this browser to Web Push from the Me page.
   Plain script, no build step. The Me page (ReactPy) renders #push-panel with the switch
   (#push-toggle, a checkbox with role="switch"), a status line (#push-status), the iOS explanation
   (#push-ios, hidden) and the status messages in data-msg-* attributes; this script only sets
   `checked`, `disabled`, `hidden` and the status text, which ReactPy's renders leave alone.
   The permission request happens in the tap itself: browsers (iOS Safari above all) allow it only
   during a user gesture, so the tap is handled here, never through the server.
   The page inserts this script on every visit; a second run only refreshes the switch. */
(function () {
  "use strict";

  if (window.LearnloopPush) {
    window.LearnloopPush.refresh();
    return;
  }

  var KEY_URL = "/api/v1/push/vapid-public-key";
  var SUBSCRIPTIONS_URL = "/api/v1/push/subscriptions";
  var READY_TIMEOUT_MS = 10000;
  var SUBSCRIBE_TIMEOUT_MS = 20000;
  var busy = false;

  function byId(id) {
    return document.getElementById(id);
  }

  // iPadOS 13+ reports itself as a Mac; touch points tell it apart.
  function isIOS() {
    var ua = navigator.userAgent;
    return /iPhone|iPad|iPod/.test(ua) || (/Macintosh/.test(ua) && navigator.maxTouchPoints > 1);
  }

  function isStandalone() {
    var media = window.matchMedia && window.matchMedia("(display-mode: standalone)").matches;
    return Boolean(media || window.navigator.standalone === true);
  }

  // iOS delivers pushes only to apps opened from the Home Screen (and hides PushManager elsewhere).
  function needsHomeScreen() {
    return isIOS() && !isStandalone();
  }

  function supported() {
    return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  }

  function say(state) {
    var panel = byId("push-panel");
    var status = byId("push-status");
    if (panel && status) status.textContent = (state && panel.getAttribute("data-msg-" + state)) || "";
  }

  function show(on, state) {
    var toggle = byId("push-toggle");
    if (toggle) {
      toggle.checked = on;
      toggle.setAttribute("aria-checked", on ? "true" : "false");
    }
    say(state);
  }

  function setBusy(value) {
    busy = value;
    var toggle = byId("push-toggle");
    if (!toggle) return;
    toggle.disabled = value;
    toggle.setAttribute("aria-busy", value ? "true" : "false");
    if (value) say("working");
  }

  function withTimeout(promise, ms) {
    return Promise.race([
      promise,
      new Promise(function (resolve, reject) {
        setTimeout(function () {
          reject(new Error("timed out"));
        }, ms);
      }),
    ]);
  }

  function registration() {
    return withTimeout(navigator.serviceWorker.ready, READY_TIMEOUT_MS);
  }

  function base64UrlToBytes(text) {
    var padded = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function sameKey(subscription, key) {
    var current = subscription.options && subscription.options.applicationServerKey;
    if (!current) return true; // unknown: keep it
    var a = new Uint8Array(current);
    var b = base64UrlToBytes(key);
    if (a.length !== b.length) return false;
    for (var i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
    return true;
  }

  function send(method, url, body) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (response) {
      if (!response.ok && response.status !== 404) throw new Error("HTTP " + response.status);
      return response;
    });
  }

  function serverKey() {
    return fetch(KEY_URL, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        return data.key;
      });
  }

  // Subscribe (again when the server's key changed) and tell the server.
  function subscribe() {
    return Promise.all([registration(), serverKey()]).then(function (both) {
      var reg = both[0];
      var key = both[1];
      return reg.pushManager
        .getSubscription()
        .then(function (existing) {
          if (existing && !sameKey(existing, key)) {
            return existing.unsubscribe().then(function () {
              return null;
            });
          }
          return existing;
        })
        .then(function (existing) {
          if (existing) return existing;
          // Where the vendor's push service cannot be reached (Chrome's FCM in mainland China),
          // subscribe() may never settle: give up after a while instead of spinning forever.
          return withTimeout(
            reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: base64UrlToBytes(key) }),
            SUBSCRIBE_TIMEOUT_MS,
          );
        })
        .then(function (subscription) {
          return send("POST", SUBSCRIPTIONS_URL, subscription.toJSON());
        });
    });
  }

  function unsubscribe() {
    return registration()
      .then(function (reg) {
        return reg.pushManager.getSubscription();
      })
      .then(function (subscription) {
        if (!subscription) return null;
        var endpoint = subscription.endpoint;
        return subscription.unsubscribe().then(function () {
          return send("DELETE", SUBSCRIPTIONS_URL, { endpoint: endpoint });
        });
      });
  }

  function turnOn() {
    if (needsHomeScreen()) {
      var ios = byId("push-ios");
      if (ios) ios.hidden = false; // explain first; asking would be refused outside the Home Screen app
      show(false, "");
      return;
    }
    if (!supported()) {
      show(false, "unsupported");
      return;
    }
    setBusy(true);
    // First thing in the tap: the browser shows its permission prompt only during the gesture.
    Promise.resolve(Notification.requestPermission())
      .then(function (permission) {
        if (permission !== "granted") {
          show(false, permission === "denied" ? "denied" : "off");
          return null;
        }
        return subscribe().then(function () {
          show(true, "on");
        });
      })
      .catch(function (error) {
        console.warn("Learnloop: push subscription failed", error);
        show(false, "failed");
      })
      .then(function () {
        setBusy(false);
      });
  }

  function turnOff() {
    setBusy(true);
    unsubscribe()
      .then(function () {
        show(false, "off");
      })
      .catch(function (error) {
        console.warn("Learnloop: push unsubscribe failed", error);
        refresh();
      })
      .then(function () {
        setBusy(false);
      });
  }

  // The switch shows what this browser really has; a live subscription is re-sent to the server
  // (someone else may have signed in on this phone, or the server dropped it after an error).
  function refresh() {
    var toggle = byId("push-toggle");
    if (!toggle || busy) return;
    if (needsHomeScreen()) {
      toggle.disabled = false;
      show(false, "");
      return;
    }
    if (!supported()) {
      toggle.disabled = true;
      show(false, "unsupported");
      return;
    }
    toggle.disabled = false;
    if (Notification.permission === "denied") {
      show(false, "denied");
      return;
    }
    if (Notification.permission !== "granted") {
      show(false, "off");
      return;
    }
    registration()
      .then(function (reg) {
        return reg.pushManager.getSubscription();
      })
      .then(function (subscription) {
        show(Boolean(subscription), subscription ? "on" : "off");
        if (subscription) return send("POST", SUBSCRIPTIONS_URL, subscription.toJSON());
        return null;
      })
      .catch(function () {
        show(false, "off");
      });
  }

  document.addEventListener("click", function (event) {
    var toggle = event.target && event.target.closest ? event.target.closest("#push-toggle") : null;
    if (!toggle) return;
    // The checkbox changes only once the browser and the server agree.
    event.preventDefault();
    if (busy || toggle.disabled) return;
    if (toggle.getAttribute("aria-checked") === "true") turnOff();
    else turnOn();
  });

  // Permission may have changed in the system settings meanwhile.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") refresh();
  });

  window.LearnloopPush = { refresh: refresh };
  refresh();
})();
