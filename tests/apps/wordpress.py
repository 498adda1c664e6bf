"""WordPress and MySQL with persistent volumes, the Kubernetes documentation's tutorial.

Upstream: kubernetes/website, content/en/examples/application/wordpress/ (CC BY 4.0; the two
manifests in tests/data/apps/, their commits and the image facts in tests/data/README.md).
A MySQL Deployment on its own claim, WordPress on another, the database password in the Secret
``mysql-pass`` that the tutorial creates beside them, WordPress behind a LoadBalancer. Written
from README.md and docs/*.md only.

What a restricted namespace changes: both images run as their own non-root user (mysql 999,
www-data 33) instead of starting as root; Apache binds port 80 through the safe sysctl
``net.ipv4.ip_unprivileged_port_start`` (a non-root Apache cannot use NET_BIND_SERVICE); the
password reaches both as a mounted file (``*_FILE``, which both images read) rather than an
env var; the tutorial's wordpress:4.8-apache, whose entrypoint needs root, is the current
release, which then needs its database user named (``WORDPRESS_DB_USER``).
"""
from kubegen import (
    Claim,
    Deployment,
    HttpProbe,
    Manifest,
    Port,
    Resources,
    SecretFiles,
    SecretRef,
    Service,
    ServicePort,
    Stack,
    TcpProbe,
)

# created outside git, as the tutorial's kustomization does:
#   kubectl -n wordpress create secret generic mysql-pass --from-literal=password=...
PASSWORD = SecretRef("mysql-pass")
PASSWORD_FILE = "/run/secrets/mysql-pass/password"


def _claim(name: str) -> Manifest:
    return Manifest({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": "wordpress",
                     "labels": {"app.kubernetes.io/name": "wordpress"}},
        "spec": {"accessModes": ["ReadWriteOnce"],
                 "resources": {"requests": {"storage": "20Gi"}}},
    })


def build() -> Stack:
    stack = Stack("wordpress", namespace="wordpress")
    stack.add(_claim("mysql-pv-claim"))
    stack.add(_claim("wp-pv-claim"))
    mysql = stack.add(Deployment(
        "wordpress-mysql", image="mysql:8.0", port=Port(3306, name="mysql"), component="mysql",
        strategy="Recreate",  # one pod on a ReadWriteOnce claim: the old one stops first
        env={"MYSQL_ROOT_PASSWORD_FILE": PASSWORD_FILE, "MYSQL_DATABASE": "wordpress",
             "MYSQL_USER": "wordpress", "MYSQL_PASSWORD_FILE": PASSWORD_FILE},
        mounts={"/var/lib/mysql": Claim("mysql-pv-claim"),
                "/run/secrets/mysql-pass": SecretFiles(PASSWORD)},
        writable=["/var/run/mysqld", "/tmp"],  # socket and lock files; the init's temp files
        readiness=TcpProbe(), liveness=TcpProbe(),
        resources=Resources(cpu="500m", memory="1Gi"),
        run_as_user=999, run_as_group=999, fs_group=999))
    mysql.expose()

    wordpress = stack.add(Deployment(
        "wordpress", image="wordpress:7.1.0-php8.3-apache", port=Port(80, name="http"),
        component="frontend", strategy="Recreate",
        env={"WORDPRESS_DB_HOST": "wordpress-mysql", "WORDPRESS_DB_USER": "wordpress",
             "WORDPRESS_DB_PASSWORD_FILE": PASSWORD_FILE},
        mounts={"/var/www/html": Claim("wp-pv-claim"),
                "/run/secrets/mysql-pass": SecretFiles(PASSWORD)},
        # Apache's pid and lock folders; PHP's sessions and uploads
        writable=["/var/run/apache2", "/var/lock/apache2", "/tmp"],
        sysctls={"net.ipv4.ip_unprivileged_port_start": 0},
        readiness=HttpProbe("/wp-login.php"), liveness=TcpProbe(),
        resources=Resources(cpu="250m", memory="256Mi", memory_limit="512Mi"),
        run_as_user=33, run_as_group=33, fs_group=33))
    stack.add(Service("wordpress", target=wordpress, type="LoadBalancer",
                      ports=[ServicePort("http", port=80)],
                      allow_external="the blog's public entry point, as the tutorial"))
    wordpress.allow_from(cidr="0.0.0.0/0", port="http",
                         reason="readers reach the blog through the cloud load balancer")
    wordpress.allow_to_internet(port=443, reason="updates, plugins and themes from wordpress.org")
    wordpress.connect_to(mysql, port="mysql")
    return stack
