"""KiA ch. 7: ConfigMaps and Secrets — fortune with its interval from a ConfigMap, nginx's
config from a ConfigMap file and its TLS key from a Secret."""
from pathlib import Path

from kubegen import (
    ConfigFiles,
    ConfigMap,
    ConfigMapKey,
    Container,
    Deployment,
    EmptyDir,
    HttpProbe,
    Mount,
    Port,
    SecretFiles,
    SecretRef,
    Stack,
)

HERE = Path(__file__).parent


def build() -> Stack:
    stack = Stack("fortune", namespace="fortune")
    config = ConfigMap("fortune-config", data={"sleep-interval": "25"},
                       files=[HERE / "config_files" / "my-nginx-config.conf"])
    html = EmptyDir(name="html")
    fortune = stack.add(Deployment(
        "fortune-https",
        containers=[
            Container(name="html-generator", image="luksa/fortune:env",
                      env={"INTERVAL": ConfigMapKey(config, "sleep-interval")},
                      mounts={"/var/htdocs": html}),
            Container(name="web-server", image="nginxinc/nginx-unprivileged:1.27.2-alpine",
                      ports=[Port(8080, name="http"), Port(8443, name="https")],
                      mounts={
                          "/usr/share/nginx/html": Mount(html, read_only=True),
                          "/etc/nginx/conf.d": ConfigFiles(
                              config, items={"my-nginx-config.conf": "https.conf"}),
                          "/etc/nginx/certs": SecretFiles(SecretRef("fortune-https")),
                      },
                      writable=["/tmp"],
                      readiness=HttpProbe("/"), liveness=HttpProbe("/")),
        ],
        run_as_user=101, run_as_group=101, fs_group=101,
    ))
    fortune.expose()
    return stack
