/* Learnloop course studio: record or choose a video and upload it resumably (/studio/courses/{id}/upload).
   Plain script, no build step. The file goes up in parts (PUT /api/v1/uploads/{id}/parts/{n}); after a
   dropped connection the server is asked which parts arrived and only the others are sent again. The
   upload id is remembered per course and file, so a reload resumes once the same file is chosen again. */
(function () {
  "use strict";

  var dataElement = document.getElementById("upload-data");
  if (!dataElement) return;

  var data = JSON.parse(dataElement.textContent);
  var messages = data.messages;
  var courseId = data.course_id;
  var PARALLEL = Math.max(1, data.parallel || 1);
  var RETRY_BASE_MS = 1000;
  var RETRY_MAX_MS = 30000;
  var MB = 1024 * 1024;
  var STORAGE_PREFIX = "learnloop.upload." + courseId + ".";

  var camera = document.getElementById("upload-camera");
  var chooser = document.getElementById("upload-file");
  var pickers = document.getElementById("upload-pickers");
  var block = document.getElementById("upload-progress-block");
  var chosen = document.getElementById("upload-chosen");
  var bar = document.getElementById("upload-bar");
  var fill = document.getElementById("upload-bar-fill");
  var figures = document.getElementById("upload-figures");
  var retryButton = document.getElementById("upload-retry");
  var cancelButton = document.getElementById("upload-cancel");
  var statusLine = document.getElementById("upload-status");
  var alertLine = document.getElementById("upload-alert");
  var done = document.getElementById("upload-done");

  var job = null;

  function t(key, params) {
    var message = messages[key] || key;
    return message.replace(/\{(\w+)\}/g, function (whole, name) {
      return params && name in params ? String(params[name]) : whole;
    });
  }

  function megabytes(bytes) {
    return (bytes / MB).toFixed(1);
  }

  function isOnline() {
    return navigator.onLine !== false;
  }

  function setStatus(message) {
    statusLine.textContent = message || "";
  }

  function setAlert(line, message, link) {
    line.textContent = message || "";
    if (message && link) {
      line.appendChild(document.createTextNode(" "));
      var anchor = document.createElement("a");
      anchor.href = link.href;
      anchor.textContent = link.text;
      line.appendChild(anchor);
    }
  }

  /* ---- talking to the API ---- */

  function parsed(status, text) {
    var body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch (error) {
      body = null;
    }
    return { ok: status >= 200 && status < 300, status: status, data: body };
  }

  function api(method, url, body) {
    var options = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      return response.text().then(function (text) {
        var result = parsed(response.status, text);
        result.retryAfter = Number(response.headers.get("Retry-After")) || 0;
        return result;
      });
    });
  }

  function errorCode(response) {
    var body = response && response.data && response.data.error;
    return (body && body.code) || "";
  }

  function errorMessage(response) {
    var body = response && response.data && response.data.error;
    if (body && body.message) return body.message;
    if (response && response.status === 413) return t("too_large_request");
    return t("server_error");
  }

  // Worth trying again: the network, the server busy or restarting. Anything else is the server's "no".
  function transient(status) {
    return status === 0 || status === 408 || status === 429 || status >= 500;
  }

  function showRefusal(line, response) {
    if (response.status === 401) {
      setAlert(line, t("signin_again"), {
        href: "/login?next=" + encodeURIComponent(location.pathname),
        text: t("signin_link"),
      });
    } else {
      setAlert(line, errorMessage(response));
    }
  }

  /* ---- what this phone remembers: upload ids by course and file ---- */

  function storageKey(file) {
    return STORAGE_PREFIX + [file.name, file.size, file.lastModified].join("|");
  }

  function remembered(key) {
    try {
      var saved = JSON.parse(localStorage.getItem(key) || "null");
      return saved && saved.id ? saved : null;
    } catch (error) {
      return null;
    }
  }

  function remember(current) {
    try {
      localStorage.setItem(current.key, JSON.stringify({ id: current.id, name: current.file.name, at: Date.now() }));
    } catch (error) {
      /* storage full or blocked: resuming after a reload is lost, resuming after a drop still works */
    }
  }

  function forget(current) {
    try {
      localStorage.removeItem(current.key);
    } catch (error) {
      /* nothing to forget */
    }
  }

  function unfinishedName() {
    try {
      for (var index = 0; index < localStorage.length; index += 1) {
        var key = localStorage.key(index);
        if (key && key.indexOf(STORAGE_PREFIX) === 0) {
          var saved = remembered(key);
          if (saved && saved.name) return saved.name;
        }
      }
    } catch (error) {
      return "";
    }
    return "";
  }

  /* ---- progress ---- */

  function partLength(current, n) {
    if (n < current.partCount) return current.partSize;
    return current.file.size - current.partSize * (current.partCount - 1);
  }

  function receivedCount(current) {
    return Object.keys(current.received).length;
  }

  function showProgress(current) {
    var size = current.file.size;
    var sent = 0;
    if (current.partCount) {
      Object.keys(current.received).forEach(function (n) {
        sent += partLength(current, Number(n));
      });
      Object.keys(current.loaded).forEach(function (n) {
        sent += Math.min(current.loaded[n], partLength(current, Number(n)));
      });
    }
    var complete = current.partCount > 0 && receivedCount(current) === current.partCount;
    var percent = complete ? 100 : Math.min(99, Math.floor((sent / size) * 100));
    var text = t("figures", { percent: percent, sent: megabytes(complete ? size : sent), total: megabytes(size) });
    bar.setAttribute("aria-valuenow", String(percent));
    bar.setAttribute("aria-valuetext", text);
    fill.style.width = percent + "%";
    figures.textContent = text;
  }

  function setPicking(enabled) {
    camera.disabled = !enabled;
    chooser.disabled = !enabled;
    pickers.setAttribute("aria-disabled", enabled ? "false" : "true");
  }

  /* ---- the upload ---- */

  function choose(file) {
    if (!file || (job && !job.stopped)) return;
    setAlert(alertLine, "");
    done.hidden = true;
    if (!file.size) {
      setAlert(alertLine, t("empty"));
      return;
    }
    if (file.size > data.video_max_bytes) {
      setAlert(alertLine, t("too_large", { max_gib: Math.round(data.video_max_bytes / 1024 / MB) }));
      return;
    }
    job = {
      file: file,
      key: storageKey(file),
      id: null,
      partSize: 0,
      partCount: 0,
      received: {},
      loaded: {},
      inFlight: {},
      failures: 0,
      waiting: false,
      completing: false,
      stopped: false,
      timer: null,
    };
    chosen.textContent = t("chosen", { name: file.name || t("unnamed"), mb: megabytes(file.size) });
    block.hidden = false;
    cancelButton.hidden = false;
    retryButton.hidden = true;
    setPicking(false);
    showProgress(job);
    setStatus(t("preparing"));
    start(job);
  }

  function start(current) {
    var saved = remembered(current.key);
    var resumed = saved
      ? api("GET", "/api/v1/uploads/" + saved.id).then(function (response) {
          if (response.ok && response.data.state === "open" && response.data.size === current.file.size) {
            current.id = saved.id;
            current.partSize = response.data.part_size;
            current.partCount = response.data.part_count;
            current.received = {};
            response.data.received.forEach(function (n) {
              current.received[n] = true;
            });
            setStatus(t("resuming", { n: receivedCount(current), total: current.partCount }));
            return true;
          }
          if (transient(response.status)) throw response;
          forget(current); // finished, cancelled or expired there: start afresh
          return false;
        })
      : Promise.resolve(false);
    resumed
      .then(function (isResumed) {
        if (isResumed || current.stopped) return;
        return api("POST", "/api/v1/uploads", {
          filename: (current.file.name || "video").slice(0, 200),
          size: current.file.size,
          content_type: (current.file.type || "").slice(0, 100),
          purpose: "course_video",
          course_id: courseId,
        }).then(function (response) {
          if (!response.ok) throw response;
          current.id = response.data.id;
          current.partSize = response.data.part_size;
          current.partCount = response.data.part_count;
          remember(current);
        });
      })
      .then(
        function () {
          if (current.stopped) return;
          setStatus(t("uploading"));
          showProgress(current);
          pump(current);
        },
        function (failure) {
          failed(current, failure && "status" in failure ? failure : { status: 0 });
        },
      );
  }

  function nextMissing(current) {
    for (var n = 1; n <= current.partCount; n += 1) {
      if (!current.received[n] && !current.inFlight[n]) return n;
    }
    return 0;
  }

  function pump(current) {
    if (current.stopped || current.waiting) return;
    var n;
    while (Object.keys(current.inFlight).length < PARALLEL && (n = nextMissing(current))) {
      sendPart(current, n);
    }
    if (receivedCount(current) === current.partCount && !Object.keys(current.inFlight).length) {
      complete(current);
    }
  }

  function sendPart(current, n) {
    var begin = (n - 1) * current.partSize;
    var xhr = new XMLHttpRequest();
    current.inFlight[n] = xhr;
    current.loaded[n] = 0;
    xhr.open("PUT", "/api/v1/uploads/" + current.id + "/parts/" + n);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = function (event) {
      current.loaded[n] = event.loaded;
      showProgress(current);
    };
    function settle() {
      delete current.inFlight[n];
      delete current.loaded[n];
    }
    xhr.onload = function () {
      settle();
      if (current.stopped) return;
      var response = parsed(xhr.status, xhr.responseText);
      if (response.ok) {
        current.received[n] = true;
        current.failures = 0;
        showProgress(current);
        if (!current.waiting) setStatus(t("uploading"));
        pump(current);
      } else {
        response.retryAfter = Number(xhr.getResponseHeader("Retry-After")) || 0;
        failed(current, response);
      }
    };
    xhr.onerror = function () {
      settle();
      if (!current.stopped) failed(current, { status: 0 });
    };
    xhr.onabort = function () {
      settle();
    };
    xhr.send(current.file.slice(begin, begin + partLength(current, n)));
  }

  function complete(current) {
    if (current.completing || current.stopped) return;
    current.completing = true;
    setStatus(t("finishing"));
    api("POST", "/api/v1/uploads/" + current.id + "/complete").then(
      function (response) {
        current.completing = false;
        if (response.ok) finished(current);
        else if (errorCode(response) === "upload.parts_missing" || errorCode(response) === "upload.parts_changed") {
          retryLater(current, 0);
        } else failed(current, response);
      },
      function () {
        current.completing = false;
        failed(current, { status: 0 });
      },
    );
  }

  function failed(current, response) {
    if (current.stopped) return;
    if (transient(response.status)) {
      retryLater(current, response.retryAfter || 0);
      return;
    }
    // The server refused (not a video, too large, signed out…): this upload cannot go on.
    stop(current);
    if (response.status !== 401) forget(current);
    cancelButton.hidden = true;
    setStatus("");
    showRefusal(alertLine, response);
    setPicking(true);
  }

  function retryLater(current, retryAfterSeconds) {
    if (current.stopped || current.waiting) return;
    current.waiting = true;
    current.failures += 1;
    retryButton.hidden = false;
    if (!isOnline()) {
      setStatus(t("offline_wait"));
      return; // the `online` event picks it up
    }
    var delay = retryAfterSeconds
      ? retryAfterSeconds * 1000
      : Math.min(RETRY_MAX_MS, RETRY_BASE_MS * Math.pow(2, current.failures - 1));
    setStatus(t("retrying", { seconds: Math.max(1, Math.round(delay / 1000)) }));
    current.timer = setTimeout(function () {
      resync(current);
    }, delay);
  }

  // Ask the server what arrived, then send only the rest.
  function resync(current) {
    clearTimeout(current.timer);
    current.timer = null;
    if (current.stopped) return;
    current.waiting = false;
    retryButton.hidden = true;
    if (!current.id) {
      setStatus(t("preparing"));
      start(current);
      return;
    }
    setStatus(t("checking"));
    api("GET", "/api/v1/uploads/" + current.id).then(
      function (response) {
        if (current.stopped) return;
        if (!response.ok) {
          failed(current, response);
          return;
        }
        if (response.data.state === "completed") {
          finished(current);
          return;
        }
        if (response.data.state !== "open") {
          failed(current, { status: 410, data: { error: { message: t("expired") } } });
          return;
        }
        current.received = {};
        response.data.received.forEach(function (n) {
          current.received[n] = true;
        });
        current.failures = Math.min(current.failures, 3);
        setStatus(t("resuming", { n: receivedCount(current), total: current.partCount }));
        showProgress(current);
        pump(current);
      },
      function () {
        failed(current, { status: 0 });
      },
    );
  }

  function stop(current) {
    current.stopped = true;
    clearTimeout(current.timer);
    Object.keys(current.inFlight).forEach(function (n) {
      current.inFlight[n].abort();
    });
  }

  function finished(current) {
    stop(current);
    forget(current);
    current.received = {};
    for (var n = 1; n <= current.partCount; n += 1) current.received[n] = true;
    showProgress(current);
    cancelButton.hidden = true;
    retryButton.hidden = true;
    setStatus(t("uploaded"));
    done.hidden = false;
    setPicking(true);
  }

  function cancel() {
    var current = job;
    if (!current || current.stopped) return;
    if (!window.confirm(t("cancel_question"))) return;
    stop(current);
    forget(current);
    block.hidden = true;
    setPicking(true);
    setStatus(t("cancelled"));
    if (current.id) {
      api("DELETE", "/api/v1/uploads/" + current.id).then(
        function (response) {
          if (!response.ok && response.status !== 404) showRefusal(alertLine, response);
        },
        function () {
          /* offline: the server aborts an idle upload after a day */
        },
      );
    }
  }

  [camera, chooser].forEach(function (input) {
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      input.value = "";
      choose(file);
    });
  });
  cancelButton.addEventListener("click", cancel);
  retryButton.addEventListener("click", function () {
    if (job && !job.stopped) resync(job);
  });
  window.addEventListener("online", function () {
    if (job && !job.stopped && job.waiting) resync(job);
  });
  window.addEventListener("offline", function () {
    if (job && !job.stopped) setStatus(t("offline_wait"));
  });

  var unfinished = unfinishedName();
  if (unfinished) setStatus(t("unfinished", { name: unfinished }));

  /* ---- attachments: PDF, PPT, audio, one at a time with a progress bar ---- */

  var attachmentInput = document.getElementById("attachment-file");
  var attachmentList = document.getElementById("attachment-list");
  var attachmentNone = document.getElementById("attachment-none");
  var attachmentBlock = document.getElementById("attachment-progress-block");
  var attachmentProgress = document.getElementById("attachment-progress");
  var attachmentStatus = document.getElementById("attachment-status");
  var attachmentAlert = document.getElementById("attachment-alert");

  function listAttachment(item) {
    var row = document.createElement("li");
    row.className = "list-cell";
    var link = document.createElement("a");
    link.className = "list-cell-main";
    link.href = item.url;
    link.textContent = item.filename;
    row.appendChild(link);
    attachmentList.appendChild(row);
    attachmentNone.hidden = true;
  }

  function attach(file) {
    setAlert(attachmentAlert, "");
    if (!file) return;
    if (file.size > data.attachment_max_bytes) {
      setAlert(attachmentAlert, t("attachment_too_large", { max_mb: Math.round(data.attachment_max_bytes / MB) }));
      return;
    }
    if (attachmentList.children.length >= data.attachments_max) {
      setAlert(attachmentAlert, t("attachments_full", { max: data.attachments_max }));
      return;
    }
    var form = new FormData();
    form.append("file", file, file.name || "attachment");
    var xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/v1/courses/" + courseId + "/attachments");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = function (event) {
      if (event.lengthComputable && event.total) attachmentProgress.value = Math.round((event.loaded / event.total) * 100);
    };
    xhr.onload = function () {
      attachmentBlock.hidden = true;
      attachmentInput.disabled = false;
      var response = parsed(xhr.status, xhr.responseText);
      if (response.ok) {
        listAttachment(response.data);
        attachmentStatus.textContent = t("attachment_added", { name: response.data.filename });
      } else {
        attachmentStatus.textContent = "";
        showRefusal(attachmentAlert, response);
      }
    };
    xhr.onerror = function () {
      attachmentBlock.hidden = true;
      attachmentInput.disabled = false;
      attachmentStatus.textContent = "";
      setAlert(attachmentAlert, t("attachment_network"));
    };
    attachmentProgress.value = 0;
    attachmentBlock.hidden = false;
    attachmentInput.disabled = true;
    attachmentStatus.textContent = t("attachment_uploading", { name: file.name });
    xhr.send(form);
  }

  attachmentInput.addEventListener("change", function () {
    var file = attachmentInput.files && attachmentInput.files[0];
    attachmentInput.value = "";
    attach(file);
  });
})();
