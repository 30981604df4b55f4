/* Learnloop reflection outbox, shared by the writer page (write.js), the offline page and the
   service worker (importScripts). Plain script, no modules: it defines self.LearnloopOutbox.

   IndexedDB "learnloop-writer":
     drafts  {assignmentId, body, photos, updatedAt, dirty}   what is being written (always saved here)
     outbox  {assignmentId, key, body, photos, createdAt, error, title}   a submission waiting to be sent
   A photo is {localId, photoId, data (ArrayBuffer), type, name}: photoId once uploaded, data while only
   on this phone. One queued submission per assignment; its key (a client UUID) is made once per submit
   attempt and sent as Idempotency-Key, so however often it is replayed the server records it once.
   Photo uploads are not idempotent: each photo id is written back to the queued item as soon as it is
   known, and a Web Lock keeps the page and the service worker from replaying at the same moment. */
(function (scope) {
  "use strict";

  var DB_NAME = "learnloop-writer";
  var DB_VERSION = 1;
  var LOCK_NAME = "learnloop-reflections-outbox";
  var dbPromise = null;

  function openDb() {
    if (dbPromise) return dbPromise;
    dbPromise = new Promise(function (resolve, reject) {
      var request = scope.indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = function () {
        var db = request.result;
        if (!db.objectStoreNames.contains("drafts")) db.createObjectStore("drafts", { keyPath: "assignmentId" });
        if (!db.objectStoreNames.contains("outbox")) db.createObjectStore("outbox", { keyPath: "assignmentId" });
      };
      request.onsuccess = function () {
        var db = request.result;
        db.onversionchange = function () {
          db.close();
          dbPromise = null;
        };
        resolve(db);
      };
      request.onerror = function () {
        dbPromise = null;
        reject(request.error);
      };
    });
    return dbPromise;
  }

  function run(storeName, mode, action) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(storeName, mode);
        var request = action(tx.objectStore(storeName));
        var result;
        if (request) {
          request.onsuccess = function () {
            result = request.result;
          };
        }
        tx.oncomplete = function () {
          resolve(result);
        };
        tx.onerror = function () {
          reject(tx.error);
        };
        tx.onabort = function () {
          reject(tx.error || new Error("transaction aborted"));
        };
      });
    });
  }

  function get(storeName, key) {
    return run(storeName, "readonly", function (store) {
      return store.get(key);
    });
  }

  function put(storeName, value) {
    return run(storeName, "readwrite", function (store) {
      return store.put(value);
    });
  }

  function remove(storeName, key) {
    return run(storeName, "readwrite", function (store) {
      return store.delete(key);
    });
  }

  function all(storeName) {
    return run(storeName, "readonly", function (store) {
      return store.getAll();
    });
  }

  function uuid() {
    if (scope.crypto && typeof scope.crypto.randomUUID === "function") return scope.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    scope.crypto.getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (byte) {
        return (byte + 0x100).toString(16).slice(1);
      })
      .join("");
  }

  function photoBlob(photo) {
    return new Blob([photo.data], { type: photo.type || "image/jpeg" });
  }

  function networkError(cause) {
    var error = new Error("network");
    error.network = true;
    error.cause = cause;
    return error;
  }

  function parse(status, text) {
    var data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (error) {
      data = null;
    }
    return { status: status, ok: status >= 200 && status < 300, data: data };
  }

  function request(method, url, options) {
    options = options || {};
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      cache: "no-store",
      headers: options.headers || {},
      body: options.body,
      keepalive: Boolean(options.keepalive),
    }).then(
      function (response) {
        return response.text().then(function (text) {
          return parse(response.status, text);
        });
      },
      function (error) {
        throw networkError(error);
      },
    );
  }

  function requestJson(method, url, body, headers, keepalive) {
    var all = { "Content-Type": "application/json", Accept: "application/json" };
    Object.keys(headers || {}).forEach(function (name) {
      all[name] = headers[name];
    });
    return request(method, url, { headers: all, body: JSON.stringify(body), keepalive: keepalive });
  }

  /* Upload one photo; onProgress(fraction) when the caller wants a progress bar (pages only). */
  function uploadPhoto(photo, onProgress) {
    var form = new FormData();
    form.append("file", photoBlob(photo), photo.name || "photo.jpg");
    if (!onProgress || typeof scope.XMLHttpRequest === "undefined") {
      return request("POST", "/api/v1/photos", { body: form, headers: { Accept: "application/json" } });
    }
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open("POST", "/api/v1/photos");
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (event) {
        if (event.lengthComputable && event.total) onProgress(event.loaded / event.total);
      };
      xhr.onload = function () {
        onProgress(1);
        resolve(parse(xhr.status, xhr.responseText));
      };
      xhr.onerror = function () {
        reject(networkError(null));
      };
      xhr.onabort = xhr.onerror;
      xhr.send(form);
    });
  }

  function errorOf(response) {
    var body = response.data && response.data.error;
    return {
      status: response.status,
      code: (body && body.code) || "",
      message: (body && body.message) || "",
      field: (body && body.field) || null,
    };
  }

  function withLock(action) {
    var locks = scope.navigator && scope.navigator.locks;
    if (locks && typeof locks.request === "function") return locks.request(LOCK_NAME, action);
    return action();
  }

  /* Send one queued item: photos first (ids kept as they arrive), then the submission with its key.
     Resolves to {assignmentId, status, submission?, error?}:
       sent     — 201 or 200 (a replay): the item and the draft are gone
       waiting  — no network, a server error or an expired session: the item stays for later
       rejected — a 4xx the same request would get again: the item stays, with the server's message
       conflict — already submitted (another device): the item is dropped
       none     — nothing queued (someone else sent it meanwhile) */
  /* Who is signed in (the API's /me), asked once per replay. */
  function whoAmI() {
    return requestJson("GET", "/api/v1/me");
  }

  async function sendItem(assignmentId, hooks, signedIn) {
    hooks = hooks || {};
    var item = await get("outbox", assignmentId);
    if (!item) return { assignmentId: assignmentId, status: "none" };
    try {
      // Only the person who wrote it may send it: on a shared phone someone else may be signed in.
      var me = signedIn || (await whoAmI());
      if (!me.ok) return await settle(item, me);
      if (!ownedBy(item, me.data.id)) {
        return { assignmentId: assignmentId, status: "waiting", reason: "owner" };
      }
      for (var index = 0; index < item.photos.length; index += 1) {
        var photo = item.photos[index];
        if (photo.photoId) continue;
        var progress = hooks.onPhotoProgress
          ? hooks.onPhotoProgress.bind(null, photo.localId)
          : null;
        var uploaded = await uploadPhoto(photo, progress);
        if (!uploaded.ok) return await settle(item, uploaded);
        photo.photoId = uploaded.data.id;
        await put("outbox", item); // a retry must never upload this photo again
        if (hooks.onPhotoUploaded) hooks.onPhotoUploaded(photo.localId, photo.photoId);
      }
      var response = await requestJson(
        "POST",
        "/api/v1/assignments/" + assignmentId + "/submissions",
        {
          body: item.body,
          photo_ids: item.photos.map(function (each) {
            return each.photoId;
          }),
        },
        { "Idempotency-Key": item.key },
      );
      return await settle(item, response);
    } catch (error) {
      if (!error.network) throw error;
      return { assignmentId: assignmentId, status: "waiting", reason: "network" };
    }
  }

  async function settle(item, response) {
    var id = item.assignmentId;
    if (response.status === 200 || response.status === 201) {
      await remove("outbox", id);
      var draft = await get("drafts", id);
      if (draft) await remove("drafts", id);
      return { assignmentId: id, status: "sent", submission: response.data };
    }
    var error = errorOf(response);
    if (response.status === 401 || response.status === 408 || response.status === 429 || response.status >= 500) {
      item.error = error;
      await put("outbox", item);
      return { assignmentId: id, status: "waiting", reason: response.status === 401 ? "signin" : "server", error: error };
    }
    if (response.status === 409) {
      await remove("outbox", id);
      return { assignmentId: id, status: "conflict", error: error };
    }
    item.error = error;
    item.rejected = true;
    await put("outbox", item);
    return { assignmentId: id, status: "rejected", error: error };
  }

  /* True when a stored draft or queued item belongs to `owner` (items from before owners were kept
     count as anyone's). */
  function ownedBy(record, owner) {
    return Boolean(record) && (record.owner === undefined || record.owner === null || record.owner === owner);
  }

  function replayOne(assignmentId, hooks) {
    return withLock(function () {
      return sendItem(assignmentId, hooks);
    });
  }

  /* Every queued item that can still succeed, one after another; stops at the first network failure. */
  function replayAll() {
    return withLock(async function () {
      var items = await all("outbox");
      var results = [];
      var signedIn = null;
      for (var index = 0; index < items.length; index += 1) {
        if (items[index].rejected) continue;
        if (!signedIn) {
          try {
            signedIn = await whoAmI();
          } catch (error) {
            if (!error.network) throw error;
            results.push({ assignmentId: items[index].assignmentId, status: "waiting", reason: "network" });
            break;
          }
        }
        var result = await sendItem(items[index].assignmentId, null, signedIn);
        if (result.reason === "owner") continue; // someone else's, kept for them
        results.push(result);
        if (result.status === "waiting" && result.reason === "network") break;
      }
      return results;
    });
  }

  scope.LearnloopOutbox = {
    SYNC_TAG: "reflections-outbox",
    PAGES_CACHE: "learnloop-pages",
    API_CACHE: "learnloop-api",
    ASSIGNMENTS_URL: "/api/v1/assignments",
    MESSAGE_TYPE: "learnloop-outbox",
    uuid: uuid,
    photoBlob: photoBlob,
    uploadPhoto: uploadPhoto,
    requestJson: requestJson,
    errorOf: errorOf,
    draftGet: function (id) {
      return get("drafts", id);
    },
    draftPut: function (draft) {
      return put("drafts", draft);
    },
    draftDelete: function (id) {
      return remove("drafts", id);
    },
    outboxGet: function (id) {
      return get("outbox", id);
    },
    outboxPut: function (item) {
      return put("outbox", item);
    },
    outboxAll: function () {
      return all("outbox");
    },
    ownedBy: ownedBy,
    replayOne: replayOne,
    replayAll: replayAll,
  };
})(self);
