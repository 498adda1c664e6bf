"""KiA ch. 18: Extending Kubernetes — the Website custom resource, its CRD, and the
website-controller that watches Websites and creates a Deployment and a Service for each
(through a kubectl-proxy ambassador)."""
from kubegen import ApiServer, Cluster, Container, Deployment, Manifest, Rule, Stack, register_crd

CLUSTER = Cluster("book", api_server=ApiServer(addresses=["172.18.0.2/32"], port=6443))

WEBSITE_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "websites.extensions.example.com"},
    "spec": {
        "group": "extensions.example.com",
        "scope": "Namespaced",
        "names": {"kind": "Website", "singular": "website", "plural": "websites"},
        "versions": [{
            "name": "v1", "served": True, "storage": True,
            "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                "spec": {"type": "object", "required": ["gitRepo"],
                         "properties": {"gitRepo": {"type": "string"}}}}}},
        }],
    },
}


def build() -> Stack:
    stack = Stack("website", namespace="website", cluster=CLUSTER)
    register_crd(WEBSITE_CRD)
    stack.add(Manifest(WEBSITE_CRD))
    stack.add(Manifest({
        "apiVersion": "extensions.example.com/v1", "kind": "Website",
        "metadata": {"name": "kubia"},
        "spec": {"gitRepo": "https://github.com/luksa/kubia-website-example.git"},
    }))
    controller = stack.add(Deployment(
        "website-controller",
        containers=[
            Container(name="main", image="luksa/website-controller@sha256:" + "3c" * 32),
            Container(name="proxy", image="luksa/kubectl-proxy:1.6.2"),
        ],
    ))
    # watches Websites, creates and deletes a Deployment and a Service per Website
    controller.grant(
        Rule(api_groups=["extensions.example.com"], resources=["websites"],
             verbs=["get", "list", "watch"]),
        Rule(api_groups=["apps"], resources=["deployments"], verbs=["create", "delete"]),
        Rule(resources=["services"], verbs=["create", "delete"]),
    )
    return stack
