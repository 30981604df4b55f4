/* Learnloop page-shell script: service worker, install hint, offline banner.
   Plain script, no modules, no build step; loaded with <script defer src="/static/app.js">.
   The elements it touches (#install-hint, #offline-banner) belong to the page template, outside
   the ReactPy tree, so a re-render never resets what this script shows or hides. */
(function () {
  "use strict";

  var DISMISS_KEY = "learnloop.installHint.dismissedAt";
  var DISMISS_FOR_MS = 14 * 24 * 60 * 60 * 1000;
  var deferredPrompt = null;

  function byId(id) {
    return document.getElementById(id);
  }

  /* ---- service worker ---- */

  if ("serviceWorker" in navigator) {
    // After "load", so registering and precaching never compete with the first paint.
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function (error) {
        console.warn("Learnloop: service worker registration failed", error);
      });
    });
  }

  /* ---- install hint ---- */

  function isStandalone() {
    var media = window.matchMedia && window.matchMedia("(display-mode: standalone)").matches;
    return Boolean(media || window.navigator.standalone === true);
  }

  // iPadOS 13+ reports itself as a Mac; touch points tell it apart.
  function isIOS() {
    var ua = navigator.userAgent;
    return /iPhone|iPad|iPod/.test(ua) || (/Macintosh/.test(ua) && navigator.maxTouchPoints > 1);
  }

  // In-app browsers (WeChat, WeCom, DingTalk, …) have no "Add to Home Screen"; their UA lacks "Safari/".
  function isIOSSafari() {
    var ua = navigator.userAgent;
    return isIOS() && /Safari\//.test(ua) && !/MicroMessenger|wxwork|DingTalk|AlipayClient|QQ\//i.test(ua);
  }

  function readDismissedAt() {
    try {
      return Number(window.localStorage.getItem(DISMISS_KEY)) || 0;
    } catch (error) {
      return 0; // storage blocked (private mode, policy): treat as never dismissed
    }
  }

  function isDismissed() {
    return Date.now() - readDismissedAt() < DISMISS_FOR_MS;
  }

  function rememberDismissal() {
    try {
      window.localStorage.setItem(DISMISS_KEY, String(Date.now()));
    } catch (error) {
      /* storage blocked: the hint simply comes back next time */
    }
  }

  function setHidden(id, hidden) {
    var element = byId(id);
    if (element) element.hidden = hidden;
  }

  function showHint(mode) {
    var hint = byId("install-hint");
    if (!hint || isStandalone() || isDismissed()) return;
    setHidden("install-hint-ios", mode !== "ios");
    setHidden("install-hint-install", mode !== "prompt");
    hint.hidden = false;
  }

  function hideHint() {
    var hint = byId("install-hint");
    if (!hint) return;
    // Drop focus from a button that is about to vanish; the next Tab starts at the page top.
    if (hint.contains(document.activeElement)) document.activeElement.blur();
    hint.hidden = true;
  }

  window.addEventListener("beforeinstallprompt", function (event) {
    event.preventDefault();
    deferredPrompt = event;
    showHint("prompt");
  });

  window.addEventListener("appinstalled", function () {
    deferredPrompt = null;
    hideHint();
  });

  // Delegated, so the buttons work however late the hint's markup appears.
  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    if (target.closest("#install-hint-close")) {
      rememberDismissal();
      hideHint();
    } else if (target.closest("#install-hint-install")) {
      var promptEvent = deferredPrompt;
      deferredPrompt = null; // prompt() works once per event
      hideHint();
      if (!promptEvent) return;
      promptEvent.prompt();
      promptEvent.userChoice
        .then(function (choice) {
          if (choice && choice.outcome === "dismissed") rememberDismissal();
        })
        .catch(function () {});
    }
  });

  if (isIOSSafari() && !isStandalone()) showHint("ios");

  /* ---- offline banner ---- */

  function updateOnlineState() {
    setHidden("offline-banner", navigator.onLine !== false);
  }

  window.addEventListener("online", updateOnlineState);
  window.addEventListener("offline", updateOnlineState);
  updateOnlineState();
})();
