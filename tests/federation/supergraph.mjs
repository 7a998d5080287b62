// Compose clientgraph's subgraph SDL with another subgraph's (@apollo/composition), then serve
// the supergraph with @apollo/gateway inside @apollo/server, forwarding an API key to
// clientgraph. Prints one JSON line: the composition; then answers each JSON line on stdin
// ({"query", "variables"}) with one JSON line (the gateway's result).
//
//   node supergraph.mjs <clientgraph /graphql URL> <other subgraph URL> <API key>
import { composeServices } from "@apollo/composition";
import { ApolloGateway, RemoteGraphQLDataSource } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { parse } from "graphql";
import readline from "node:readline";

const [clientgraphUrl, otherUrl, key] = process.argv.slice(2);
const credentials = { authorization: `Bearer ${key}` };

async function sdlOf(url, headers) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query: "{ _service { sdl } }" }),
  });
  const body = await response.json();
  if (!body.data) throw new Error(`${url}: ${JSON.stringify(body)}`);
  return body.data._service.sdl;
}

const composed = composeServices([
  { name: "clientgraph", url: clientgraphUrl, typeDefs: parse(await sdlOf(clientgraphUrl, credentials)) },
  { name: "tiers", url: otherUrl, typeDefs: parse(await sdlOf(otherUrl, {})) },
]);
if (composed.errors) {
  console.log(JSON.stringify({ composed: false, errors: composed.errors.map((e) => e.message) }));
  process.exit(0);
}

class ClientGraph extends RemoteGraphQLDataSource {
  willSendRequest({ request }) {
    if (this.url === clientgraphUrl) request.http.headers.set("authorization", credentials.authorization);
  }
}

const gateway = new ApolloGateway({
  supergraphSdl: composed.supergraphSdl,
  buildService: ({ url }) => new ClientGraph({ url }),
});
const server = new ApolloServer({ gateway });
await server.start();
console.log(JSON.stringify({ composed: true, hints: composed.hints.map((h) => h.toString()) }));

for await (const line of readline.createInterface({ input: process.stdin })) {
  const { query, variables } = JSON.parse(line);
  const response = await server.executeOperation({ query, variables });
  const body = response.body.kind === "single" ? response.body.singleResult : { incremental: true };
  console.log(JSON.stringify(body));
}
await server.stop();
