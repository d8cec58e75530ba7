//! The threaded CPU build's pool (the `threads` feature): rayon's global pool, whose threads
//! are Web Workers (`www/pool-worker.js`, started by `www/pool.js`) running this same wasm
//! module on this instance's shared memory. burn's CPU kernels split their work over it.
//!
//! The training worker starts it, never the page's main thread (which may not block). rayon
//! builds a pool only once every thread of it runs, so the workers come first: each, once it
//! has instantiated the module on the shared memory, calls [`run_thread`] and waits there for a
//! thread to run; then [`build_thread_pool`] builds the pool, handing one thread to each.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{LazyLock, Mutex};

use wasm_bindgen::prelude::*;

/// The pool's threads on their way from rayon (the sender) to the workers that run them.
type Queue = (
    Mutex<Sender<rayon::ThreadBuilder>>,
    Mutex<Receiver<rayon::ThreadBuilder>>,
);
static QUEUE: LazyLock<Queue> = LazyLock::new(|| {
    let (sender, receiver) = mpsc::channel();
    (Mutex::new(sender), Mutex::new(receiver))
});

/// Build rayon's global pool with `threads` threads, each handed to a worker waiting in
/// [`run_thread`]; returns once all of them run. Fails when the pool was built already.
#[wasm_bindgen]
pub fn build_thread_pool(threads: usize) -> Result<(), JsError> {
    let threads = threads.max(1);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .spawn_handler(|thread| {
            let sender = QUEUE
                .0
                .lock()
                .map_err(|_| std::io::Error::other("the pool's queue was poisoned"))?;
            sender
                .send(thread)
                .map_err(|_| std::io::Error::other("the pool's queue closed"))
        })
        .build_global()
        .map_err(|e| JsError::new(&format!("the thread pool could not start: {e}")))?;
    // Kept apart from rayon's own count, which before this would build a default pool (of
    // `std` threads, which wasm cannot start).
    crate::device::set_cpu_threads(threads);
    Ok(())
}

/// Wait for one of the pool's threads and run it on the calling worker; returns only when the
/// pool ends (never, in a page).
#[wasm_bindgen]
pub fn run_thread() {
    let thread = QUEUE
        .1
        .lock()
        .ok()
        .and_then(|receiver| receiver.recv().ok());
    if let Some(thread) = thread {
        thread.run();
    }
}

/// This instance's module and its (shared) memory, for a thread's worker to instantiate.
#[wasm_bindgen]
pub fn thread_start_parts() -> js_sys::Array {
    js_sys::Array::of2(&wasm_bindgen::module(), &wasm_bindgen::memory())
}
