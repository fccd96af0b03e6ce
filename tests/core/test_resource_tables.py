"""kubectl's cells and layout for services, endpoints, ingresses, claims, volumes and network policies: the rules of
the API server's printers that the simulated cluster does not exercise, on real objects and small variations."""

from __future__ import annotations

import copy
from typing import Any

from nimify_tui.kube.duration import parse_timestamp
from nimify_tui.kube.records import (
    EndpointsRecord,
    IngressRecord,
    NetworkPolicyRecord,
    PVCRecord,
    ServiceRecord,
)
from nimify_tui.render import resources

from ..conftest import real_k8s_object

NOW = parse_timestamp("2019-09-09T00:00:00Z") or 0.0


def test_layout_pads_like_kubectls_tabwriter() -> None:
    text = resources.layout(("NAME", "OK", "LAST"), [("a", "", "last cell unpadded"), ("bb", "1d", "")])
    assert text.splitlines() == [
        "NAME   OK    LAST",  # the widest cell and 3 spaces, 6 at least
        "a            last cell unpadded",
        "bb     1d    ",
    ]


def test_endpoints_column_pairs_each_ready_address_with_each_port() -> None:
    real = real_k8s_object("10_endpoints__k9s_ep.json")
    assert EndpointsRecord.from_raw(real).ready_text == "10.0.0.67:8080"
    many = {
        "metadata": {"name": "many"},
        "subsets": [
            {
                "addresses": [{"ip": "10.0.0.1"}, {"ip": "fd00::2"}],
                "notReadyAddresses": [{"ip": "10.0.0.9"}],
                "ports": [{"port": 80}, {"port": 443}],
            },
            {"addresses": [{"ip": "10.0.0.3"}]},  # a headless service's subset: no ports
        ],
    }
    assert EndpointsRecord.from_raw(many).ready_text == "10.0.0.1:80,[fd00::2]:80,10.0.0.1:443 + 2 more..."
    not_ready = {
        "metadata": {"name": "x"},
        "subsets": [{"notReadyAddresses": [{"ip": "10.0.0.9"}], "ports": [{"port": 1}]}],
    }
    assert EndpointsRecord.from_raw(not_ready).ready_text == "<none>"
    three = {"metadata": {"name": "x"}, "subsets": [{"addresses": [{"ip": f"10.0.0.{i}"} for i in range(3)]}]}
    assert EndpointsRecord.from_raw(three).ready_text == "10.0.0.0,10.0.0.1,10.0.0.2", "exactly three: no more"


def test_ingress_cells_of_a_real_ingress_and_of_many_hosts() -> None:
    real = IngressRecord.from_raw(real_k8s_object("10_ingress__k9s_ing.json"))
    assert resources.ingress_cells(real, NOW) == ("test-ingress", "<none>", "*", "", "80", "9d")
    raw = copy.deepcopy(real_k8s_object("10_ingress__k9s_ing.json"))
    raw["spec"]["ingressClassName"] = "nginx"
    raw["spec"]["tls"] = [{"hosts": ["a.example"], "secretName": "tls"}]
    raw["spec"]["rules"] = [{"host": "a.example"}, {}, {"host": "a.example"}, {"host": "b.example"}, {"host": "c"}]
    raw["status"]["loadBalancer"]["ingress"] = [
        {"hostname": "k8s-ingress-nginx-1234.elb.amazonaws.com"},
        {"ip": "10.0.0.9"},
        {"ip": "10.0.0.9"},
    ]
    name, cls, hosts, address, ports, _ = resources.ingress_cells(IngressRecord.from_raw(raw), NOW)
    assert (cls, ports) == ("nginx", "80, 443")
    assert hosts == "a.example,a.example + 2 more...", "three rules shown (one has no host), the rest counted"
    assert address == "10.0.0.9,k8s-...", "sorted, once each, cut at 16 characters"
    assert name == "test-ingress"


def _service(spec: dict[str, Any], status: dict[str, Any] | None = None) -> ServiceRecord:
    return ServiceRecord.from_raw({"metadata": {"name": "s", "namespace": "n"}, "spec": spec, "status": status or {}})


def test_service_external_ip_by_type() -> None:
    assert resources.external_ip_text(_service({"type": "ClusterIP", "clusterIP": "10.0.0.1"})) == "<none>"
    assert resources.external_ip_text(_service({"type": "NodePort", "externalIPs": ["1.2.3.4"]})) == "1.2.3.4"
    assert resources.external_ip_text(_service({"type": "LoadBalancer"})) == "<pending>"
    balanced = {"loadBalancer": {"ingress": [{"ip": "9.9.9.9"}, {"hostname": "lb.example"}, {"ip": "9.9.9.9"}]}}
    assert resources.external_ip_text(_service({"type": "LoadBalancer"}, balanced)) == "9.9.9.9,lb.example"
    both = _service({"type": "LoadBalancer", "externalIPs": ["1.2.3.4"]}, balanced)
    assert resources.external_ip_text(both) == "9.9.9.9,lb.example,1.2.3.4"
    assert resources.external_ip_text(_service({"type": "ExternalName", "externalName": "db.example"})) == "db.example"
    headless = _service(
        {"clusterIP": "None", "ports": [{"port": 53, "protocol": "UDP"}, {"port": 80, "nodePort": 30080}]}
    )
    assert resources.service_cells(headless, NOW)[1:5] == ("ClusterIP", "None", "<none>", "53/UDP,80:30080/TCP")
    assert resources.service_cells(headless, NOW)[6] == "<none>", "no selector"


def test_pvc_cells_of_a_real_claim_unbound_and_terminating() -> None:
    raw = real_k8s_object("09_pvc_bound__k9s_pvc.json")
    bound = resources.pvc_cells(PVCRecord.from_raw(raw), NOW)
    assert bound == (
        "www-nginx-sts-0", "Bound", "pvc-fbabd470-8725-11e9-a8e8-42010a80015b", "1Gi", "RWO", "standard", "<unset>",
        "95d",
    )  # fmt: skip
    unbound = copy.deepcopy(raw)
    del unbound["spec"]["volumeName"]
    unbound["status"] = {"phase": "Pending"}
    assert resources.pvc_cells(PVCRecord.from_raw(unbound), NOW)[1:5] == ("Pending", "", "", ""), "no volume: no size"
    leaving = copy.deepcopy(raw)
    leaving["metadata"]["deletionTimestamp"] = "2019-09-08T00:00:00Z"
    leaving["status"]["accessModes"] = ["ReadWriteOncePod", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOnce"]
    leaving["status"]["capacity"]["storage"] = "1536Mi"
    cells = resources.pvc_cells(PVCRecord.from_raw(leaving), NOW)
    assert (cells[1], cells[3], cells[4]) == ("Terminating", "1536Mi", "RWO,RWX,RWOP")


def test_pv_cells_follow_the_printer() -> None:
    volume = {
        "metadata": {
            "name": "pv-1",
            "creationTimestamp": "2019-09-08T23:00:00Z",
            "annotations": {"volume.beta.kubernetes.io/storage-class": "old-class"},
        },
        "spec": {
            "capacity": {"storage": "1024Mi"},
            "accessModes": ["ReadOnlyMany", "ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "claimRef": {"namespace": "ns", "name": "claim"},
            "storageClassName": "new-class",
            "nfs": {"server": "nfs.example", "path": "/export"},
        },
        "status": {"phase": "Released", "reason": "Why"},
    }
    assert resources.pv_cells(volume, NOW) == (
        "pv-1", "1Gi", "RWO,ROX", "Retain", "Released", "ns/claim", "old-class", "<unset>", "Why", "60m",
    )  # fmt: skip
    assert resources.pvs_table([], NOW) == "No resources found"
    assert "nfs server=nfs.example path=/export" in resources.describe_pvs([volume], NOW)


def test_network_policy_selector_and_empty_listings() -> None:
    def policy(selector: dict[str, Any]) -> NetworkPolicyRecord:
        return NetworkPolicyRecord.from_raw(
            {"metadata": {"name": "p", "namespace": "n"}, "spec": {"podSelector": selector}}
        )

    assert resources.network_policy_cells(policy({}), NOW)[1] == "<none>"
    selector = {"matchLabels": {"tier": "api", "app": "x"}, "matchExpressions": [{"key": "b", "operator": "Exists"}]}
    assert resources.network_policy_cells(policy(selector), NOW)[1] == "app=x,b,tier=api"
    assert resources.network_policies_table([policy({})], NOW, "other") == "No resources found in other namespace."
    assert resources.network_policies_table([policy({})], NOW, None).splitlines() == [
        "NAMESPACE   NAME   POD-SELECTOR   AGE",
        "n           p      <none>         <unknown>",
    ]
