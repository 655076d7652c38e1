// Rotates client secrets over ZITADEL's v2 and v2beta services with connect-es
// (@connectrpc/connect-node), one call after the other, and prints a JSON array with the outcome
// of each. No generated code: the services come from a FileDescriptorSet built by protoc. A
// secret itself is never printed: only its length and whether it is alphanumeric.
//
// usage: node generate.mjs <baseUrl> <descriptor-set.binpb> '<JSON array of calls>'
//   call: {transport, api, token, projectId, appId, appType?, orgId?}
//     transport: connect (JSON), connect-proto, connect-h2 (JSON over prior-knowledge HTTP/2),
//                grpc (HTTP/2), grpc-web (HTTP/1.1)
//     api: v2 (ApplicationService.GenerateClientSecret) or v2beta (AppService, appType isOidc|isApi)
import { readFileSync } from "node:fs";
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { ConnectError, createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";

const [baseUrl, descriptorPath, callsJson] = process.argv.slice(2);
const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(descriptorPath)));
const errorDetail = registry.getMessage("zitadel.v1.ErrorDetail");
const services = {
  v2: registry.getService("zitadel.application.v2.ApplicationService"),
  v2beta: registry.getService("zitadel.app.v2beta.AppService"),
};
const transports = {
  connect: () => createConnectTransport({ baseUrl, httpVersion: "1.1" }),
  "connect-proto": () => createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true }),
  "connect-h2": () => createConnectTransport({ baseUrl, httpVersion: "2" }),
  grpc: () => createGrpcTransport({ baseUrl }),
  "grpc-web": () => createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }),
};

async function run({ transport, api, token, projectId, appId, appType, orgId }) {
  const client = createClient(services[api], transports[transport]());
  const headers = { authorization: `Bearer ${token}` };
  if (orgId) headers["x-zitadel-orgid"] = orgId;
  try {
    const response =
      api === "v2"
        ? await client.generateClientSecret({ applicationId: appId, projectId }, { headers })
        : await client.regenerateClientSecret(
            { projectId, applicationId: appId, appType: { case: appType ?? "isOidc", value: true } },
            { headers },
          );
    return {
      code: 0,
      secretLength: response.clientSecret.length,
      secretAlphanumeric: /^[A-Za-z0-9]+$/.test(response.clientSecret),
      creationSeconds: Number(response.creationDate?.seconds ?? 0),
    };
  } catch (error) {
    const connectError = ConnectError.from(error);
    return {
      code: connectError.code,
      message: connectError.rawMessage,
      detailIds: connectError.findDetails(errorDetail).map((detail) => detail.id),
    };
  }
}

const outcomes = [];
for (const call of JSON.parse(callsJson)) {
  if (!(call.transport in transports) || !(call.api in services)) {
    console.error(`unknown transport or api in ${JSON.stringify(call)}`);
    process.exit(2);
  }
  outcomes.push({ transport: call.transport, api: call.api, ...(await run(call)) });
}
console.log(JSON.stringify(outcomes));
process.exit(0);
