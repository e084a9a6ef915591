// A TCP forwarder between the browser and the API that the test can cut: every open
// connection (the page's event stream included) is dropped, and new ones are closed on arrival
// until it is restored. Chromium's offline emulation (`context.setOffline`) was tried first:
// it fails new requests but leaves an event stream that is already open running, so it does
// not cut a streaming page off.

import net from "node:net";

// Starts a forwarder to `target` (an http://host:port URL); `url` is its own origin.
export async function startCutter(target) {
  const { hostname, port } = new URL(target);
  const sockets = new Set();
  let cut = false;
  const server = net.createServer((client) => {
    if (cut) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(port), hostname);
    const pair = [client, upstream];
    for (const socket of pair) {
      sockets.add(socket);
      socket.on("error", () => pair.forEach((s) => s.destroy()));
      socket.on("close", () => {
        sockets.delete(socket);
        pair.forEach((s) => s.destroy());
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    cut() {
      cut = true;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      cut = false;
    },
    close() {
      this.cut();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
