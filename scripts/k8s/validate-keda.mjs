// Validates the KEDA resources of rendered manifests against the KEDA CRD schemas, as compiled
// into npm's @kubernetes-models/keda (installed by scripts/install-k8s-tools).
// Usage: node scripts/k8s/validate-keda.mjs NODE_MODULES DOCS.json
//   DOCS.json: a JSON array of Kubernetes objects; objects of other API groups are skipped.
// Prints one line per invalid object and exits 1 if there is any; prints the count checked.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [modules, docsFile] = process.argv.slice(2);
if (!modules || !docsFile) {
  console.error("usage: node validate-keda.mjs NODE_MODULES DOCS.json");
  process.exit(2);
}
const kinds = ["ScaledObject", "ScaledJob", "TriggerAuthentication", "ClusterTriggerAuthentication"];
const models = {};
for (const kind of kinds) {
  const file = join(modules, "@kubernetes-models/keda/keda.sh/v1alpha1", `${kind}.js`);
  models[kind] = (await import(pathToFileURL(file).href))[kind];
}
let checked = 0;
let invalid = 0;
for (const doc of JSON.parse(readFileSync(docsFile, "utf8"))) {
  if (!doc || typeof doc.apiVersion !== "string" || !doc.apiVersion.startsWith("keda.sh/")) continue;
  const where = `${doc.kind}/${doc.metadata?.name ?? "?"}`;
  const Model = models[doc.kind];
  checked++;
  if (doc.apiVersion !== "keda.sh/v1alpha1" || !Model) {
    console.log(`${where}: unknown KEDA kind or version ${doc.apiVersion}`);
    invalid++;
    continue;
  }
  try {
    new Model(doc).validate();
  } catch (e) {
    const details = (e.errors ?? []).map((x) => `${x.instancePath || "/"} ${x.message ?? x.keyword}`);
    console.log(`${where}: ${details.length ? details.join("; ") : e.message}`);
    invalid++;
  }
}
console.log(`checked ${checked} KEDA object(s), ${invalid} invalid`);
process.exit(invalid ? 1 : 0);
