// The page's service worker: after one visit the page opens and fine-tunes with the network
// off. Every file of one build is kept under one cache named by the build's version, which
// scripts/stamp-sw.mjs writes in below with the list of files to keep at once; a new release
// is a new sw.js, so browsers install it, fill a new cache and, once no tab uses the old
// version any more, delete the old one: a new page never meets an old wasm. It also sends the
// headers of cross-origin isolation with every file (isolated, below), for the threaded build.
const VERSION = "__BUILD_VERSION__";
const PRECACHE = ["__PRECACHE__"];
// An unstamped copy (a debug build, or scripts/serve.sh, whose server sends the isolation
// headers itself) caches nothing.
const STAMPED = !VERSION.startsWith("__");
const CACHE = `digit-transfer-${VERSION}`;
/** This script's global scope, as the service worker it is. */
const sw = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));

sw.addEventListener("install", (event) => {
  if (!STAMPED) return;
  // Straight from the server, not from the HTTP cache, so that nothing of an older build
  // slips into this version's cache.
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE.map((path) => new Request(path, { cache: "reload" })))));
});

sw.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith("digit-transfer-") && key !== CACHE) await caches.delete(key);
    }
    // The first visit's page (and its worker) go through this cache at once, so the files it
    // loads later (the WebGPU build) are kept too.
    await sw.clients.claim();
  })());
});

/**
 * `response` with the headers that make the page cross-origin isolated (COOP and COEP, and
 * CORP for its own files), as a server would send them: isolated, the training worker may
 * share memory between threads (the threaded CPU build). A static host (GitHub Pages) cannot
 * send them; served through here, the page is isolated from the first visit after this one.
 * @param {Response} response
 */
function isolated(response) {
  // An opaque response or an error cannot be rebuilt, and needs no headers.
  if (response.status === 0 || response.type === "opaque") return response;
  const headers = new Headers(response.headers);
  headers.set("Cross-Origin-Opener-Policy", "same-origin");
  headers.set("Cross-Origin-Embedder-Policy", "require-corp");
  headers.set("Cross-Origin-Resource-Policy", "same-origin");
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

sw.addEventListener("fetch", (event) => {
  const request = event.request;
  if (!STAMPED || request.method !== "GET" || new URL(request.url).origin !== location.origin) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    const kept = await cache.match(request, { ignoreSearch: true });
    if (kept) return isolated(kept);
    const response = await fetch(request);
    // Files of this build that were not kept at install (the WebGPU build) are kept when used.
    if (response.ok && response.type === "basic") await cache.put(request, response.clone());
    return isolated(response);
  })());
});
