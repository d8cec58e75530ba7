// Samples files read and written off the main thread: a file of 30,000 samples is tens of MB of
// JSON, and decoding or encoding it in the page would freeze it for a second or more. The page
// starts this worker for one file and ends it after (files.js); the CPU build does the work,
// with the same Rust code as the CLI.
// In: { decode: Uint8Array } or { encode: { classes, images, labels } }.
// Out: { classes, images, labels } (decoded, buffers transferred), { json } (encoded as UTF-8
// bytes, transferred), or { error }.
import init, { decode_samples, encode_samples } from "../digit-transfer.js";

onmessage = async ({ data }) => {
  try {
    await init();
    if (data.decode) {
      const decoded = decode_samples(data.decode);
      // Each getter copies its buffer out of the wasm: read each once.
      const classes = decoded.classes;
      const images = decoded.images;
      const labels = decoded.labels;
      decoded.free();
      postMessage({ classes, images, labels }, [images.buffer, labels.buffer]);
    } else {
      const { classes, images, labels } = data.encode;
      const json = new TextEncoder().encode(encode_samples(classes, images, labels));
      postMessage({ json }, [json.buffer]);
    }
  } catch (error) {
    postMessage({ error: String(error?.message ?? error) });
  }
};
