"""The shape of each raw object the record decoders read: every field they (and kubectl's rules in ``status.py``)
look at, with its JSON type. A malformed object is cleaned along its shape before it is decoded (see ``shape.py``).
"""

from __future__ import annotations

from nimify_tui.kube.shape import ANY, BOOL, INT, INT_OR_TEXT, TEXT, ListOf, MapOf, Obj, Shape, enum, obj

CONDITION = obj(
    type=TEXT,
    status=enum("True", "False", "Unknown"),
    reason=TEXT,
    message=TEXT,
    lastTransitionTime=TEXT,
    lastProbeTime=TEXT,
    lastHeartbeatTime=TEXT,
)
CONDITIONS = ListOf(CONDITION)

OWNER = obj(kind=TEXT, name=TEXT, uid=TEXT, apiVersion=TEXT, controller=BOOL)
METADATA = obj(
    name=TEXT,
    namespace=TEXT,
    uid=TEXT,
    resourceVersion=TEXT,
    labels=MapOf(TEXT),
    annotations=MapOf(TEXT),
    creationTimestamp=TEXT,
    deletionTimestamp=TEXT,
    generation=INT,
    ownerReferences=ListOf(OWNER),
)

TERMINATED = obj(reason=TEXT, message=TEXT, exitCode=INT, signal=INT, startedAt=TEXT, finishedAt=TEXT, containerID=TEXT)
STATE_DETAIL = obj(reason=TEXT, message=TEXT, startedAt=TEXT)
# a container's state has one key; one no kubelet sends is read like a waiting state, and noted
STATE = obj(STATE_DETAIL, True, running=obj(startedAt=TEXT), waiting=STATE_DETAIL, terminated=TERMINATED)
CONTAINER_STATUS = obj(
    name=TEXT,
    image=TEXT,
    ready=BOOL,
    started=BOOL,
    restartCount=INT,
    state=STATE,
    lastState=STATE,
)
RESOURCES = obj(requests=MapOf(TEXT), limits=MapOf(TEXT))
CONTAINER = obj(
    name=TEXT,
    image=TEXT,
    restartPolicy=TEXT,
    resources=RESOURCES,
    readinessProbe=ANY,
    livenessProbe=ANY,
)
CONTAINERS = ListOf(CONTAINER)

POD = obj(
    metadata=METADATA,
    spec=obj(
        containers=CONTAINERS,
        initContainers=CONTAINERS,
        nodeName=TEXT,
        readinessGates=ListOf(obj(conditionType=TEXT)),
        overhead=MapOf(TEXT),
        volumes=ListOf(obj(name=TEXT, persistentVolumeClaim=obj(claimName=TEXT))),
    ),
    status=obj(
        phase=enum("Pending", "Running", "Succeeded", "Failed", "Unknown"),
        reason=TEXT,
        message=TEXT,
        podIP=TEXT,
        podIPs=ListOf(obj(ip=TEXT)),
        nominatedNodeName=TEXT,
        conditions=CONDITIONS,
        containerStatuses=ListOf(CONTAINER_STATUS),
        initContainerStatuses=ListOf(CONTAINER_STATUS),
    ),
)

_REFERENCE = obj(kind=TEXT, name=TEXT, namespace=TEXT, fieldPath=TEXT, uid=TEXT, apiVersion=TEXT)
_SOURCE = obj(component=TEXT, host=TEXT)
EVENT = obj(
    metadata=METADATA,
    involvedObject=_REFERENCE,
    regarding=_REFERENCE,
    source=_SOURCE,
    deprecatedSource=_SOURCE,
    eventTime=TEXT,
    firstTimestamp=TEXT,
    deprecatedFirstTimestamp=TEXT,
    lastTimestamp=TEXT,
    deprecatedLastTimestamp=TEXT,
    count=INT,
    deprecatedCount=INT,
    series=obj(lastObservedTime=TEXT, count=INT),
    type=enum("Normal", "Warning"),
    reason=TEXT,
    message=TEXT,
    note=TEXT,
    reportingController=TEXT,
    reportingComponent=TEXT,
)

NODE = obj(
    metadata=METADATA,
    spec=obj(unschedulable=BOOL, taints=ListOf(obj(key=TEXT, value=TEXT, effect=TEXT))),
    status=obj(
        capacity=MapOf(TEXT),
        allocatable=MapOf(TEXT),
        addresses=ListOf(obj(type=TEXT, address=TEXT)),
        nodeInfo=obj(kubeletVersion=TEXT),
        conditions=CONDITIONS,
    ),
)

SELECTOR = obj(
    matchLabels=MapOf(TEXT),
    matchExpressions=ListOf(obj(key=TEXT, operator=enum("In", "NotIn", "Exists", "DoesNotExist"), values=ListOf(TEXT))),
)
_TEMPLATE = obj(metadata=METADATA, spec=obj(containers=CONTAINERS))

DEPLOYMENT = obj(
    metadata=METADATA,
    spec=obj(replicas=INT, selector=SELECTOR, paused=BOOL, template=_TEMPLATE),
    status=obj(
        observedGeneration=INT,
        replicas=INT,
        updatedReplicas=INT,
        readyReplicas=INT,
        availableReplicas=INT,
        unavailableReplicas=INT,
        conditions=CONDITIONS,
    ),
)

REPLICASET = obj(
    metadata=METADATA,
    spec=obj(replicas=INT, selector=SELECTOR, template=_TEMPLATE),
    status=obj(replicas=INT, readyReplicas=INT, availableReplicas=INT),
)

PVC = obj(
    metadata=METADATA,
    spec=obj(
        volumeName=TEXT,
        resources=obj(requests=MapOf(TEXT)),
        storageClassName=TEXT,
        volumeAttributesClassName=TEXT,
        volumeMode=TEXT,
    ),
    status=obj(
        phase=TEXT,
        capacity=MapOf(TEXT),
        accessModes=ListOf(TEXT),
        allocatedResourceStatuses=MapOf(TEXT),
        conditions=CONDITIONS,
    ),
)

_LOAD_BALANCER = obj(ingress=ListOf(obj(ip=TEXT, hostname=TEXT)))
SERVICE = obj(
    metadata=METADATA,
    spec=obj(
        type=TEXT,
        clusterIP=TEXT,
        externalIPs=ListOf(TEXT),
        ports=ListOf(obj(port=INT, nodePort=INT, protocol=TEXT, name=TEXT, targetPort=INT_OR_TEXT)),
        selector=MapOf(TEXT),
        externalName=TEXT,
    ),
    status=obj(loadBalancer=_LOAD_BALANCER),
)

_ADDRESS = obj(ip=TEXT, nodeName=TEXT, hostname=TEXT, targetRef=_REFERENCE)
ENDPOINTS = obj(
    metadata=METADATA,
    subsets=ListOf(
        obj(
            addresses=ListOf(_ADDRESS),
            notReadyAddresses=ListOf(_ADDRESS),
            ports=ListOf(obj(port=INT, name=TEXT, protocol=TEXT)),
        )
    ),
)

_BACKEND = obj(
    service=obj(name=TEXT, port=obj(number=INT, name=TEXT)),
    serviceName=TEXT,
    servicePort=INT_OR_TEXT,
)
INGRESS = obj(
    metadata=METADATA,
    spec=obj(
        ingressClassName=TEXT,
        rules=ListOf(obj(host=TEXT, http=obj(paths=ListOf(obj(path=TEXT, pathType=TEXT, backend=_BACKEND))))),
        defaultBackend=_BACKEND,
        backend=_BACKEND,
        tls=ListOf(obj(secretName=TEXT, hosts=ListOf(TEXT))),
    ),
    status=obj(loadBalancer=_LOAD_BALANCER),
)

NETWORK_POLICY = obj(
    metadata=METADATA,
    spec=obj(podSelector=SELECTOR, policyTypes=ListOf(TEXT), ingress=ListOf(ANY), egress=ListOf(ANY)),
)

POD_DISRUPTION_BUDGET = obj(
    metadata=METADATA,
    spec=obj(selector=SELECTOR, minAvailable=INT_OR_TEXT, maxUnavailable=INT_OR_TEXT),
    status=obj(disruptionsAllowed=INT),
)

RESOURCE_QUOTA = obj(
    metadata=METADATA,
    spec=obj(hard=MapOf(TEXT)),
    status=obj(hard=MapOf(TEXT), used=MapOf(TEXT)),
)

SHAPES: dict[str, Shape] = {
    "pods": POD,
    "events": EVENT,
    "nodes": NODE,
    "services": SERVICE,
    "endpoints": ENDPOINTS,
    "pvcs": PVC,
    "deployments": DEPLOYMENT,
    "replicasets": REPLICASET,
    "ingresses": INGRESS,
    "networkpolicies": NETWORK_POLICY,
    "poddisruptionbudgets": POD_DISRUPTION_BUDGET,
    "resourcequotas": RESOURCE_QUOTA,
}
"""The raw shape of each kind the informers watch, by the informers' kind name."""

PRUNED: dict[str, Obj] = {"pods": POD, "events": EVENT}
"""The kinds whose lists and watch events are read for their records' fields alone (``pruned_decode``): the ones
held by the ten thousand. Their decoders, and the flight recorder that notes what they decode, see the objects
with the fields of their shape only."""
