/* Learnloop: on the notification settings page, reveal #push-missing when this browser receives no
   pushes (no subscription, no permission yet, or no push support), pointing to the Me page's switch.
   It never asks for permission: that happens on the Me page, in the tap (pwa/static/push.js).
   Plain script, no build step; ReactPy's renders leave the `hidden` it sets alone.
   The page inserts this script on every visit; a second run only checks again. */
(function () {
  "use strict";

  var READY_TIMEOUT_MS = 10000;

  function reveal(missing) {
    var note = document.getElementById("push-missing");
    if (note) note.hidden = !missing;
  }

  function ready() {
    return Promise.race([
      navigator.serviceWorker.ready,
      new Promise(function (resolve, reject) {
        setTimeout(function () {
          reject(new Error("timed out"));
        }, READY_TIMEOUT_MS);
      }),
    ]);
  }

  function check() {
    if (!document.getElementById("push-missing")) return;
    var supported = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
    if (!supported || Notification.permission !== "granted") {
      reveal(true);
      return;
    }
    ready()
      .then(function (registration) {
        return registration.pushManager.getSubscription();
      })
      .then(function (subscription) {
        reveal(!subscription);
      })
      .catch(function () {
        reveal(true);
      });
  }

  if (window.LearnloopPushCheck) {
    window.LearnloopPushCheck.check();
    return;
  }
  window.LearnloopPushCheck = { check: check };
  check();
})();
