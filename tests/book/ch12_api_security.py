"""KiA ch. 12: Securing the API server — ServiceAccounts, Roles, ClusterRoles and bindings."""
from kubegen import (
    ApiServer,
    Cluster,
    ClusterRole,
    ClusterRoleBinding,
    Container,
    Deployment,
    Namespace,
    Role,
    RoleBinding,
    RoleRef,
    Rule,
    ServiceAccount,
    Stack,
)

CLUSTER = Cluster("book", api_server=ApiServer(addresses=["172.18.0.2/32"], port=6443))


def build() -> Stack:
    stack = Stack("rbac", namespace="foo", cluster=CLUSTER)
    stack.add(Namespace("bar"))
    # the pod of the book: curl through a kubectl-proxy ambassador, as ServiceAccount foo
    foo = stack.add(ServiceAccount("foo"))
    curl = stack.add(Deployment(
        "curl-custom-sa", service_account=foo,
        containers=[
            Container(name="main", image="curlimages/curl:8.10.1", command=["sleep", "9999999"]),
            Container(name="ambassador", image="luksa/kubectl-proxy:1.6.2"),
        ],
    ))
    # `curl localhost:8001/api/v1/namespaces/foo/services` (get and list services)
    service_reader = stack.add(Role("service-reader", rules=[
        Rule(resources=["services"], verbs=["get", "list"])]))
    curl.grant(service_reader)
    # the same Role in namespace bar, bound to foo's account from there
    bar_reader = stack.add(Role("service-reader", namespace="bar", rules=[
        Rule(resources=["services"], verbs=["get", "list"])]))
    stack.add(RoleBinding("test", namespace="bar", role=bar_reader, subjects=[foo]))
    # cluster-scoped: read PersistentVolumes
    pv_reader = stack.add(ClusterRole("pv-reader", rules=[
        Rule(resources=["persistentvolumes"], verbs=["get", "list"])]))
    stack.add(ClusterRoleBinding("pv-test", role=pv_reader, subjects=[foo]))
    # the built-in view ClusterRole, bound in foo only
    stack.add(RoleBinding("view-test", role=RoleRef("view", external=True), subjects=[foo]))
    return stack
