"""KiA ch. 6: Volumes — the fortune pod (html-generator + web-server sharing an emptyDir) and
MongoDB on a PersistentVolumeClaim."""
from kubegen import (
    Claim,
    Container,
    Deployment,
    EmptyDir,
    HttpProbe,
    Manifest,
    Mount,
    Port,
    Resources,
    Stack,
    TcpProbe,
)


def build() -> Stack:
    stack = Stack("fortune", namespace="fortune")
    html = EmptyDir(name="html")
    fortune = stack.add(Deployment(
        "fortune",
        containers=[
            Container(name="html-generator", image="luksa/fortune@sha256:" + "f0" * 32,
                      mounts={"/var/htdocs": html}),
            Container(name="web-server", image="nginxinc/nginx-unprivileged:1.27.2-alpine",
                      ports=[Port(8080, name="http")],
                      mounts={"/usr/share/nginx/html": Mount(html, read_only=True)},
                      writable=["/tmp"],
                      readiness=HttpProbe("/"), liveness=HttpProbe("/")),
        ],
        run_as_user=101, run_as_group=101, fs_group=101,
    ))
    fortune.expose()
    stack.add(Manifest({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "mongodb-pvc"},
        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "fast",
                 "resources": {"requests": {"storage": "1Gi"}}},
    }))
    stack.add(Manifest({
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": "fast"},
        "provisioner": "pd.csi.storage.gke.io",
        "parameters": {"type": "pd-ssd"},
    }))
    stack.add(Deployment(
        "mongodb", image="mongo:7.0.14", strategy="Recreate",
        port=Port(27017, name="mongodb"),
        readiness=TcpProbe(), liveness=TcpProbe(),
        mounts={"/data/db": Claim("mongodb-pvc")},
        writable=["/tmp", "/data/configdb"],
        run_as_user=999, run_as_group=999, fs_group=999,
        resources=Resources(cpu="500m", memory="1Gi"),
    ))
    return stack
