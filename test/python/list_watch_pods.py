"""Lists and watches pods through the official Python client (Debian's python3-kubernetes).

Driven by test/python-client.test.ts:

    list_watch_pods.py KUBECONFIG NAMESPACE WATCH_NAME

It creates a pod, lists pods, prints {"phase": "watching", ...} and then watches from the
list's resourceVersion until it has seen WATCH_NAME deleted (the test creates, patches and
deletes that pod once it reads the "watching" line), or until the server-side timeout.
It finishes with one {"phase": "done", ...} line of everything it saw. Any failure prints
{"phase": "error", ...} and exits 1, so the test reports what went wrong.
"""

import json
import sys
import traceback

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException


def emit(record):
    print(json.dumps(record, sort_keys=True), flush=True)


def pod(name, labels):
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels=labels),
        spec=client.V1PodSpec(
            containers=[client.V1Container(name="c", image="busybox:1.36", command=["sleep", "3600"])]
        ),
    )


def status_of(err):
    """The metav1.Status an ApiException carries, as a dict."""
    try:
        body = json.loads(err.body)
    except (TypeError, ValueError):
        body = None
    return {"code": err.status, "body": body}


def main(kubeconfig, namespace, watch_name):
    config.load_kube_config(config_file=kubeconfig)
    v1 = client.CoreV1Api()
    out = {"phase": "done"}

    created = v1.create_namespaced_pod(namespace, pod("py-created", {"source": "python"}))
    out["created"] = {
        "name": created.metadata.name,
        "uid": created.metadata.uid,
        "phase": created.status.phase,
        "createdIsDatetime": hasattr(created.metadata.creation_timestamp, "isoformat"),
    }

    listed = v1.list_namespaced_pod(namespace, label_selector="source=python")
    out["listed"] = {
        "kind": listed.kind,
        "apiVersion": listed.api_version,
        "names": [p.metadata.name for p in listed.items],
        "resourceVersion": listed.metadata.resource_version,
    }
    everything = v1.list_namespaced_pod(namespace)
    rv = everything.metadata.resource_version

    try:
        v1.read_namespaced_pod("py-missing", namespace)
        out["notFound"] = None
    except ApiException as err:
        out["notFound"] = status_of(err)

    emit({"phase": "watching", "resourceVersion": rv})
    events = []
    w = watch.Watch()
    for ev in w.stream(
        v1.list_namespaced_pod,
        namespace,
        resource_version=rv,
        timeout_seconds=10,
        _request_timeout=15,
    ):
        obj = ev["object"]
        events.append(
            {
                "type": ev["type"],
                "name": obj.metadata.name,
                "resourceVersion": obj.metadata.resource_version,
                "labels": obj.metadata.labels or {},
                "model": type(obj).__name__,
            }
        )
        if ev["type"] == "DELETED" and obj.metadata.name == watch_name:
            w.stop()
    out["events"] = events

    deleted = v1.delete_namespaced_pod("py-created", namespace, grace_period_seconds=0)
    out["deletedName"] = deleted.metadata.name
    remaining = v1.list_namespaced_pod(namespace, label_selector="source=python")
    out["remaining"] = [p.metadata.name for p in remaining.items]
    emit(out)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: list_watch_pods.py KUBECONFIG NAMESPACE WATCH_NAME")
    try:
        main(sys.argv[1], sys.argv[2], sys.argv[3])
    except Exception as exc:  # report every failure as data for the test to show
        emit({"phase": "error", "error": repr(exc), "trace": traceback.format_exc()})
        sys.exit(1)
