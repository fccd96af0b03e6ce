"""Server-side validation of written objects, with the API server's field paths and messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nimify_tui.sim.k8s import objects
from nimify_tui.sim.k8s.quantity import QUANTITY_ERROR, byte_count, cpu_millis, is_quantity

Obj = dict[str, Any]


@dataclass(frozen=True)
class Cause:
    """One invalid field (a StatusCause)."""

    reason: str  # FieldValueInvalid, FieldValueForbidden, ...
    field: str
    message: str


def invalid(field: str, value: Any, detail: str) -> Cause:
    shown = f'"{value}"' if isinstance(value, str) else value
    return Cause("FieldValueInvalid", field, f"Invalid value: {shown}: {detail}")


def forbidden(field: str, detail: str) -> Cause:
    return Cause("FieldValueForbidden", field, f"Forbidden: {detail}")


def _containers(spec: Obj, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for index, c in enumerate(spec.get("containers") or []):
        base = f"{path}.containers[{index}]"
        if not c.get("name"):
            causes.append(Cause("FieldValueRequired", f"{base}.name", "Required value"))
        if not c.get("image"):
            causes.append(Cause("FieldValueRequired", f"{base}.image", "Required value"))
        resources = c.get("resources") or {}
        parsed: dict[str, dict[str, int]] = {}
        for kind in ("limits", "requests"):
            for resource, value in (resources.get(kind) or {}).items():
                field = f"{base}.resources.{kind}[{resource}]"
                if not is_quantity(value):
                    causes.append(invalid(field, value, QUANTITY_ERROR))
                    continue
                amount = cpu_millis(value) if resource == "cpu" else byte_count(value)
                if amount < 0:
                    causes.append(invalid(field, value, "must be greater than or equal to 0"))
                parsed.setdefault(kind, {})[resource] = amount
        for resource, requested in parsed.get("requests", {}).items():
            limit = parsed.get("limits", {}).get(resource)
            if limit is not None and requested > limit:
                value = (resources.get("requests") or {})[resource]
                limit_text = (resources.get("limits") or {})[resource]
                causes.append(
                    invalid(
                        f"{base}.resources.requests",
                        value,
                        f"must be less than or equal to {resource} limit of {limit_text}",
                    )
                )
    return causes


def validate(kind: str, obj: Obj, old: Obj | None) -> list[Cause]:
    """The causes that make ``obj`` invalid (``old`` is the stored version on an update)."""
    spec = obj.get("spec") or {}
    causes: list[Cause] = []
    if kind == "Pod":
        causes += _containers(spec, "spec")
        if old is not None:
            causes += _pod_update(spec, old["spec"])
    elif kind in ("Deployment", "ReplicaSet", "DaemonSet"):
        template = spec.get("template") or {}
        causes += _containers(template.get("spec") or {}, "spec.template.spec")
        replicas = spec.get("replicas", 1)
        if kind != "DaemonSet" and (not isinstance(replicas, int) or replicas < 0):
            causes.append(invalid("spec.replicas", replicas, "must be greater than or equal to 0"))
        if old is not None and spec.get("selector") != old["spec"].get("selector"):
            causes.append(invalid("spec.selector", spec.get("selector"), "field is immutable"))
    elif kind == "PersistentVolumeClaim":
        causes += _claim(spec, old)
    elif kind == "ResourceQuota":
        for resource, value in (spec.get("hard") or {}).items():
            if not is_quantity(value):
                causes.append(invalid(f"spec.hard[{resource}]", value, QUANTITY_ERROR))
    return causes


def _pod_update(spec: Obj, old: Obj) -> list[Cause]:
    """A pod's spec may only change its containers' images."""

    def without_images(pod_spec: Obj) -> Obj:
        containers = [{**c, "image": ""} for c in pod_spec.get("containers") or []]
        return {**pod_spec, "containers": containers}

    if without_images(spec) != without_images(old):
        return [
            forbidden(
                "spec",
                "pod updates may not change fields other than `spec.containers[*].image`,"
                "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
                "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
                "(allow it to be set to 1 if it was previously negative)",
            )
        ]
    return []


def _claim(spec: Obj, old: Obj | None) -> list[Cause]:
    field = "spec.resources.requests.storage"
    value = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
    if value is None:
        return [Cause("FieldValueRequired", field, "Required value")]
    if not is_quantity(value):
        return [invalid(field, value, QUANTITY_ERROR)]
    if old is None:
        return []
    previous = old["spec"]["resources"]["requests"]["storage"]
    if byte_count(value) < byte_count(previous):
        return [forbidden(field, "field can not be less than previous value")]
    immutable = {key: val for key, val in spec.items() if key != "resources"}
    if immutable != {key: val for key, val in old["spec"].items() if key != "resources"}:
        return [forbidden("spec", "spec is immutable after creation except resources.requests for bound claims")]
    return []


def invalid_message(kind: str, group: str, name: str, causes: list[Cause]) -> str:
    """The Status message of a 422: ``Deployment.apps "x" is invalid: field: detail``."""
    qualified = f"{kind}.{group}" if group else kind
    parts = [f"{cause.field}: {cause.message}" for cause in causes]
    listed = parts[0] if len(parts) == 1 else f"[{', '.join(parts)}]"
    return f'{qualified} "{name}" is invalid: {listed}'


def apply_defaults(kind: str, obj: Obj) -> Obj:
    """The defaults the API server fills on write, so that equal templates stay equal."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return obj
    if kind in ("Deployment", "ReplicaSet", "DaemonSet") and isinstance(spec.get("template"), dict):
        template = spec["template"]
        return {
            **obj,
            "spec": {**spec, "template": {**template, "spec": objects.default_pod_spec(template.get("spec") or {})}},
        }
    if kind == "Pod":
        return {**obj, "spec": objects.default_pod_spec(spec)}
    return obj
