// Node: the service on @hono/node-server; prints the report as one JSON line.
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { exercise } from "./service.ts";

const report = await exercise((fetch) =>
  new Promise((resolve) => {
    const server = serve({ fetch, hostname: "127.0.0.1", port: 0 }, (info: AddressInfo) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  })
);
console.log(JSON.stringify(report));
