// How the browser tests start Chromium: Debian's build (never `playwright install`), with the
// flags that keep it from calling home (the machine has no internet).

export const CHROMIUM = "/usr/bin/chromium";

export const OFFLINE_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
