// Serve the peer: `node server.mjs` (Node 22) with BENCH_PEER_DATABASE_URL and BENCH_PEER_PORT.
import { createServer } from "node:http";
import { postgraphile } from "postgraphile";
import { grafserv } from "postgraphile/grafserv/node";
import preset from "./graphile.config.mjs";

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
server.on("error", (e) => {
  console.error(e);
  process.exit(1);
});
await serv.addTo(server);
const { host, port } = preset.grafserv;
server.listen(port, host, () => console.error(`peer listening on http://${host}:${port}/graphql`));
