// Checks KEDA's objects in rendered manifests (stdin: a JSON list) against KEDA's own schema, through the
// typed models of @kubernetes-models/keda (its validate() runs the CRD's OpenAPI schema). Exit 1 on any error.
import { ScaledObject, TriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1";

const kinds = { ScaledObject, TriggerAuthentication };
const docs = JSON.parse(await new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (chunk) => (text += chunk)).on("end", () => resolve(text));
}));
let bad = 0, checked = 0;
for (const doc of docs) {
  const Model = doc.apiVersion === "keda.sh/v1alpha1" ? kinds[doc.kind] : undefined;
  if (!Model) continue;
  checked += 1;
  try {
    new Model(doc).validate();
    console.log(`ok   ${doc.kind}/${doc.metadata.name} (KEDA schema)`);
  } catch (err) {
    bad += 1;
    console.log(`FAIL ${doc.kind}/${doc.metadata.name}: ${err.message}`);
  }
}
if (checked === 0) { console.log("FAIL no KEDA object found"); process.exit(1); }
process.exit(bad ? 1 : 0);
