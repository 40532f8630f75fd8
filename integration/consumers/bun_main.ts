// Bun: the same service on Bun.serve; prints the report as one JSON line.
import { exercise } from "./service.ts";

declare const Bun: {
  serve(options: {
    hostname: string;
    port: number;
    fetch: (request: Request) => Response | Promise<Response>;
  }): { port: number; stop(closeActive?: boolean): Promise<void> | void };
};

const report = await exercise((fetch) => {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch });
  return Promise.resolve({
    url: `http://127.0.0.1:${server.port}`,
    close: () => server.stop(true),
  });
});
console.log(JSON.stringify(report));
