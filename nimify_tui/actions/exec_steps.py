"""The runbook's in-pod steps: which command, in which pod, and what its output says about the check it feeds.

Each step is one of the runbook's commands run with exec (``nimify_tui.kube.exec``): the database check from a
nimify-api pod, the disk space and the cache cleanup on a pod that mounts the model volume, the model repository and
Triton's health inside triton-server, DNS from a nimify-api pod. Where a step runs is read from the API server when it
is asked (:func:`locate`); when no running pod mounts the volume (every one crash-loops on a full disk) the step runs
in a short-lived helper pod that mounts the same claim (:func:`helper_pod`). The cleanup is a fix: its dry run is the
same ``find`` without ``-delete`` (:class:`CleanupAction`, on the guarded path of every action).
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from nimify_tui.actions.kube_actions import DeletePodAction, plan_delete_pod
from nimify_tui.actions.plan import Action, ActionError, Outcome, Parameter, Preview, Request, Target
from nimify_tui.journal.journal import Journal
from nimify_tui.kube.access import AccessCheck
from nimify_tui.kube.client import KubeClient
from nimify_tui.kube.exec import ExecClient, ExecResult, ExecTarget
from nimify_tui.kube.records import DEFAULT_CONTAINER_ANNOTATION
from nimify_tui.text import one_line

if TYPE_CHECKING:
    from typing_extensions import Self

StepState = Literal["pass", "fail", "info"]
RunsIn = Literal["nimify-api", "volume", "triton-server"]

API_NAMESPACE = "nimify-system"
TRITON_NAMESPACE = "triton-system"
MODEL_CLAIM = "model-storage"
DISK_FULL_PERCENT = 95  # the runbook: df over 95 % fails the storage check
OUTPUT_LIMIT = 16 * 1024  # bytes kept of each stream: shown and journaled
JOURNAL_OUTPUT_CHARS = 4000
STEP_TIMEOUT_S = 30.0
HELPER_LIFETIME_S = 900  # the helper pod ends by itself after this, whatever happens to the TUI
HELPER_LABEL = "nimify-tui/helper"
# journal parameters that say an exec action is no attempt at a fix (the post-mortem does not count it as one)
CHANGES_NOTHING = "changes_nothing"  # a read-only step, a shell session
HELPER_POD = "helper_pod"  # a helper pod's creation or deletion, or a step run in one


@dataclass(frozen=True)
class InPodStep:
    """One runbook command run inside a pod: its binding id and default key, what the footer and help call it,
    the exact command, where it runs, the runbook section and the check whose answer it gives ("" when none)."""

    id: str
    key: str
    title: str
    command: tuple[str, ...]
    runs_in: RunsIn
    runbook: str
    feeds: str = ""
    dry_run: tuple[str, ...] = ()  # a fix: the command that shows what it would do
    volume_path: str = ""  # where the step expects the volume (the runbook's /cache): a pod must mount it there

    @property
    def is_fix(self) -> bool:
        return bool(self.dry_run)

    def shell_text(self, command: Sequence[str] | None = None) -> str:
        """The command as a person types it (the runbook's spelling)."""
        return " ".join(_quoted(part) for part in (command or self.command))


STEPS: tuple[InPodStep, ...] = (
    InPodStep(
        "step-database",
        "D",
        "Database check",
        ("psql", "-h", "postgres", "-U", "nimify", "-c", "SELECT 1;"),
        "nimify-api",
        "Scenario 5: Dependency Failures (database connectivity)",
        feeds="database",
    ),
    InPodStep(
        "step-disk",
        "B",
        "Disk space",
        ("df", "-h"),
        "volume",
        "Scenario 3: Storage Issues",
        feeds="storage",
    ),
    InPodStep(
        "step-models",
        "M",
        "Model repository",
        ("ls", "-la", "/models/"),
        "triton-server",
        "Scenario 5: Dependency Failures (model repository)",
    ),
    InPodStep(
        "step-triton-health",
        "H",
        "Triton health in its pod",
        ("curl", "localhost:8000/v2/health/ready"),
        "triton-server",
        "Scenario 5: Dependency Failures",
    ),
    InPodStep(
        "step-dns",
        "I",
        "DNS lookup",
        ("nslookup", "nimify-api.nimify-system.svc.cluster.local"),
        "nimify-api",
        "Scenario 4: Network/Ingress Issues (DNS)",
    ),
    InPodStep(
        "step-cleanup",
        "K",
        "Clean the cache",
        ("find", "/cache", "-type", "f", "-mtime", "+7", "-delete"),
        "volume",
        "Scenario 3: Storage Issues",
        feeds="storage",
        dry_run=("find", "/cache", "-type", "f", "-mtime", "+7"),
        volume_path="/cache",
    ),
)
STEP_BY_ID: dict[str, InPodStep] = {step.id: step for step in STEPS}
SHELL_ID = "shell"  # the shell key's binding id, and its name in the [keymap] of the config file


def _quoted(part: str) -> str:
    return f'"{part}"' if re.search(r"[\s;]", part) else part


def exec_access(namespace: str) -> AccessCheck:
    """What a step, and the shell, need: ``kubectl auth can-i create pods/exec -n NAMESPACE``."""
    return AccessCheck("create", "", "pods", "exec", namespace)


# --- where a step runs ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Place:
    """Where a step runs: a container of a running pod, or (``helper`` set) a helper pod yet to be created that
    mounts ``claim`` at ``mount_path``. ``why`` says how it was chosen."""

    target: ExecTarget
    why: str
    claim: str = ""
    mount_path: str = ""
    helper: Mapping[str, Any] | None = None


class NoPlace(ActionError):
    """No pod to run a step in; the message says why."""


def locate(client: KubeClient, step: InPodStep, main_namespace: str = API_NAMESPACE) -> Place:
    """The pod and container ``step`` runs in, read from the API server now."""
    if step.runs_in == "triton-server":
        return _running_app_pod(client, TRITON_NAMESPACE, "triton-server")
    if step.runs_in == "nimify-api":
        return _running_app_pod(client, main_namespace, "nimify-api")
    return _volume_place(client, main_namespace, MODEL_CLAIM, step.volume_path)


def _pods(client: KubeClient, namespace: str, selector: str = "") -> list[dict[str, Any]]:
    query = {"labelSelector": selector} if selector else None
    listing = client.get_json(f"/api/v1/namespaces/{namespace}/pods", query)
    items = listing.get("items") if isinstance(listing, dict) else None
    return [pod for pod in items or [] if isinstance(pod, dict)]


def _container_running(pod: Mapping[str, Any], container: str, *, ready: bool = True) -> bool:
    """The container runs (and is ready, when ``ready``) in a pod that is not being deleted."""
    if (pod.get("metadata") or {}).get("deletionTimestamp") or (pod.get("status") or {}).get("phase") != "Running":
        return False
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") == container:
            return "running" in (status.get("state") or {}) and (bool(status.get("ready")) or not ready)
    return False


def _containers(pod: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list((pod.get("spec") or {}).get("containers") or [])


def _default_container(pod: Mapping[str, Any]) -> str:
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    chosen = annotations.get(DEFAULT_CONTAINER_ANNOTATION)
    containers = _containers(pod)
    return str(chosen or (containers[0].get("name") if containers else ""))


def _running_app_pod(client: KubeClient, namespace: str, app: str) -> Place:
    """A ready pod of ``app``; else one whose container runs though it is not ready (nimify-api while its database
    is down: the step says why)."""
    pods = sorted(_pods(client, namespace, f"app={app}"), key=lambda p: str(p["metadata"]["name"]))
    for ready in (True, False):
        for pod in pods:
            container = _default_container(pod)
            if _container_running(pod, container, ready=ready):
                name = str(pod["metadata"]["name"])
                how = "running and ready" if ready else "running (not ready)"
                return Place(ExecTarget(namespace, name, container), f"{name} is {how}")
    listed = ", ".join(str(p["metadata"]["name"]) for p in pods) or "none"
    raise NoPlace(f"no {app} pod in {namespace} is running to exec into (pods: {listed})")


def _mount_of(pod: Mapping[str, Any], claim: str) -> tuple[Mapping[str, Any], str] | None:
    """The container mounting ``claim`` and where its whole volume is (its first such mount)."""
    volumes = _claim_volumes(pod, claim)
    for container in _containers(pod):
        for mount in container.get("volumeMounts") or []:
            if mount.get("name") in volumes and not mount.get("subPath"):
                return container, str(mount.get("mountPath"))
    return None


def _claim_volumes(pod: Mapping[str, Any], claim: str) -> set[str]:
    return {
        str(volume.get("name"))
        for volume in (pod.get("spec") or {}).get("volumes") or []
        if (volume.get("persistentVolumeClaim") or {}).get("claimName") == claim
    }


def _mount_paths(container: Mapping[str, Any], volumes: set[str]) -> set[str]:
    return {
        str(m.get("mountPath")).rstrip("/") for m in container.get("volumeMounts") or [] if m.get("name") in volumes
    }


def _volume_place(client: KubeClient, namespace: str, claim: str, path: str = "") -> Place:
    """A running pod that mounts ``claim`` (at ``path``, when given); else a helper pod that mounts it as the first
    such pod does, and at ``path``."""
    mounting: list[tuple[Mapping[str, Any], Mapping[str, Any], str]] = []
    for listed in sorted(_pods(client, namespace), key=lambda p: str(p["metadata"]["name"])):
        found = _mount_of(listed, claim)
        if found is not None and HELPER_LABEL not in (listed["metadata"].get("labels") or {}):
            mounting.append((listed, *found))
    for pod, container, mount_path in mounting:
        name = str(pod["metadata"]["name"])
        at_path = not path or path.rstrip("/") in _mount_paths(container, _claim_volumes(pod, claim))
        if at_path and _container_running(pod, str(container.get("name"))):
            return Place(
                ExecTarget(namespace, name, str(container.get("name"))),
                f"{name} mounts {claim} at {mount_path}",
                claim,
                mount_path,
            )
    if not mounting:
        raise NoPlace(f"no pod in {namespace} mounts the claim {claim}")
    first, like, where = mounting[0]
    manifest = helper_pod(namespace, claim, like, _claim_volumes(first, claim), path)
    name = str(manifest["metadata"]["name"])
    paths = " and ".join(str(m["mountPath"]) for m in manifest["spec"]["containers"][0]["volumeMounts"])
    pods = ", ".join(str(p["metadata"]["name"]) for p, _, _ in mounting)
    whose = f"at {path} " if path else ""
    why = f"no running pod mounts {claim} {whose}({pods}): a helper pod {name} mounts it at {paths}"
    return Place(ExecTarget(namespace, name, "helper"), why, claim, where, manifest)


def helper_pod(
    namespace: str, claim: str, like: Mapping[str, Any], volumes: set[str], path: str = ""
) -> dict[str, Any]:
    """A pod that mounts ``claim`` where ``like`` (a container of a pod that mounts it through ``volumes``) does,
    each of its mounts of it (a subPath too) at the same path, and at ``path`` (where the runbook's command expects
    the volume) when given; it runs that container's image doing nothing, and ends by itself after
    :data:`HELPER_LIFETIME_S`. The volume is ReadWriteMany: it mounts beside the pods that use it."""
    mounts = [
        {
            "name": "data",
            "mountPath": str(mount.get("mountPath")),
            **({"subPath": str(mount["subPath"])} if mount.get("subPath") else {}),
        }
        for mount in like.get("volumeMounts") or []
        if mount.get("name") in volumes
    ]
    if path and path.rstrip("/") not in {str(m["mountPath"]).rstrip("/") for m in mounts}:
        mounts.append({"name": "data", "mountPath": path})
    name = f"nimify-volume-helper-{secrets.token_hex(3)}"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {HELPER_LABEL: "volume", "app.kubernetes.io/managed-by": "nimify-tui"},
        },
        "spec": {
            "restartPolicy": "Never",
            "activeDeadlineSeconds": HELPER_LIFETIME_S,
            "terminationGracePeriodSeconds": 0,
            "containers": [
                {
                    "name": "helper",
                    "image": str(like.get("image") or ""),
                    "command": ["sleep", str(HELPER_LIFETIME_S)],
                    "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "64Mi"}},
                    "volumeMounts": mounts,
                }
            ],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}],
        },
    }


# --- what the output says ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    """What a step's result says: pass or fail for the check it feeds (info: nothing to judge), in one line."""

    state: StepState
    line: str


_ROWS = re.compile(r"\((\d+) rows?\)")
_DF_USE = re.compile(r"(\d+)%")


def database_verdict(result: ExecResult) -> Verdict:
    """``SELECT 1`` returning a row passes; anything else fails with psql's own error."""
    rows = _ROWS.search(result.stdout)
    if result.exit_code == 0 and rows is not None and int(rows.group(1)) >= 1:
        return Verdict("pass", f"SELECT 1 returned {rows.group(0).strip('()')}")
    return Verdict("fail", _why_failed(result))


def disk_usage(df_output: str, mount_path: str) -> int | None:
    """The Use% of the filesystem mounted at ``mount_path`` in ``df -h``'s output (None: not listed)."""
    wanted = mount_path.rstrip("/") or "/"
    for line in df_output.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 6 and (fields[-1].rstrip("/") or "/") == wanted:
            use = _DF_USE.fullmatch(fields[-2])
            if use is not None:
                return int(use.group(1))
    return None


def disk_verdict(result: ExecResult, claim: str, mount_path: str) -> Verdict:
    """Over 95 % used on the claim's mount fails the storage check."""
    if result.exit_code != 0:
        return Verdict("fail", _why_failed(result))
    use = disk_usage(result.stdout, mount_path)
    if use is None:
        return Verdict("info", f"df lists nothing mounted at {mount_path}")
    state: StepState = "fail" if use > DISK_FULL_PERCENT else "pass"
    return Verdict(state, f"{claim} at {mount_path} is {use}% used (df -h)")


def plain_verdict(result: ExecResult) -> Verdict:
    if result.exit_code == 0:
        return Verdict("info", "exit 0")
    return Verdict("fail", _why_failed(result))


def _why_failed(result: ExecResult) -> str:
    if result.exit_code is None:
        return result.error or "the command did not finish"
    lines = [line for line in (result.stderr or result.stdout).splitlines() if line.strip()]
    return one_line(lines[0] if lines else f"exit {result.exit_code}", 240)


# --- running and recording --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StepResult:
    """One run of a step: where, the result, what it says, and when (``time.time()``)."""

    step: str
    target: ExecTarget
    result: ExecResult
    verdict: Verdict
    at: float
    in_helper: bool = False
    command: tuple[str, ...] = ()  # what ran (a fix's dry run differs from the step's command)

    @property
    def title(self) -> str:
        return STEP_BY_ID[self.step].title


def judge(step: InPodStep, place: Place, result: ExecResult) -> Verdict:
    if step.id == "step-database":
        return database_verdict(result)
    if step.id == "step-disk":
        return disk_verdict(result, place.claim, place.mount_path)
    return plain_verdict(result)


def run_step(
    exec_client: ExecClient, step: InPodStep, place: Place, *, command: Sequence[str] | None = None
) -> StepResult:
    """Run the step (or ``command`` in its place: a fix's dry run, a df after a cleanup) and judge its output."""
    ran = tuple(command or step.command)
    result = exec_client.run(place.target, ran, timeout_s=STEP_TIMEOUT_S, output_limit=OUTPUT_LIMIT)
    checked = step if ran == step.command else replace(step, id="")
    verdict = judge(checked, place, result) if checked.id else plain_verdict(result)
    return StepResult(step.id, place.target, result, verdict, time.time(), place.helper is not None, ran)


def journal_step(journal: Journal | None, who: str, done: StepResult) -> None:
    """The step in the journal as an action (verb exec): where, the exact command, the bounded output, the exit."""
    if journal is None:
        return
    result = done.result
    output = result.output
    if len(output) > JOURNAL_OUTPUT_CHARS:
        output = output[:JOURNAL_OUTPUT_CHARS] + "\n… (cut)"
    journal.action(
        who=who,
        verb="exec",
        target_kind="Pod",
        target_namespace=done.target.namespace,
        target_name=done.target.pod,
        parameters={
            "step": done.title,
            "container": done.target.container or "",
            "command": STEP_BY_ID[done.step].shell_text(done.command),
            "exit_code": "" if result.exit_code is None else str(result.exit_code),
            "output": output,
            "output_truncated": str(result.truncated).lower(),
            "verdict": f"{done.verdict.state}: {done.verdict.line}",
            HELPER_POD: str(done.in_helper).lower(),
            CHANGES_NOTHING: "true",
        },
        dry_run_diff=None,
        result="ok" if result.exit_code is not None else "error",
        error=result.error or None,
        duration_ms=round(result.duration_s * 1000, 1),
        request_method="GET",
        request_path=done.target.path_with_query(done.command),
        request_body=None,
    )


@dataclass(frozen=True)
class FileListPreview(Preview):
    """A dry run that changes no object: the files the fix would delete (in ``yaml_diff``), and how many."""

    @property
    def text(self) -> str:
        return self.note


# --- the cleanup, a fix on the guarded path ---------------------------------------------------------------------
@dataclass(frozen=True)
class CleanupAction(Action):
    """``find /cache -type f -mtime +7 -delete`` in a pod that mounts the volume; its dry run lists the files the
    same ``find`` without ``-delete`` finds."""

    exec_client: ExecClient
    place: Place
    step: InPodStep = STEP_BY_ID["step-cleanup"]

    verb = "exec"
    destructive = False

    @property
    def target(self) -> Target:
        return Target("Pod", self.place.target.namespace, self.place.target.pod)

    def summary(self) -> str:
        return f"run `{self.step.shell_text()}` in {self.place.target}: delete the cache files older than 7 days"

    def parameters(self) -> tuple[Parameter, ...]:
        return ()

    def with_values(self, values: Mapping[str, str]) -> Self:
        return self

    def access_checks(self) -> tuple[AccessCheck, ...]:
        return (exec_access(self.place.target.namespace),)

    def request(self) -> Request:
        return self._exec_request(self.step.command)

    def dry_run_request(self) -> Request:
        """The same ``find`` without ``-delete``, run in the pod: what the dry run sends (no ``dryRun=All``)."""
        return self._exec_request(self.step.dry_run)

    def _exec_request(self, command: Sequence[str]) -> Request:
        query = tuple(self.place.target.query(command, stdin=False, tty=False))
        return Request("GET", self.place.target.path(), None, None, query)

    def preview(self) -> Preview:
        listed = run_step(self.exec_client, self.step, self.place, command=self.step.dry_run)
        if listed.result.exit_code != 0:
            raise ActionError(f"{self.step.shell_text(self.step.dry_run)}: {listed.verdict.line}")
        files = [line for line in listed.result.stdout.splitlines() if line.strip()]
        head = f"$ {self.step.shell_text(self.step.dry_run)}   (the dry run: -delete left out)"
        shown = "\n".join(files) if files else "(no file older than 7 days)"
        more = " (the list was cut)" if listed.result.truncated else ""
        note = f"{len(files)} file(s) would be deleted{more}"
        return FileListPreview(None, None, (), f"{head}\n{shown}", note)

    def execute(self) -> Outcome:
        done = run_step(self.exec_client, self.step, self.place)
        if done.result.exit_code != 0:
            raise ActionError(f"{self.step.shell_text()}: {done.verdict.line}")
        return Outcome(f"{self.step.shell_text()} in {self.place.target}: done (exit 0)", done)

    def journal_parameters(self) -> dict[str, str]:
        return {"command": self.step.shell_text(), "container": self.place.target.container or ""}


# --- the helper pod, created and deleted on the guarded path -----------------------------------------------------
HELPER_START_S = 90.0  # how long the helper may take to run


@dataclass(frozen=True)
class HelperPodAction(Action):
    """Create the helper pod a step runs in (its dry run: the API server's dryRun=All of the create), and wait until
    it runs. It is deleted after the step through ``plan_delete_pod``, on the same path."""

    client: KubeClient
    manifest: Mapping[str, Any]
    for_step: str = ""

    verb = "create"

    @property
    def target(self) -> Target:
        meta = self.manifest["metadata"]
        return Target("Pod", str(meta["namespace"]), str(meta["name"]))

    def summary(self) -> str:
        container = self.manifest["spec"]["containers"][0]
        mount = container["volumeMounts"][0]["mountPath"]
        claim = self.manifest["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"]
        step = f" to run {self.for_step}" if self.for_step else ""
        return (
            f"create helper pod {self.target.namespace}/{self.target.name}{step}: it mounts {claim} at {mount} "
            f"({container['image']}, ends by itself after {HELPER_LIFETIME_S // 60} min; deleted after the step)"
        )

    def parameters(self) -> tuple[Parameter, ...]:
        return ()

    def with_values(self, values: Mapping[str, str]) -> Self:
        return self

    def access_checks(self) -> tuple[AccessCheck, ...]:
        namespace = self.target.namespace or ""
        return (AccessCheck("create", "", "pods", "", namespace), AccessCheck("delete", "", "pods", "", namespace))

    def request(self) -> Request:
        return Request("POST", f"/api/v1/namespaces/{self.target.namespace}/pods", dict(self.manifest))

    def preview(self) -> Preview:
        after = self.request().dry_run().send(self.client)
        return Preview.of_objects({}, after, "the helper pod as the API server would create it (dry run)")

    def execute(self) -> Outcome:
        reply = self.request().send(self.client)
        path = f"/api/v1/namespaces/{self.target.namespace}/pods/{self.target.name}"
        deadline = time.monotonic() + HELPER_START_S
        phase = ""
        while time.monotonic() < deadline:
            pod = self.client.get_json(path)
            phase = str((pod.get("status") or {}).get("phase") or "")
            if _container_running(pod, "helper"):
                return Outcome(f"pod/{self.target.name} created and running", reply)
            if phase in ("Failed", "Succeeded"):
                break
            time.sleep(0.5)
        raise ActionError(f"pod/{self.target.name} was created but is not running ({phase or 'no phase'}): delete it")

    def journal_parameters(self) -> dict[str, str]:
        return {"for_step": self.for_step, HELPER_POD: "true"}


@dataclass(frozen=True)
class DeleteHelperPodAction(DeletePodAction):
    """The helper pod's deletion (``kubectl delete pod --grace-period=0``), journaled as the helper's."""

    def journal_parameters(self) -> dict[str, str]:
        return {**super().journal_parameters(), HELPER_POD: "true"}


def plan_delete_helper(client: KubeClient, namespace: str, name: str) -> DeleteHelperPodAction:
    planned = plan_delete_pod(client, namespace, name, force=True)
    return DeleteHelperPodAction(
        client, planned.namespace, planned.name, planned.force, planned.grace_period_s, planned.phase
    )
