// Persistence in IndexedDB, safe with the page open in several tabs. Each sample is its own
// record under an id no other tab can make, so tabs adding, deleting or importing at once never
// overwrite each other's work; every other value (settings, weights, a task's class names) is one
// record written in one transaction, so a closed tab leaves the old value or the new one whole.
// A change is announced to the other tabs (BroadcastChannel), which reload what changed.
// Where IndexedDB is missing or refuses (some private windows, storage disabled) everything is
// kept in memory for this tab, and `persistent` says so.
const DB = "digit-transfer";
const KV = "kv";
const SAMPLES = "samples";

/** Version 1 kept each task's samples in one kv record (`task:adapt`, `task:new`). */
function migrate(tx) {
  const kv = tx.objectStore(KV);
  const samples = tx.objectStore(SAMPLES);
  for (const mode of ["adapt", "new"]) {
    const request = kv.get(`task:${mode}`);
    request.onsuccess = () => {
      const task = request.result;
      if (!task?.samples) return;
      if (mode === "new") kv.put(task.classes, "classes:new");
      for (const s of task.samples) {
        const cls = task.classes[s.label];
        if (cls != null) samples.put({ id: newId(), mode, cls, image: new Uint8Array(s.image) });
      }
      kv.delete(`task:${mode}`);
    };
  }
}

function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 2);
    request.onupgradeneeded = (event) => {
      const db = request.result;
      if (event.oldVersion < 1) db.createObjectStore(KV);
      if (event.oldVersion < 2) {
        db.createObjectStore(SAMPLES, { keyPath: "id" }).createIndex("mode", "mode");
        if (event.oldVersion >= 1) migrate(request.transaction);
      }
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
    // Another tab holds an older version open: the open waits until that tab lets go (it
    // closes or reloads), and the page says so meanwhile, rather than giving up on storage.
    request.onblocked = () => blockedListener?.();
  });
}

let blockedListener = null;
/** `listener()` hears that storage waits for another tab holding an older version open. */
export function onBlocked(listener) {
  blockedListener = listener;
}

/** Kept here when IndexedDB is not available. */
const memory = { kv: new Map(), samples: new Map() };
export let persistent = true;
let db = null;

async function database() {
  if (!persistent) return null;
  try {
    db ??= await open();
    // Another tab upgraded the storage: let it, and reopen on next use.
    db.onversionchange = () => {
      db.close();
      db = null;
    };
    return db;
  } catch (error) {
    // No IndexedDB at all, or one that refuses to open: work in memory from now on.
    if (error?.name === "QuotaExceededError") throw error;
    persistent = false;
    console.warn(`IndexedDB is not available (${error?.message ?? error}); nothing is kept after this tab closes`);
    return null;
  }
}

function run(stores, mode, action) {
  return database().then((d) => {
    if (!d) return action(null)?.result;
    return new Promise((resolve, reject) => {
      const tx = d.transaction(stores, mode);
      const request = action(tx);
      tx.oncomplete = () => resolve(request?.result);
      tx.onabort = () => reject(tx.error ?? request?.error);
      tx.onerror = () => reject(tx.error ?? request?.error);
    });
  });
}

const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(DB) : null;
/** `listener({ what, mode })` hears the other tabs' changes: what = "samples" | "classes" | "weights". */
export function onChange(listener) {
  if (channel) channel.onmessage = ({ data }) => listener(data);
}
const announce = (what, mode) => channel?.postMessage({ what, mode });

/** An id no other tab makes. */
export function newId() {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export const get = (key) => run(KV, "readonly", (tx) => (tx ? tx.objectStore(KV).get(key) : { result: memory.kv.get(key) }));
export async function put(key, value, announced) {
  await run(KV, "readwrite", (tx) => (tx ? tx.objectStore(KV).put(value, key) : memory.kv.set(key, value)));
  if (announced) announce(...announced);
}
export async function remove(key, announced) {
  await run(KV, "readwrite", (tx) => (tx ? tx.objectStore(KV).delete(key) : memory.kv.delete(key)));
  if (announced) announce(...announced);
}

/** Records read at a time: a page of them is decoded in one short task, however many there are. */
const PAGE = 2000;

/** The samples of `mode` ("adapt" or "new"): [{ id, mode, cls, image }], oldest first. Read a
 * page of records at a time, in the order of their ids, so that tens of thousands of samples
 * never make one long task (a reload, another tab's change). */
export async function samples(mode) {
  if (!(await database())) {
    return [...memory.samples.values()].filter((s) => s.mode === mode).sort(oldestFirst);
  }
  const all = [];
  let after = null;
  for (;;) {
    const range = after === null ? null : IDBKeyRange.lowerBound(after, true);
    const page = await run(SAMPLES, "readonly", (tx) => tx.objectStore(SAMPLES).getAll(range, PAGE));
    for (const record of page) if (record.mode === mode) all.push(record);
    if (page.length < PAGE) break;
    after = page[page.length - 1].id;
  }
  return all.sort(oldestFirst);
}

/** Records by when they were added, and in the order they were added within one moment. */
const oldestFirst = (a, b) => (a.added ?? 0) - (b.added ?? 0) || (a.seq ?? 0) - (b.seq ?? 0);

/** Orders the records one tab adds within the same millisecond (an import's slice). */
let sequence = 0;

/** Add sample records ({ id, mode, cls, image }) in one transaction. */
export async function addSamples(records, mode) {
  const added = Date.now();
  await run(SAMPLES, "readwrite", (tx) => {
    for (const r of records) {
      const record = { ...r, added: r.added ?? added, seq: r.seq ?? sequence++ };
      if (tx) tx.objectStore(SAMPLES).put(record);
      else memory.samples.set(record.id, record);
    }
  });
  announce("samples", mode);
}

/** Delete the samples with these ids (only those: another tab's new ones stay). */
export async function deleteSamples(ids, mode) {
  await run(SAMPLES, "readwrite", (tx) => {
    for (const id of ids) {
      if (tx) tx.objectStore(SAMPLES).delete(id);
      else memory.samples.delete(id);
    }
  });
  announce("samples", mode);
}

/** A person-readable reason for a failed write (the quota above all). */
export function describe(error) {
  const name = error?.name ?? "";
  if (name === "QuotaExceededError") return "this browser's storage for the page is full";
  return String(error?.message ?? error);
}
