/* Learnloop reflection writer (/write/{id}). Plain script after outbox.js; no build step.
   Works offline: the text and photos are always kept in IndexedDB, drafts go to the server while
   online, and a submission waits in the outbox until it has been sent exactly once. */
(function () {
  "use strict";

  var Outbox = window.LearnloopOutbox;
  var dataElement = document.getElementById("writer-data");
  if (!Outbox || !dataElement) return;

  var data = JSON.parse(dataElement.textContent);
  var assignment = data.assignment;
  var messages = data.messages;
  var id = assignment.id;
  var FINISHED = ["submitted", "late", "graded"];
  var SERVER_SAVE_DELAY_MS = 1500;
  var RETRY_EVERY_MS = 20000;
  var SHRINK_ABOVE_BYTES = 1.5 * 1024 * 1024;
  var MAX_SIDE = 2048;

  var form = document.getElementById("writer-form");
  var text = document.getElementById("writer-text");
  var count = document.getElementById("writer-count");
  var thumbs = document.getElementById("writer-thumbs");
  var camera = document.getElementById("writer-camera");
  var gallery = document.getElementById("writer-gallery");
  var hint = document.getElementById("writer-photos-hint");
  var statusLine = document.getElementById("writer-status");
  var alertLine = document.getElementById("writer-alert");
  var done = document.getElementById("writer-done");
  var viewLink = document.getElementById("writer-view");
  var actions = document.getElementById("writer-actions");
  var saveButton = document.getElementById("writer-save");
  var submitButton = document.getElementById("writer-submit");

  // mode: edit (writing) · queued (in the outbox) · sending · sent · closed (already submitted)
  var mode = "edit";
  var photos = []; // {localId, photoId, data, type, name, uploading, progress, url}
  var uploads = {}; // localId -> promise of an upload in flight
  var saveTimer = null;
  var retryTimer = null;
  var dirty = false; // the server has not got the latest text yet
  var localWrite = Promise.resolve();

  function t(key, params) {
    var message = messages[key] || key;
    return message.replace(/\{(\w+)\}/g, function (whole, name) {
      return params && name in params ? String(params[name]) : whole;
    });
  }

  function chars(value) {
    return Array.from((value || "").trim()).length;
  }

  function isOnline() {
    return navigator.onLine !== false;
  }

  function finished(state) {
    return FINISHED.indexOf(state) !== -1;
  }

  try {
    window.localStorage.setItem("learnloop.locale", data.locale);
  } catch (error) {
    /* storage blocked: the offline page falls back to the browser's language */
  }

  /* ---- what the page shows ---- */

  function setStatus(message, tone) {
    statusLine.textContent = message || "";
    if (tone) statusLine.setAttribute("data-tone", tone);
    else statusLine.removeAttribute("data-tone");
  }

  function setAlert(message, link) {
    alertLine.textContent = message || "";
    if (message && link) {
      alertLine.appendChild(document.createTextNode(" "));
      var anchor = document.createElement("a");
      anchor.href = link.href;
      anchor.textContent = link.text;
      alertLine.appendChild(anchor);
    }
  }

  function updateCount() {
    var n = chars(text.value);
    var min = assignment.min_length;
    if (min > 0 && n < min) {
      count.textContent = t("count_remaining", { n: min - n }) + " · " + t("count_total", { n: n });
      count.setAttribute("data-reached", "false");
    } else {
      count.textContent = (min > 0 ? t("count_reached") + " · " : "") + t("count_total", { n: n });
      count.setAttribute("data-reached", "true");
    }
  }

  function setMode(next) {
    mode = next;
    var editing = mode === "edit";
    text.readOnly = !editing;
    saveButton.disabled = !editing;
    submitButton.disabled = !editing;
    actions.hidden = mode === "sent" || mode === "closed";
    done.hidden = !(mode === "sent" || mode === "closed");
    renderPhotos();
    if (mode === "queued") startRetrying();
    else stopRetrying();
  }

  function showDone(submissionId) {
    if (submissionId) viewLink.href = "/reflections/" + submissionId;
  }

  function photoUrl(photo) {
    if (photo.data) {
      if (!photo.url) photo.url = URL.createObjectURL(Outbox.photoBlob(photo));
      return photo.url;
    }
    return "/api/v1/photos/" + photo.photoId;
  }

  function renderPhotos() {
    if (!thumbs) return;
    var editing = mode === "edit";
    thumbs.textContent = "";
    photos.forEach(function (photo, index) {
      var n = index + 1;
      var item = document.createElement("li");
      item.className = "writer-thumb";
      item.setAttribute("data-local-id", photo.localId);
      var image = document.createElement("img");
      image.alt = t("photo_alt", { n: n });
      image.width = 96;
      image.height = 96;
      image.decoding = "async";
      image.src = photoUrl(photo);
      item.appendChild(image);
      if (photo.uploading || !photo.photoId) {
        var note = document.createElement("div");
        note.className = "writer-thumb-note";
        if (photo.uploading) {
          var label = document.createElement("span");
          label.textContent = t("photo_uploading", { n: n });
          var bar = document.createElement("progress");
          bar.max = 100;
          bar.value = Math.round((photo.progress || 0) * 100);
          bar.setAttribute("aria-label", t("photo_uploading", { n: n }));
          note.appendChild(label);
          note.appendChild(bar);
        } else {
          note.textContent = photo.failed ? t("photo_failed") : t("photo_waiting");
        }
        item.appendChild(note);
      }
      if (editing) {
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "writer-thumb-remove";
        remove.setAttribute("aria-label", t("remove_photo", { n: n }));
        remove.innerHTML = '<span aria-hidden="true">×</span>';
        remove.addEventListener("click", function () {
          removePhoto(photo.localId);
        });
        item.appendChild(remove);
      }
      thumbs.appendChild(item);
    });
    var full = photos.length >= assignment.max_photos;
    [camera, gallery].forEach(function (input) {
      if (input) input.disabled = !editing || full;
    });
    if (hint) {
      hint.textContent = full
        ? t("photos_full", { max: assignment.max_photos })
        : t("photos_hint", { max: assignment.max_photos });
    }
  }

  // Only what survives in IndexedDB: no object URLs, no upload state.
  function storedPhotos() {
    return photos.map(function (photo) {
      return {
        localId: photo.localId,
        photoId: photo.photoId || null,
        data: photo.data || null,
        type: photo.type || "",
        name: photo.name || "",
      };
    });
  }

  function applyContent(body, stored) {
    text.value = body || "";
    photos.forEach(function (photo) {
      if (photo.url) URL.revokeObjectURL(photo.url);
    });
    photos = (stored || []).map(function (photo) {
      return {
        localId: photo.localId,
        photoId: photo.photoId,
        data: photo.data,
        type: photo.type,
        name: photo.name,
      };
    });
    updateCount();
    renderPhotos();
  }

  function serverPhotos(ids) {
    return (ids || []).map(function (photoId) {
      return { localId: "server-" + photoId, photoId: photoId, data: null };
    });
  }

  /* ---- drafts: always on this phone, on the server when online ---- */

  function saveLocal(isDirty) {
    var draft = {
      assignmentId: id,
      owner: data.owner,
      body: text.value,
      photos: storedPhotos(),
      updatedAt: Date.now(),
      dirty: isDirty,
    };
    localWrite = localWrite
      .then(function () {
        return Outbox.draftPut(draft);
      })
      .catch(function (error) {
        console.warn("Learnloop: could not keep the draft on this phone", error);
      });
    return localWrite;
  }

  function changed() {
    dirty = true;
    saveLocal(true);
    scheduleServerSave();
  }

  function scheduleServerSave() {
    clearTimeout(saveTimer);
    saveTimer = setTimeout(function () {
      saveServer(false);
    }, SERVER_SAVE_DELAY_MS);
  }

  function saveServer(announce, keepalive) {
    clearTimeout(saveTimer);
    if (mode !== "edit") return Promise.resolve();
    if (!isOnline()) {
      if (announce) setStatus(t("saved_local"));
      return Promise.resolve();
    }
    var body = text.value;
    var uploaded = photos.filter(function (photo) {
      return photo.photoId;
    });
    var complete = uploaded.length === photos.length;
    if (announce) setStatus(t("saving"));
    return Outbox.requestJson(
      "PUT",
      "/api/v1/assignments/" + id + "/draft",
      {
        body: body,
        photo_ids: uploaded.map(function (photo) {
          return photo.photoId;
        }),
      },
      {},
      keepalive,
    ).then(
      function (response) {
        if (response.ok) {
          if (body === text.value && complete) {
            dirty = false;
            saveLocal(false);
          }
          setStatus(complete ? t("saved_server") : t("saved_local"));
        } else if (response.status === 409) {
          refreshFromServer();
        } else if (announce || response.status !== 401) {
          var error = Outbox.errorOf(response);
          setAlert(error.message || t("server_error"));
        }
      },
      function () {
        setStatus(t("saved_local"));
      },
    );
  }

  /* ---- photos ---- */

  // Phone photos are 3–12 MB; a 2048 px JPEG is what the server keeps anyway, and far quicker
  // to send on a train. Anything that fails here just sends the original.
  function shrink(file) {
    if (file.size < SHRINK_ABOVE_BYTES || typeof createImageBitmap !== "function") {
      return Promise.resolve(file);
    }
    return createImageBitmap(file, { imageOrientation: "from-image" })
      .then(function (bitmap) {
        var scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
        var canvas = document.createElement("canvas");
        canvas.width = Math.round(bitmap.width * scale);
        canvas.height = Math.round(bitmap.height * scale);
        canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        bitmap.close();
        return new Promise(function (resolve) {
          canvas.toBlob(
            function (blob) {
              resolve(blob && blob.size < file.size ? blob : file);
            },
            "image/jpeg",
            0.85,
          );
        });
      })
      .catch(function () {
        return file;
      });
  }

  function addFiles(fileList) {
    setAlert("");
    var room = assignment.max_photos - photos.length;
    var files = Array.prototype.slice.call(fileList || [], 0, Math.max(0, room));
    if (fileList && fileList.length > files.length) {
      setAlert(t("photos_full", { max: assignment.max_photos }));
    }
    return Promise.all(
      files.map(function (file) {
        return shrink(file).then(function (blob) {
          return blob.arrayBuffer().then(function (buffer) {
            return {
              localId: Outbox.uuid(),
              photoId: null,
              data: buffer,
              type: blob.type || file.type || "image/jpeg",
              name: file.name || "photo.jpg",
            };
          });
        });
      }),
    ).then(function (added) {
      added.forEach(function (photo) {
        photos.push(photo);
      });
      renderPhotos();
      changed();
      if (isOnline()) added.forEach(upload);
    });
  }

  function findPhoto(localId) {
    for (var index = 0; index < photos.length; index += 1) {
      if (photos[index].localId === localId) return photos[index];
    }
    return null;
  }

  function upload(photo) {
    if (photo.photoId || uploads[photo.localId]) return uploads[photo.localId];
    photo.uploading = true;
    photo.failed = false;
    photo.progress = 0;
    renderPhotos();
    var promise = Outbox.uploadPhoto(photo, function (fraction) {
      photo.progress = fraction;
      var bar = thumbs && thumbs.querySelector('[data-local-id="' + photo.localId + '"] progress');
      if (bar) bar.value = Math.round(fraction * 100);
    })
      .then(
        function (response) {
          photo.uploading = false;
          if (response.ok) {
            photo.photoId = response.data.id;
            if (findPhoto(photo.localId)) {
              saveLocal(true);
              scheduleServerSave();
            }
          } else if (response.status >= 400 && response.status < 500 && response.status !== 401) {
            // Not an image, too large…: the server's words, and the photo goes.
            setAlert(Outbox.errorOf(response).message);
            removePhoto(photo.localId);
          } else {
            photo.failed = true;
          }
        },
        function () {
          photo.uploading = false; // offline: it goes with the submission
        },
      )
      .then(function () {
        delete uploads[photo.localId];
        renderPhotos();
      });
    uploads[photo.localId] = promise;
    return promise;
  }

  function removePhoto(localId) {
    var photo = findPhoto(localId);
    if (!photo) return;
    if (photo.url) URL.revokeObjectURL(photo.url);
    photos.splice(photos.indexOf(photo), 1);
    renderPhotos();
    changed();
    var next = thumbs && thumbs.querySelector(".writer-thumb-remove");
    (next || gallery || text).focus();
  }

  /* ---- submitting: queue first, then send; the key makes any replay harmless ---- */

  function registerSync() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.ready
      .then(function (registration) {
        if (registration.sync) return registration.sync.register(Outbox.SYNC_TAG);
        return undefined;
      })
      .catch(function () {
        /* no Background Sync: the page replays when online or on the next open */
      });
  }

  function submit(event) {
    event.preventDefault();
    if (mode !== "edit") return;
    setAlert("");
    var n = chars(text.value);
    if (n === 0) {
      setAlert(t("empty"));
      text.focus();
      return;
    }
    if (n < assignment.min_length) {
      setAlert(t("too_short", { n: assignment.min_length - n, min: assignment.min_length }));
      text.focus();
      return;
    }
    clearTimeout(saveTimer);
    setMode("sending");
    setStatus(t("sending"));
    var pending = Object.keys(uploads).map(function (key) {
      return uploads[key];
    });
    Promise.all(pending)
      .then(function () {
        var item = {
          assignmentId: id,
          owner: data.owner,
          key: Outbox.uuid(), // once per submit attempt; a replay reuses it
          body: text.value,
          photos: storedPhotos(),
          createdAt: Date.now(),
          title: assignment.training.name,
          prompt: assignment.prompt,
          error: null,
          rejected: false,
        };
        return saveLocal(true).then(function () {
          return Outbox.outboxPut(item);
        });
      })
      .then(function () {
        registerSync();
        return send();
      })
      .catch(function (error) {
        console.error("Learnloop: could not queue the reflection", error);
        setMode("edit");
        setAlert(t("server_error"));
      });
  }

  function send() {
    if (!isOnline()) {
      showWaiting();
      return Promise.resolve();
    }
    setStatus(t("sending"));
    return Outbox.replayOne(id, {
      onPhotoProgress: function (localId, fraction) {
        var photo = findPhoto(localId);
        if (photo) {
          photo.uploading = fraction < 1;
          photo.progress = fraction;
          renderPhotos();
        }
      },
      onPhotoUploaded: function (localId, photoId) {
        var photo = findPhoto(localId);
        if (photo) {
          photo.photoId = photoId;
          photo.uploading = false;
          renderPhotos();
        }
      },
    }).then(handleResult, function (error) {
      console.error("Learnloop: sending failed", error);
      showWaiting();
    });
  }

  function showWaiting() {
    setMode("queued");
    setStatus(t("waiting") + " · " + t("waiting_detail"), "waiting");
  }

  function handleResult(result) {
    if (!result || result.assignmentId !== id) return;
    if (result.status === "sent") {
      setAlert("");
      showDone(result.submission && result.submission.id);
      setMode("sent");
      setStatus(t("sent") + " · " + t("sent_detail"), "sent");
      refreshFromServer(); // the offline copies should not offer it for writing any more
    } else if (result.status === "waiting") {
      showWaiting();
      if (result.reason === "signin") {
        setAlert(t("signin_again"), {
          href: "/login?next=" + encodeURIComponent(location.pathname),
          text: t("signin_link"),
        });
      } else if (result.reason === "server") {
        setAlert(t("server_error"));
      }
    } else if (result.status === "rejected") {
      setMode("edit");
      setStatus(t("rejected"));
      setAlert((result.error && result.error.message) || t("server_error"));
    } else if (result.status === "conflict") {
      setMode("closed");
      setStatus(t("already_submitted"));
      setAlert((result.error && result.error.message) || t("already_submitted"));
      refreshFromServer();
    } else if (result.status === "none" && mode !== "sent") {
      refreshFromServer();
    }
  }

  function startRetrying() {
    if (retryTimer) return;
    retryTimer = setInterval(function () {
      if (mode === "queued" && isOnline() && document.visibilityState !== "hidden") send();
    }, RETRY_EVERY_MS);
  }

  function stopRetrying() {
    clearInterval(retryTimer);
    retryTimer = null;
  }

  /* ---- the server's copy and the offline caches ---- */

  // Keep writer pages for offline use: the open assignments' (once), and this one again when asked.
  function cacheAssignments(list, refreshCurrent) {
    if (!("caches" in window)) return Promise.resolve();
    var pages = caches.open(Outbox.PAGES_CACHE).then(function (cache) {
      var open = (list || []).filter(function (item) {
        return !finished(item.state);
      });
      var urls = open.slice(0, 10).map(function (item) {
        return "/write/" + item.id;
      });
      if (urls.indexOf(location.pathname) === -1) urls.push(location.pathname);
      return Promise.all(
        urls.map(function (url) {
          return cache.match(url, { ignoreVary: true, ignoreSearch: true }).then(function (hit) {
            if (hit && (url !== location.pathname || !refreshCurrent)) return undefined;
            return fetch(url, { credentials: "same-origin" }).then(function (response) {
              if (response.ok && !response.redirected) return cache.put(url, response);
              return undefined;
            });
          });
        }),
      );
    });
    return pages.catch(function () {
      /* best effort: offline copies are a convenience */
    });
  }

  function refreshFromServer() {
    if (!isOnline()) return Promise.resolve();
    return fetch(Outbox.ASSIGNMENTS_URL, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) return null;
        var copy = response.clone();
        if (!navigator.serviceWorker || !navigator.serviceWorker.controller) {
          // No worker in between yet (first visit): keep the list for the offline page ourselves.
          caches
            .open(Outbox.API_CACHE)
            .then(function (cache) {
              return cache.put(Outbox.ASSIGNMENTS_URL, copy);
            })
            .catch(function () {});
        }
        return response.json();
      })
      .then(function (list) {
        if (!list) return;
        var controlled = navigator.serviceWorker && navigator.serviceWorker.controller;
        cacheAssignments(list, mode === "sent" || !controlled);
        var fresh = null;
        list.forEach(function (item) {
          if (item.id === id) fresh = item;
        });
        if (!fresh) return;
        if (finished(fresh.state) && mode !== "queued" && mode !== "sending") {
          if (mode !== "sent") {
            assignment = fresh;
            applyContent(fresh.body, serverPhotos(fresh.photo_ids));
            showDone(fresh.submission_id);
            setMode("closed");
            setStatus(t("already_submitted"));
          }
          Outbox.draftDelete(id).catch(function () {});
          return;
        }
        if (mode === "edit" && !dirty) {
          applyContent(fresh.body, serverPhotos(fresh.photo_ids));
          saveLocal(false);
        } else if (mode === "edit" && dirty) {
          saveServer(false);
        }
      })
      .catch(function () {
        /* offline or the server is away: what this phone has stays on screen */
      });
  }

  function start() {
    updateCount();
    applyContent(assignment.body, serverPhotos(assignment.photo_ids));
    if (finished(assignment.state)) {
      showDone(assignment.submission_id);
      setMode("closed");
      setStatus(t("already_submitted"));
    } else {
      setMode("edit");
    }
    return Promise.all([
      Outbox.outboxGet(id).catch(function () {
        return null;
      }),
      Outbox.draftGet(id).catch(function () {
        return null;
      }),
    ]).then(function (found) {
      // Another person's work on this phone (a shared phone) is not theirs to see or send.
      var item = Outbox.ownedBy(found[0], data.owner) ? found[0] : null;
      var draft = Outbox.ownedBy(found[1], data.owner) ? found[1] : null;
      if (item && item.rejected && draft && draft.updatedAt > item.createdAt) {
        // Refused earlier and edited since: the newer text is the draft.
        applyContent(draft.body, draft.photos);
        dirty = Boolean(draft.dirty);
        setAlert((item.error && item.error.message) || "");
      } else if (item) {
        applyContent(item.body, item.photos);
        if (item.rejected) {
          setMode("edit");
          setStatus(t("rejected"));
          setAlert((item.error && item.error.message) || "");
          dirty = true;
        } else {
          showWaiting();
          if (isOnline()) send();
          return;
        }
      } else if (draft && !finished(assignment.state)) {
        // Local text wins until the server confirms it has it (the server copy may be older,
        // and this page may itself be an offline copy).
        applyContent(draft.body, draft.photos);
        dirty = Boolean(draft.dirty);
        if (dirty) setStatus(t("restored_local"));
        if (isOnline()) {
          photos.forEach(function (photo) {
            if (!photo.photoId && photo.data) upload(photo);
          });
        }
      }
      refreshFromServer();
    });
  }

  /* ---- events ---- */

  text.addEventListener("input", function () {
    updateCount();
    setAlert("");
    changed();
  });
  saveButton.addEventListener("click", function () {
    if (mode !== "edit") return;
    saveLocal(dirty).then(function () {
      setStatus(t("saved_local"));
      return saveServer(true);
    });
  });
  form.addEventListener("submit", submit);
  [camera, gallery].forEach(function (input) {
    if (!input) return;
    input.addEventListener("change", function () {
      var files = input.files;
      addFiles(files).then(function () {
        input.value = "";
      });
    });
  });

  window.addEventListener("online", function () {
    if (mode === "queued") {
      send();
      return;
    }
    if (mode === "edit") {
      photos.forEach(function (photo) {
        if (!photo.photoId && photo.data) upload(photo);
      });
      if (dirty) scheduleServerSave();
    }
  });

  function flush() {
    if (mode !== "edit") return;
    saveLocal(dirty);
    if (dirty && isOnline()) saveServer(false, true);
  }
  window.addEventListener("pagehide", flush);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") flush();
    else if (mode === "queued" && isOnline()) send();
  });

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", function (event) {
      var message = event.data || {};
      if (message.type !== Outbox.MESSAGE_TYPE) return;
      (message.results || []).forEach(function (result) {
        if (mode === "queued" || mode === "sending") handleResult(result);
      });
    });
  }

  start();
})();
