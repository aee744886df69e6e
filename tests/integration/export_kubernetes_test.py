#!/usr/bin/python3
"""amfctl export kubernetes, checked with the official Kubernetes Python client's models.

Usage: export_kubernetes_test.py AMFCTL. Writes a configuration with three SGs (2N with a TCP
probe, arguments and environment; N-way-active with an HTTP probe for a component
instantiated when probed, and ranked SIs; no-redundancy), exports it, and checks every
manifest: each document deserializes into its model class (a required field missing is
refused by the client), no key is dropped on the way (a misspelt field would be), and the
values are the ones the configuration implies. Then a broken configuration: exit 1 and the
error with its position. Exit 0 when all holds.
"""
import subprocess
import sys
import tempfile

import yaml
from kubernetes import client

CONFIG = """
cluster: {name: export}
nodes:
  - {name: n1, controller: true}
  - {name: n2}
  - {name: n3}
applications:
  - name: shop
    service_groups:
      - name: db
        redundancy: 2n
        su_template:
          nodes: [n1, n2]
          components:
            - name: server
              command: /usr/bin/db-server
              args: [--port, "7000"]
              env: {DB_MODE: replica}
              cs_types: [db]
              health_check: {key: db, period_ms: 2000, max_duration_ms: 500}
              probe: {tcp_port: 7000, period_ms: 2000, timeout_ms: 500, failure_threshold: 2}
              timeouts: {terminate_ms: 12000}
        service_instances:
          - name: si-1
            csis: [{name: main, cs_type: db}]
      - name: web
        redundancy: n-way-active
        su_template:
          nodes: [n1, n2, n3]
          components:
            - name: front
              command: web-front
              cs_types: [web]
              instantiated_when: probed
              probe: {http_port: 8080, http_path: /ready, period_ms: 1000, startup_period_ms: 500}
              timeouts: {instantiate_ms: 10000}
        service_instances:
          - {name: si-1, rank: 1, preferred_active_assignments: 3, csis: [{name: http, cs_type: web}]}
          - {name: si-2, rank: 2, preferred_active_assignments: 3, csis: [{name: http, cs_type: web}]}
      - name: batch
        redundancy: no-redundancy
        su_template:
          nodes: [n3]
          components:
            - {name: worker, command: batch-worker, cs_types: [job]}
        service_instances:
          - name: si-1
            csis: [{name: job, cs_type: job}]
"""

KINDS = {
    ("apps/v1", "Deployment"): "V1Deployment",
    ("apps/v1", "StatefulSet"): "V1StatefulSet",
    ("policy/v1", "PodDisruptionBudget"): "V1PodDisruptionBudget",
    ("v1", "Service"): "V1Service",
}

failures = []


def check(condition, what):
    if not condition:
        failures.append(what)


def main(amfctl):
    api = client.ApiClient()
    with tempfile.TemporaryDirectory() as tmp:
        path = tmp + "/cluster.yaml"
        with open(path, "w") as f:
            f.write(CONFIG)
        run = subprocess.run([amfctl, "export", "kubernetes", path], capture_output=True,
                             text=True, timeout=30)
        check(run.returncode == 0, "export exited with %d: %s" % (run.returncode, run.stderr))
        docs = [d for d in yaml.safe_load_all(run.stdout)]
        check(all(d is not None for d in docs), "an empty document in the output")
        by_name = {}
        for doc in docs:
            kind = KINDS.get((doc.get("apiVersion"), doc.get("kind")))
            check(kind is not None, "unknown kind %r" % doc.get("kind"))
            if kind is None:
                continue
            try:
                model = api._ApiClient__deserialize(doc, kind)
            except (ValueError, TypeError) as e:
                check(False, "%s %s refused: %s" % (kind, doc["metadata"]["name"], e))
                continue
            again = api.sanitize_for_serialization(model)
            check(again == doc, "%s %s lost or changed fields on the way through the model:\n%s\n%s"
                  % (kind, doc["metadata"]["name"], doc, again))
            by_name[(doc["kind"], doc["metadata"]["name"])] = model

        db = by_name.get(("StatefulSet", "shop-db"))
        check(db is not None, "no StatefulSet shop-db (2N keeps state)")
        if db:
            check(db.spec.replicas == 1, "2N: one replica serves")
            pod = db.spec.template.spec
            c = pod.containers[0]
            check(c.command == ["/usr/bin/db-server"] and c.args == ["--port", "7000"], "command")
            check([(e.name, e.value) for e in c.env] == [("DB_MODE", "replica")], "env")
            check(c.liveness_probe.tcp_socket.port == 7000, "liveness probe port")
            check(c.liveness_probe.period_seconds == 2 and c.liveness_probe.timeout_seconds == 1
                  and c.liveness_probe.failure_threshold == 2, "liveness probe timing")
            check(c.readiness_probe.tcp_socket.port == 7000, "readiness probe")
            check(pod.termination_grace_period_seconds == 12, "grace period from terminate_ms")
            terms = pod.affinity.node_affinity.required_during_scheduling_ignored_during_execution
            check(terms.node_selector_terms[0].match_expressions[0].values == ["n1", "n2"],
                  "node affinity")
        web = by_name.get(("Deployment", "shop-web"))
        check(web is not None, "no Deployment shop-web (N-way-active keeps no standby)")
        if web:
            check(web.spec.replicas == 3, "N-way-active: every SU serves")
            c = web.spec.template.spec.containers[0]
            check(c.liveness_probe.http_get.path == "/ready" and
                  c.liveness_probe.http_get.port == 8080, "HTTP probe")
            # amf gives it instantiate_ms (10 s) to succeed; Kubernetes counts whole seconds.
            check(c.startup_probe is not None and
                  c.startup_probe.failure_threshold * c.startup_probe.period_seconds == 10,
                  "a startup probe with amf's 10 s for a component instantiated when probed")
        check(("Deployment", "shop-batch") in by_name, "no Deployment shop-batch")
        headless = by_name.get(("Service", "shop-db"))
        check(headless is not None and headless.spec.cluster_ip == "None",
              "the StatefulSet's headless Service")
        check(("Service", "shop-web") not in by_name, "a Service for a Deployment")
        for (kind, name), model in by_name.items():
            check(len(name) <= 52 and name == name.lower() and not name.endswith("-"),
                  "%s name %r is no DNS-1123 label short enough" % (kind, name))
            if kind in ("Deployment", "StatefulSet"):
                for c in model.spec.template.spec.containers:
                    check(c.image == c.image.lower(), "image %r has upper case" % c.image)
        pdb = by_name.get(("PodDisruptionBudget", "shop-web"))
        check(pdb is not None and pdb.spec.min_available == 3, "PodDisruptionBudget of shop-web")
        text = run.stdout
        check("Not expressible: the standby" in text, "no comment on the standby")
        check("Not expressible: SI ranks" in text, "no comment on SI ranks")
        check("health check 'db'" in text, "no comment on the health check")
        check("is SA-aware" in text, "no comment on an SA-aware component")

        with open(path, "w") as f:
            f.write("cluster: {name: broken}\nnodes: []\napplications: 3\n")
        bad = subprocess.run([amfctl, "export", "kubernetes", path], capture_output=True,
                             text=True, timeout=30)
        check(bad.returncode == 1, "a broken configuration exited with %d" % bad.returncode)
        check(path + ":" in bad.stderr, "the error names the file: %r" % bad.stderr)
        check(bad.stdout == "", "nothing printed for a broken configuration")

    for f in failures:
        print("FAILED:", f)
    print("%d problems" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
