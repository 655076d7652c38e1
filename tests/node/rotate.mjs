// Rotates OIDC app client secrets with ZITADEL's own Node clients, one call after the other,
// and prints a JSON array with the outcome of each. A secret itself is never printed: only its
// length and whether it is alphanumeric.
//
// usage: node rotate.mjs <baseUrl> '<JSON array of {client, token, projectId, appId, orgId?}>'
//   client: node-grpc        @zitadel/node     (nice-grpc, native gRPC)
//           client-grpc      @zitadel/client   createServerTransport (native gRPC)
//           client-grpc-web  @zitadel/client   createClientTransport (gRPC-web over fetch)
import { createAccessTokenInterceptor, createManagementClient } from "@zitadel/node/dist/api/index.js";
import { Metadata } from "nice-grpc";
import { createManagementServiceClient } from "@zitadel/client/v1";
import { createServerTransport } from "@zitadel/client/node";
import { createClientTransport } from "@zitadel/client/web";

const [baseUrl, callsJson] = process.argv.slice(2);

function summary(secret, details) {
  return {
    code: 0,
    secretLength: secret.length,
    secretAlphanumeric: /^[A-Za-z0-9]+$/.test(secret),
    sequence: String(details.sequence),
    resourceOwner: details.resourceOwner,
  };
}

async function withNode({ token, projectId, appId, orgId }) {
  const management = createManagementClient(baseUrl, createAccessTokenInterceptor(token));
  const metadata = orgId ? Metadata({ "x-zitadel-orgid": orgId }) : Metadata();
  try {
    const response = await management.regenerateOIDCClientSecret({ projectId, appId }, { metadata });
    return summary(response.clientSecret, response.details);
  } catch (error) {
    return { code: error.code, message: error.details };
  }
}

async function withClient(web, { token, projectId, appId, orgId }) {
  const transport = web
    ? createClientTransport(token, { baseUrl })
    : createServerTransport(token, { baseUrl, httpVersion: "2" });
  const management = createManagementServiceClient(transport);
  const headers = orgId ? { "x-zitadel-orgid": orgId } : {};
  try {
    const response = await management.regenerateOIDCClientSecret({ projectId, appId }, { headers });
    return summary(response.clientSecret, response.details);
  } catch (error) {
    return {
      code: error.code,
      message: error.rawMessage,
      detailTypes: (error.details ?? []).map((detail) => detail.desc?.typeName ?? detail.type),
    };
  }
}

const runs = {
  "node-grpc": (call) => withNode(call),
  "client-grpc": (call) => withClient(false, call),
  "client-grpc-web": (call) => withClient(true, call),
};
const outcomes = [];
for (const call of JSON.parse(callsJson)) {
  if (!(call.client in runs)) {
    console.error(`unknown client ${call.client}; one of ${Object.keys(runs).join(", ")}`);
    process.exit(2);
  }
  outcomes.push({ client: call.client, ...(await runs[call.client](call)) });
}
console.log(JSON.stringify(outcomes));
process.exit(0);
