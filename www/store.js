// Persistence in IndexedDB: each record is written in one transaction, so a reload or a closed
// tab leaves either the old value or the new one, never half of it.
const DB = "digit-transfer";
const STORE = "kv";

function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

let db = null;
async function database() {
  db ??= await open();
  return db;
}

function run(mode, action) {
  return database().then((d) => new Promise((resolve, reject) => {
    const tx = d.transaction(STORE, mode);
    const request = action(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(request.result);
    tx.onabort = () => reject(tx.error ?? request.error);
    tx.onerror = () => reject(tx.error ?? request.error);
  }));
}

export const get = (key) => run("readonly", (s) => s.get(key));
export const put = (key, value) => run("readwrite", (s) => s.put(value, key));
export const remove = (key) => run("readwrite", (s) => s.delete(key));

/** A person-readable reason for a failed write (the quota above all). */
export function describe(error) {
  const name = error?.name ?? "";
  if (name === "QuotaExceededError") return "this browser's storage for the page is full";
  return String(error?.message ?? error);
}
