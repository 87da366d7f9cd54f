//! What a rendered k8s/ overlay must say for dmap to work on a cluster, beyond what the
//! Kubernetes and KEDA schemas check: the image tag is the build's version, workers have
//! probes on the port they serve `/healthz` on, a grace period longer than their drain, scrape
//! annotations, the functions file from a ConfigMap and credentials from Secrets; the
//! coordinator Job resumes with a stable Map Run id; workers are scaled on dmap's own
//! JetStream consumers (KEDA) or CPU (HPA); stream replicas match the NATS cluster's size.
//! `dmap serve` (components/serve) has its own checks in tests/k8s/serve.rs, and every flag
//! and variable the containers pass is checked against the binaries in tests/k8s/flags.rs.
//!
//! Every check returns [`Problem`]s (a kind and where), so tests can break a manifest on
//! purpose and assert which problem is reported.

use std::collections::BTreeSet;

use serde_json::Value;
use shared::protocol::nats as names;

use super::container::{arg_value, containers, dmap_image_tag, env_value, listen_port, resolve_port, strings};

pub const WORKER: &str = "dmap-worker";
pub const COORDINATOR_JOB: &str = "dmap-run";
pub const SERVE: &str = "dmap-serve";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A dmap container's image tag differs from the workspace version.
    ImageTag,
    /// A readiness or liveness probe is missing, or not on `/healthz` at the `--listen` port.
    Probe,
    /// terminationGracePeriodSeconds does not exceed the worker's drain by a margin.
    GracePeriod,
    /// Prometheus scrape annotations missing or not matching `--listen` and `/metrics`.
    Scrape,
    /// `--functions` is not a file of a mounted ConfigMap of this render.
    Functions,
    /// NATS or S3 credentials not taken from Secrets.
    Secret,
    /// The coordinator Job lacks `dmap run … --resume ID` with a stable, valid id, or the
    /// definition is not from a ConfigMap, or it cannot be retried.
    Resume,
    /// No ScaledObject or HPA scaling the workers as dmap needs, or both.
    Scaling,
    /// The PodDisruptionBudget does not select the worker pods.
    Disruption,
    /// NATS: no JetStream store on a persistent volume, or stream replicas that do not match
    /// the number of servers.
    Nats,
    /// `dmap serve`'s StatefulSet: not exactly one replica (the SQLite store has one writer),
    /// `--data` not on a ReadWriteOnce volume claim, or no Service to `--listen`'s port.
    Serve,
    /// `dmap serve` off loopback without access keys, or `--open`, or a key's secret not from
    /// a Secret (in the ConfigMap, or an environment variable the pod does not set from one).
    Auth,
    /// A flag or DMAP_* variable a container passes that its binary does not take.
    Flag,
    /// A workload or object the layout needs is missing.
    Missing,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    pub kind: Kind,
    pub what: String,
}

/// A rendered overlay: every object, as JSON.
pub struct Render<'a> {
    pub docs: &'a [Value],
    pub version: &'a str,
}

pub(super) fn problem(out: &mut Vec<Problem>, kind: Kind, what: String) {
    out.push(Problem { kind, what });
}

impl<'a> Render<'a> {
    pub fn find(&self, kind: &str, name: &str) -> Option<&'a Value> {
        self.docs.iter().find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
    }

    pub(super) fn all(&self, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.docs.iter().filter(move |d| d["kind"] == kind)
    }

    /// The ConfigMap whose generated name is `base-<hash>` (or exactly `base`).
    pub(super) fn config_map(&self, name: &str) -> Option<&'a Value> {
        self.all("ConfigMap").find(|d| d["metadata"]["name"] == name)
    }

    pub fn check(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        self.images(&mut out);
        match self.find("Deployment", WORKER) {
            Some(worker) => self.worker(worker, &mut out),
            None => problem(&mut out, Kind::Missing, format!("Deployment/{WORKER}")),
        }
        // Executions come from the coordinator Job, or from `dmap serve`'s API (overlays/serve).
        let serve = self.find("StatefulSet", SERVE);
        match self.find("Job", COORDINATOR_JOB) {
            Some(job) => self.coordinator(job, &mut out),
            None if serve.is_some() => {}
            None => problem(&mut out, Kind::Missing, format!("Job/{COORDINATOR_JOB} or StatefulSet/{SERVE}")),
        }
        if let Some(serve) = serve {
            self.serve(serve, &mut out);
        }
        self.scaling(&mut out);
        self.nats(&mut out);
        out.sort();
        out
    }

    /// Every container of every workload whose image is dmap's (the last path segment of
    /// the repository is `dmap`) must carry the workspace version as its tag.
    fn images(&self, out: &mut Vec<Problem>) {
        for doc in self.docs {
            for c in containers(doc) {
                let image = c["image"].as_str().unwrap_or("");
                if let Some(tag) = dmap_image_tag(image)
                    && tag != self.version
                {
                    let name = &doc["metadata"]["name"];
                    let want = self.version;
                    problem(out, Kind::ImageTag, format!("{name}: image {image}, the build is {want}"));
                }
            }
        }
    }

    fn worker(&self, worker: &Value, out: &mut Vec<Problem>) {
        let pod = &worker["spec"]["template"];
        let Some(c) = pod["spec"]["containers"].get(0) else {
            return problem(out, Kind::Missing, "the worker container".into());
        };
        probes("worker", c, out);
        let drain = arg_value(c, "--drain-seconds")
            .or_else(|| env_value(c, "DMAP_DRAIN_SECONDS"))
            .map(|s| s.parse::<i64>().unwrap_or(i64::MAX))
            .unwrap_or(25);
        let grace = pod["spec"]["terminationGracePeriodSeconds"].as_i64().unwrap_or(30);
        if grace < drain.saturating_add(5) {
            problem(out, Kind::GracePeriod, format!("grace {grace} s for a drain of {drain} s"));
        }
        self.scrape("worker", pod, c, out);
        self.secrets("worker", c, out);
        match arg_value(c, "--functions").or_else(|| env_value(c, "DMAP_FUNCTIONS")) {
            Some(path) if self.mounted_config_map_file(pod, c, &path) => {}
            other => problem(out, Kind::Functions, format!("--functions {other:?} is not from a mounted ConfigMap")),
        }
    }

    pub(super) fn scrape(&self, who: &str, pod: &Value, c: &Value, out: &mut Vec<Problem>) {
        let a = &pod["metadata"]["annotations"];
        let port = listen_port(c).map(|p| p.to_string());
        let ok = a["prometheus.io/scrape"] == "true"
            && a["prometheus.io/path"] == "/metrics"
            && port.is_some()
            && a["prometheus.io/port"].as_str() == port.as_deref();
        if !ok {
            problem(out, Kind::Scrape, format!("{who}: annotations {a}, listen port {port:?}"));
        }
    }

    /// NATS user and password from a Secret (or a creds/NKey file from a Secret volume), and an
    /// `envFrom` Secret for the S3 credentials (`AWS_*`).
    pub(super) fn secrets(&self, who: &str, c: &Value, out: &mut Vec<Problem>) {
        let from_secret = |name: &str| {
            c["env"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|e| e["name"] == name && e["valueFrom"]["secretKeyRef"].is_object())
        };
        let nats = (from_secret("DMAP_NATS_USER") && from_secret("DMAP_NATS_PASSWORD"))
            || from_secret("DMAP_NATS_TOKEN")
            || env_value(c, "DMAP_NATS_CREDS").is_some();
        if !nats {
            problem(out, Kind::Secret, format!("{who}: NATS credentials are not from a Secret"));
        }
        let s3 = c["envFrom"].as_array().into_iter().flatten().any(|e| e["secretRef"]["name"].is_string());
        if !s3 {
            problem(out, Kind::Secret, format!("{who}: no envFrom Secret for S3 credentials"));
        }
    }

    /// True when `path` is `<mountPath>/<key>` of a volume mount whose volume is a ConfigMap of
    /// this render holding `key`.
    pub(super) fn mounted_config_map_file(&self, pod: &Value, c: &Value, path: &str) -> bool {
        self.mounted_config_map_text(pod, c, path).is_some()
    }

    /// The content of `path` when it is a file of a mounted ConfigMap (as above).
    pub(super) fn mounted_config_map_text(&self, pod: &Value, c: &Value, path: &str) -> Option<&'a str> {
        c["volumeMounts"].as_array().into_iter().flatten().find_map(|m| {
            let key =
                m["mountPath"].as_str().and_then(|dir| path.strip_prefix(dir)).map(|k| k.trim_start_matches('/'))?;
            let volume = pod["spec"]["volumes"].as_array().into_iter().flatten().find(|v| v["name"] == m["name"]);
            let cm = volume.and_then(|v| v["configMap"]["name"].as_str()).and_then(|n| self.config_map(n))?;
            cm["data"].get(key).and_then(Value::as_str)
        })
    }

    fn coordinator(&self, job: &Value, out: &mut Vec<Problem>) {
        let pod = &job["spec"]["template"];
        let Some(c) = pod["spec"]["containers"].get(0) else {
            return problem(out, Kind::Missing, "the coordinator container".into());
        };
        let args = strings(&c["args"]);
        if args.first().map(String::as_str) != Some("dmap") || args.get(1).map(String::as_str) != Some("run") {
            problem(out, Kind::Resume, format!("the Job runs {args:?}, not `dmap run`"));
        }
        // `$(VAR)` is expanded by the kubelet from the container's env: it must be a literal
        // there (not a field reference such as the pod name, which changes with every pod).
        let id = arg_value(c, "--resume").map(|v| match v.strip_prefix("$(").and_then(|v| v.strip_suffix(')')) {
            Some(var) => env_value(c, var).unwrap_or_default(),
            None => v,
        });
        if !id.as_deref().is_some_and(names::valid_map_run_id) {
            problem(out, Kind::Resume, format!("--resume {id:?} is not a stable Map Run id"));
        }
        let definition = args.get(2).cloned().unwrap_or_default();
        if !self.mounted_config_map_file(pod, c, &definition) {
            problem(out, Kind::Resume, format!("the definition {definition} is not from a mounted ConfigMap"));
        }
        let retries = job["spec"]["backoffLimit"].as_i64().unwrap_or(6);
        if retries < 1 {
            problem(out, Kind::Resume, format!("backoffLimit {retries}: a lost pod is never replaced"));
        }
        self.scrape("coordinator", pod, c, out);
        self.secrets("coordinator", c, out);
    }

    fn scaling(&self, out: &mut Vec<Problem>) {
        let keda: Vec<&Value> = self.all("ScaledObject").collect();
        let hpa: Vec<&Value> = self.all("HorizontalPodAutoscaler").collect();
        let target_ok = |d: &Value| d["spec"]["scaleTargetRef"]["name"] == WORKER;
        match (keda.as_slice(), hpa.as_slice()) {
            ([so], []) if target_ok(so) => self.keda(so, out),
            ([], [h]) if target_ok(h) => {
                let cpu = h["spec"]["metrics"].as_array().into_iter().flatten().any(|m| m["resource"]["name"] == "cpu");
                let requests = self
                    .find("Deployment", WORKER)
                    .and_then(|w| w["spec"]["template"]["spec"]["containers"].get(0))
                    .is_some_and(|c| c["resources"]["requests"]["cpu"].is_string());
                if !cpu || !requests {
                    problem(out, Kind::Scaling, "the HPA needs a cpu metric and a worker CPU request".into());
                }
            }
            _ => problem(
                out,
                Kind::Scaling,
                format!("{} ScaledObject(s) and {} HPA(s); want one of them, on {WORKER}", keda.len(), hpa.len()),
            ),
        }
        let pod_labels = self.find("Deployment", WORKER).map(|w| &w["spec"]["template"]["metadata"]["labels"]);
        let selected = self.all("PodDisruptionBudget").any(|pdb| {
            let want = pdb["spec"]["selector"]["matchLabels"].as_object();
            want.is_some_and(|want| {
                !want.is_empty() && want.iter().all(|(k, v)| pod_labels.is_some_and(|l| l.get(k) == Some(v)))
            })
        });
        if !selected {
            problem(out, Kind::Disruption, "no PodDisruptionBudget selects the worker pods".into());
        }
    }

    /// The consumers of what the children of the run's definition (a ConfigMap's
    /// `definition.asl.json`) call: the coordinator routes them there, and only there.
    fn capability_consumers(&self) -> BTreeSet<String> {
        use shared::asl::model::{ProcessorMode, StateKind};
        let definitions = self.all("ConfigMap").filter_map(|d| d["data"]["definition.asl.json"].as_str());
        let machines = definitions
            .filter_map(|text| serde_json::from_str::<Value>(text).ok())
            .filter_map(|v| shared::asl::parse::parse_value(&v).ok().map(|(m, _)| m));
        let mut out = BTreeSet::new();
        for m in machines {
            for s in &m.states {
                if let StateKind::Map(map) = &s.kind
                    && matches!(map.mode, ProcessorMode::Distributed(_))
                {
                    let needs = worker::integrations::needs(&map.processor);
                    if !needs.is_empty() {
                        out.insert(names::capability_consumer(&needs.token()));
                    }
                }
            }
        }
        out
    }

    /// dmap's consumers (both shared ones, and those of the run's functions), on its stream, read from a NATS Service that exposes the
    /// monitoring port; only trigger fields KEDA's nats-jetstream scaler knows.
    fn keda(&self, so: &Value, out: &mut Vec<Problem>) {
        const KNOWN: [&str; 7] = [
            "natsServerMonitoringEndpoint",
            "account",
            "stream",
            "consumer",
            "lagThreshold",
            "activationLagThreshold",
            "useHttps",
        ];
        let namespace = so["metadata"]["namespace"].as_str().unwrap_or("default");
        let mut consumers = BTreeSet::new();
        for t in so["spec"]["triggers"].as_array().into_iter().flatten() {
            let m = &t["metadata"];
            let unknown: Vec<&String> =
                m.as_object().into_iter().flatten().map(|(k, _)| k).filter(|k| !KNOWN.contains(&k.as_str())).collect();
            let threshold = m["lagThreshold"].as_str().and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
            if t["type"] != "nats-jetstream"
                || !unknown.is_empty()
                || threshold == 0
                || m["stream"] != names::BATCH_STREAM
            {
                problem(out, Kind::Scaling, format!("trigger {t}: unknown fields {unknown:?} or wrong stream"));
                continue;
            }
            let endpoint = m["natsServerMonitoringEndpoint"].as_str().unwrap_or("");
            let (host, port) = endpoint.rsplit_once(':').unwrap_or((endpoint, ""));
            let service = host.strip_suffix(&format!(".{namespace}.svc.cluster.local")).unwrap_or("");
            let exposed = self.find("Service", service).is_some_and(|s| {
                s["spec"]["ports"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|p| p["port"].as_i64().is_some() && p["port"].as_i64() == port.parse().ok())
            });
            if !exposed {
                problem(
                    out,
                    Kind::Scaling,
                    format!("monitoring endpoint {endpoint} is not a Service port of {namespace}"),
                );
            }
            consumers.insert(m["consumer"].as_str().unwrap_or("").to_string());
        }
        let mut want: BTreeSet<String> = [names::CONSUMER_CPU, names::CONSUMER_IO].map(String::from).into();
        want.extend(self.capability_consumers());
        if consumers != want {
            problem(out, Kind::Scaling, format!("triggers on consumers {consumers:?}, want {want:?}"));
        }
    }

    /// JetStream's store on a PersistentVolumeClaim; DMAP_NATS_REPLICAS on both sides equal to
    /// the number of servers, which a cluster block in the config must route to.
    fn nats(&self, out: &mut Vec<Problem>) {
        let Some(sts) = self.find("StatefulSet", "nats") else {
            return problem(out, Kind::Missing, "StatefulSet/nats".into());
        };
        let servers = sts["spec"]["replicas"].as_i64().unwrap_or(1);
        let pod = &sts["spec"]["template"];
        let config = pod["spec"]["volumes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v["configMap"]["name"].as_str())
            .filter_map(|n| self.config_map(n))
            .find_map(|cm| cm["data"]["nats.conf"].as_str())
            .unwrap_or("");
        let store = config.lines().find_map(|l| l.trim().strip_prefix("store_dir:")).map(str::trim).unwrap_or("");
        let claims: Vec<&str> = sts["spec"]["volumeClaimTemplates"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["metadata"]["name"].as_str())
            .collect();
        let mounts = pod["spec"]["containers"][0]["volumeMounts"].as_array().cloned().unwrap_or_default();
        let persistent = !store.is_empty()
            && mounts.iter().any(|m| {
                claims.contains(&m["name"].as_str().unwrap_or(""))
                    && m["mountPath"].as_str().is_some_and(|p| store.starts_with(p))
            });
        if !persistent {
            problem(out, Kind::Nats, format!("JetStream store_dir {store:?} is not on a PersistentVolumeClaim"));
        }
        if servers > 1 {
            let routes = (0..servers).all(|i| config.contains(&format!("nats-{i}.")));
            if !config.contains("cluster {") || !routes {
                problem(out, Kind::Nats, format!("{servers} servers without a cluster block routing to each"));
            }
        }
        // Every NATS client: the workers, and what starts executions (the Job, dmap serve or both).
        let (job, serve) = (self.find("Job", COORDINATOR_JOB), self.find("StatefulSet", SERVE));
        let mut workloads = vec![("worker", self.find("Deployment", WORKER))];
        if job.is_some() || serve.is_none() {
            workloads.push(("coordinator", job));
        }
        if serve.is_some() {
            workloads.push(("serve", serve));
        }
        for (who, workload) in workloads {
            let c = workload.map(|w| &w["spec"]["template"]["spec"]["containers"][0]);
            let replicas = c.and_then(|c| env_value(c, "DMAP_NATS_REPLICAS")).unwrap_or_else(|| "1".into());
            if replicas != servers.to_string() {
                problem(out, Kind::Nats, format!("{who}: DMAP_NATS_REPLICAS {replicas} with {servers} NATS servers"));
            }
            let url = c.and_then(|c| env_value(c, "DMAP_NATS").or_else(|| arg_value(c, "--nats"))).unwrap_or_default();
            let host = url.split("://").nth(1).and_then(|r| r.split(':').next()).unwrap_or("");
            if self.find("Service", host).is_none() {
                problem(out, Kind::Nats, format!("{who}: NATS URL {url:?} is not a Service of this render"));
            }
        }
    }
}

/// Readiness and liveness probes (and a startup probe, when there is one) on `/healthz` at
/// the `--listen` port.
pub(super) fn probes(who: &str, c: &Value, out: &mut Vec<Problem>) {
    let listen = listen_port(c);
    let startup = c.get("startupProbe").map(|_| "startupProbe");
    for probe in ["readinessProbe", "livenessProbe"].into_iter().chain(startup) {
        let p = &c[probe]["httpGet"];
        let port = p.get("port").and_then(|port| resolve_port(c, port));
        if p["path"] != "/healthz" || listen.is_none() || port != listen {
            problem(out, Kind::Probe, format!("{who} {probe}: {p} (listen port {listen:?})"));
        }
    }
}
