// The synthetic benchmark stack of bench/run.py written for cdk8s + cdk8s-plus (issue 20).
//
// Per service: a ConfigMap, a ServiceAccount, a hardened Deployment (2 replicas, port, probes,
// resources, the ConfigMap mounted read-only), a Service, a PodDisruptionBudget, and a
// connection to the next service (egress policy on one end, ingress on the other); per stack:
// the Namespace, default-deny and DNS policies. One YAML file per object (FILE_PER_RESOURCE).
//
// Usage: node main.js N OUTDIR   (run by bench/compare.py with bench/.work/peers/node on
// NODE_PATH; bench/peers/setup.sh installs the pinned packages there).
const { App, Chart, ApiObject, YamlOutputType, Duration, Size } = require("cdk8s");
const kplus = require("cdk8s-plus-32");
const crypto = require("crypto");

const [n, outdir] = [Number(process.argv[2]), process.argv[3]];
const IMAGE = "ghcr.io/acme/service:1.4.2@sha256:" + "0123456789abcdef".repeat(4);
const app = new App({ outdir, yamlOutputType: YamlOutputType.FILE_PER_RESOURCE });
const chart = new Chart(app, "bench", { namespace: "bench", disableResourceNameHashes: true });

new kplus.Namespace(chart, "ns", {
  metadata: { name: "bench", labels: Object.fromEntries(["enforce", "audit", "warn"].map(
    (mode) => [`pod-security.kubernetes.io/${mode}`, "restricted"])) },
});
new kplus.NetworkPolicy(chart, "default-deny", {
  metadata: { name: "default-deny" },
  selector: kplus.Pods.all(chart, "all"),
  ingress: { default: kplus.NetworkPolicyTrafficDefault.DENY },
  egress: { default: kplus.NetworkPolicyTrafficDefault.DENY },
});
const dns = new kplus.NetworkPolicy(chart, "allow-dns", {
  metadata: { name: "allow-dns" },
  selector: kplus.Pods.all(chart, "all-dns"),
});
dns.addEgressRule(
  kplus.Pods.select(chart, "kube-dns", {
    labels: { "k8s-app": "kube-dns" },
    namespaces: kplus.Namespaces.select(chart, "kube-system", { names: ["kube-system"] }),
  }),
  [kplus.NetworkPolicyPort.udp(53), kplus.NetworkPolicyPort.tcp(53)],
);

const deployments = [];
for (let i = 0; i < n; i++) {
  const name = `svc-${String(i).padStart(4, "0")}`;
  const labels = { "app.kubernetes.io/name": name, "app.kubernetes.io/instance": "bench" };
  const data = { LOG_LEVEL: "info", SERVICE: name };
  const config = new kplus.ConfigMap(chart, `${name}-config`, {
    metadata: { name: `${name}-config` }, data,
  });
  const account = new kplus.ServiceAccount(chart, `${name}-sa`, {
    metadata: { name, labels }, automountToken: false,
  });
  const checksum = crypto.createHash("sha256").update(JSON.stringify(data)).digest("hex");
  const deployment = new kplus.Deployment(chart, name, {
    metadata: { name, labels },
    replicas: 2,
    serviceAccount: account,
    automountServiceAccountToken: false,
    podMetadata: { labels, annotations: { [`configmap.checksum.kubegen.dev/${name}-config`]: checksum } },
    select: false,
    strategy: kplus.DeploymentStrategy.rollingUpdate({
      maxSurge: kplus.PercentOrAbsolute.percent(25), maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
    }),
    minReady: Duration.seconds(10),
    securityContext: { ensureNonRoot: true, user: 10001, group: 10001, fsGroup: 10001 },
    containers: [{
      name,
      image: IMAGE,
      ports: [{ number: 8080, name: "http" }],
      resources: {
        cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.millis(100) },
        memory: { request: Size.mebibytes(128), limit: Size.mebibytes(128) },
      },
      readiness: kplus.Probe.fromHttpGet("/ready", { port: 8080 }),
      liveness: kplus.Probe.fromHttpGet("/healthz", { port: 8080 }),
      securityContext: {
        readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, privileged: false,
        capabilities: { drop: [kplus.Capability.ALL] },
        seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
      },
      volumeMounts: [{
        path: "/etc/service",
        volume: kplus.Volume.fromConfigMap(chart, `${name}-vol`, config, { name: `config-${name}-config` }),
        readOnly: true,
      }],
    }],
  });
  deployment.select(kplus.LabelSelector.of({ labels }));
  deployment.exposeViaService({ name, ports: [{ port: 8080, targetPort: 8080, name: "http" }] });
  new ApiObject(chart, `${name}-pdb`, {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name, labels },
    spec: { maxUnavailable: 1, selector: { matchLabels: labels } },
  });
  deployments.push(deployment);
}
if (deployments.length > 1) {
  deployments.forEach((deployment, i) => {
    deployment.connections.allowTo(deployments[(i + 1) % deployments.length], {
      ports: [kplus.NetworkPolicyPort.tcp(8080)],
    });
  });
}
app.synth();
