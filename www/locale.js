// The browser's language, made one that Intl accepts. WebKit takes it from the environment, and
// under the POSIX locale (LANG=C.UTF-8, common in containers) navigator.language is "C", which
// Intl refuses ("RangeError: invalid language tag: C"); uPlot formats numbers with it as soon as
// it loads. Imported first by app.js, so that it runs before any module that reads the language.

/** Whether Intl accepts `tag` as a language tag. */
function valid(tag) {
  try {
    return typeof tag === "string" && Intl.getCanonicalLocales(tag).length === 1;
  } catch {
    return false;
  }
}

/** Those of `languages` that Intl accepts, once each, or ["en-US"] when it accepts none. */
function usable(/** @type {readonly string[]} */ languages) {
  const kept = [...new Set(languages.filter(valid))];
  return kept.length ? kept : ["en-US"];
}

if (!valid(navigator.language) || !navigator.languages.every(valid)) {
  const languages = Object.freeze(usable([navigator.language, ...navigator.languages]));
  Object.defineProperty(navigator, "language", { value: languages[0], configurable: true });
  Object.defineProperty(navigator, "languages", { value: languages, configurable: true });
}
