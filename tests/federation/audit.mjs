// graphql-http's server audit (the GraphQL over HTTP spec's MUST and SHOULD) against a running
// server; prints one JSON line: every audit's id, name, status (ok | warn | error) and reason.
//
//   node audit.mjs <server /graphql URL> [API key]
import { serverAudits } from "graphql-http";

const [url, key] = process.argv.slice(2);
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  if (key) headers.set("authorization", `Bearer ${key}`);
  return fetch(input, { ...init, headers });
};

const results = [];
for (const audit of serverAudits({ url, fetchFn })) {
  const result = await audit.fn();
  results.push({ id: audit.id, name: audit.name, status: result.status, reason: result.reason ?? null });
}
console.log(JSON.stringify(results));
