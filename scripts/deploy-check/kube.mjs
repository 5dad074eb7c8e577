// Built Kubernetes manifests (kustomize output), beyond their schemas: what the API server accepts
// but breaks at run time (selectors that match nothing, probes on a port the container lacks,
// references to missing ConfigMaps, Secrets or claims) and srag's own rules (pinned images; requests,
// limits and probes on every container; non-root with a read-only root filesystem).
//   node kube.mjs <label> <built.yaml>
import { createReport, isPinnedImage, readYamlDocuments } from './lib.mjs';

const [label, file] = process.argv.slice(2);
const report = createReport('kubernetes');
const p = (what, msg) => report.problem(label, `${what}: ${msg}`);
const resources = report.guard(label, () => readYamlDocuments(file)) ?? [];

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);
const byKind = (kind) => resources.filter((r) => r.kind === kind);
const id = (r) => `${r.kind}/${r.metadata?.name}`;
const named = (kind) => new Set(byKind(kind).map((r) => r.metadata?.name));
const workloads = resources.filter((r) => WORKLOADS.has(r.kind));
const podLabels = workloads.map((w) => ({ w, labels: w.spec?.template?.metadata?.labels ?? {} }));

/** A matchLabels / matchExpressions selector against a label set. */
function matches(selector, labels) {
  const eq = selector?.matchLabels ?? {};
  if (!Object.entries(eq).every(([k, v]) => labels[k] === v)) return false;
  return (selector?.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    switch (operator) {
      case 'In':
        return values.includes(labels[key]);
      case 'NotIn':
        return !values.includes(labels[key]);
      case 'Exists':
        return key in labels;
      case 'DoesNotExist':
        return !(key in labels);
      default:
        return false;
    }
  });
}
const selected = (selector) => podLabels.filter(({ labels }) => matches(selector, labels)).map(({ w }) => w);

const configMaps = named('ConfigMap');
const secrets = named('Secret');
const claims = named('PersistentVolumeClaim');

for (const w of workloads) {
  const spec = w.spec?.template?.spec ?? {};
  if (!matches(w.spec?.selector, w.spec?.template?.metadata?.labels ?? {})) p(id(w), 'spec.selector does not match the pod template labels');
  if (spec.securityContext?.runAsNonRoot !== true) p(id(w), 'pod securityContext.runAsNonRoot is not true');
  const volumes = new Map((spec.volumes ?? []).map((v) => [v.name, v]));
  for (const v of volumes.values()) {
    if (v.persistentVolumeClaim && !claims.has(v.persistentVolumeClaim.claimName)) p(id(w), `volume ${v.name}: no PersistentVolumeClaim ${v.persistentVolumeClaim.claimName}`);
    if (v.configMap && !configMaps.has(v.configMap.name)) p(id(w), `volume ${v.name}: no ConfigMap ${v.configMap.name}`);
    if (v.secret && !secrets.has(v.secret.secretName)) p(id(w), `volume ${v.name}: no Secret ${v.secret.secretName}`);
  }
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    const at = `${id(w)} container ${c.name}`;
    if (!isPinnedImage(c.image)) p(at, `image '${c.image}' is not pinned to a version`);
    for (const kind of ['requests', 'limits']) for (const r of ['cpu', 'memory']) if (!c.resources?.[kind]?.[r]) p(at, `resources.${kind}.${r} is missing`);
    const sc = c.securityContext ?? {};
    if (sc.allowPrivilegeEscalation !== false) p(at, 'securityContext.allowPrivilegeEscalation is not false');
    if (sc.readOnlyRootFilesystem !== true) p(at, 'securityContext.readOnlyRootFilesystem is not true');
    const ports = new Set((c.ports ?? []).flatMap((port) => [port.name, port.containerPort]));
    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
      if (!c[probe]) {
        if (probe !== 'startupProbe' && !(spec.initContainers ?? []).includes(c)) p(at, `${probe} is missing`);
        continue;
      }
      const port = c[probe].httpGet?.port ?? c[probe].tcpSocket?.port;
      if (port !== undefined && !ports.has(port)) p(at, `${probe} uses port ${port}, which the container does not declare`);
    }
    for (const m of c.volumeMounts ?? []) if (!volumes.has(m.name)) p(at, `volumeMount ${m.mountPath}: no volume ${m.name}`);
    for (const e of c.envFrom ?? []) {
      if (e.configMapRef && !configMaps.has(e.configMapRef.name)) p(at, `envFrom: no ConfigMap ${e.configMapRef.name}`);
      if (e.secretRef && !secrets.has(e.secretRef.name)) p(at, `envFrom: no Secret ${e.secretRef.name}`);
    }
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
      if (!ref) continue;
      const pool = e.valueFrom.secretKeyRef ? byKind('Secret') : byKind('ConfigMap');
      const target = pool.find((r) => r.metadata?.name === ref.name);
      if (!target) p(at, `env ${e.name}: no ${e.valueFrom.secretKeyRef ? 'Secret' : 'ConfigMap'} ${ref.name}`);
      else if (!(ref.key in { ...(target.data ?? {}), ...(target.stringData ?? {}) })) p(at, `env ${e.name}: ${ref.name} has no key ${ref.key}`);
    }
  }
}

for (const svc of byKind('Service')) {
  const targets = selected({ matchLabels: svc.spec?.selector ?? {} });
  if (targets.length === 0) {
    p(id(svc), 'selector matches no workload');
    continue;
  }
  for (const port of svc.spec?.ports ?? []) {
    if (typeof port.targetPort !== 'string') continue;
    const declared = targets.some((w) => (w.spec.template.spec.containers ?? []).some((c) => (c.ports ?? []).some((cp) => cp.name === port.targetPort)));
    if (!declared) p(id(svc), `targetPort ${port.targetPort} is not a container port of the workloads it selects`);
  }
}
for (const pdb of byKind('PodDisruptionBudget')) if (selected(pdb.spec?.selector).length === 0) p(id(pdb), 'selector matches no workload');
for (const np of byKind('NetworkPolicy')) {
  const sel = np.spec?.podSelector ?? {};
  const empty = Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0;
  if (!empty && selected(sel).length === 0) p(id(np), 'podSelector matches no workload');
}
for (const hpa of byKind('HorizontalPodAutoscaler')) {
  const ref = hpa.spec?.scaleTargetRef ?? {};
  if (!resources.some((r) => r.kind === ref.kind && r.metadata?.name === ref.name)) p(id(hpa), `scaleTargetRef ${ref.kind}/${ref.name} does not exist`);
}
report.finish();
