"""KiA ch. 17: Best practices — an init container that waits for the fortune Service, a
post-start and a pre-stop hook, and a grace period for shutting down."""
from kubegen import Container, Deployment, EmptyDir, Hook, HttpProbe, Mount, Port, Stack


def build() -> Stack:
    stack = Stack("fortune", namespace="fortune")
    html = EmptyDir(name="html")
    fortune = stack.add(Deployment(
        "fortune",
        containers=[
            Container(name="html-generator", image="luksa/fortune:args", args=["2"],
                      mounts={"/var/htdocs": html}),
            Container(name="web-server", image="nginxinc/nginx-unprivileged:1.27.2-alpine",
                      ports=[Port(8080, name="http")],
                      mounts={"/usr/share/nginx/html": Mount(html, read_only=True)},
                      writable=["/tmp"],
                      readiness=HttpProbe("/"), liveness=HttpProbe("/"),
                      pre_stop=Hook(sleep="5s")),
        ],
        run_as_user=101, run_as_group=101, fs_group=101, termination_grace="30s",
    ))
    fortune.expose()
    client = stack.add(Deployment(
        "fortune-client",
        init_containers=[Container(
            name="init", image="busybox:1.36.1",
            command=["sh", "-c", "while true; do echo 'Waiting for fortune service to come "
                     "up...'; wget http://fortune:8080 -q -T 1 -O /dev/null >/dev/null "
                     "2>/dev/null && break; sleep 1; done; echo 'Service is up! Starting "
                     "main container.'"])],
        container=Container(
            image="busybox:1.36.1",
            command=["sh", "-c", "while true; do wget -q -O - http://fortune:8080; sleep 5; done"],
            post_start=Hook(command=["sh", "-c", "echo 'hook will fail with exit code 15'; "
                                                 "sleep 5; exit 15"]),
            pre_stop=Hook(command=["sh", "-c", "echo bye"]),
        ),
        termination_grace="10s",
    ))
    client.connect_to(fortune, port="http")
    return stack
