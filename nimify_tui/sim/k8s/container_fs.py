"""The file system a simulated container sees: its image, and the pod's volumes where its volumeMounts put them.

A persistent volume claim shows the world's files of that volume (:mod:`nimify_tui.sim.k8s.volumes`), so what a
shell lists, measures or deletes there is what the kubelet's summary, the PVC's fill and the pods' fate read.
ConfigMap and Secret volumes show their keys; an emptyDir is empty. triton-server's image holds the model
repository Triton serves at ``/models``.
"""

from __future__ import annotations

import base64
import binascii
import posixpath
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from nimify_tui.sim.k8s.quantity import byte_count
from nimify_tui.sim.k8s.volumes import MODEL_FILE_BYTES, VolumeFiles
from nimify_tui.sim.triton.models import REPOSITORY

if TYPE_CHECKING:
    from nimify_tui.sim.k8s.pods import PodRun
    from nimify_tui.sim.k8s.world import World

Obj = dict[str, Any]
DAY = 86400.0
DIR_BYTES = 4096
IMAGE_DIRS: tuple[str, ...] = ("bin", "boot", "dev", "etc", "home", "lib", "media", "mnt", "opt", "proc", "root")
IMAGE_DIRS += ("run", "sbin", "srv", "sys", "tmp", "usr", "var")
NODE_DISK = "/dev/nvme0n1p1"
CLUSTER_DNS = "10.96.0.10"
KUBERNETES_SERVICE_IP = "10.96.0.1"  # default/kubernetes
CEPH_MONITORS = "10.0.1.31:6789,10.0.2.31:6789"
TMPFS_BYTES = 64 * 2**20


@dataclass(frozen=True)
class Entry:
    """What ``stat`` says of a path."""

    is_dir: bool
    size: int
    mtime: float


class Tree(Protocol):
    """A file tree mounted somewhere; paths are relative to its root ("" is the root)."""

    def stat(self, rel: str) -> Entry | None: ...

    def names(self, rel: str) -> list[str]: ...

    def read(self, rel: str) -> str | None: ...

    def delete(self, rel: str, now: float) -> str:
        """ "" when deleted, else why not (strerror)."""
        ...


@dataclass
class StaticTree:
    """Files fixed when the shell starts (the image, a ConfigMap or Secret volume): path -> (size, mtime, text)."""

    files: dict[str, tuple[int, float, str | None]] = field(default_factory=dict)
    folders: set[str] = field(default_factory=lambda: {""})
    mtime: float = 0.0

    def add(self, rel: str, text: str | None, mtime: float, size: int | None = None) -> None:
        self.files[rel] = (len(text.encode()) if size is None and text is not None else size or 0, mtime, text)
        self.add_folder(posixpath.dirname(rel))

    def add_folder(self, rel: str) -> None:
        while rel and rel not in self.folders:
            self.folders.add(rel)
            rel = posixpath.dirname(rel)

    def stat(self, rel: str) -> Entry | None:
        if rel in self.files:
            size, mtime, _ = self.files[rel]
            return Entry(False, size, mtime)
        if rel in self.folders:
            return Entry(True, DIR_BYTES, self.mtime)
        return None

    def names(self, rel: str) -> list[str]:
        found = {path for path in (*self.files, *self.folders) if path and posixpath.dirname(path) == rel}
        return sorted(posixpath.basename(path) for path in found)

    def read(self, rel: str) -> str | None:
        return self.files[rel][2] if rel in self.files else None

    def delete(self, rel: str, now: float) -> str:
        return "Read-only file system"


@dataclass
class ClaimTree:
    """A persistent volume claim's files, as CephFS shows them (a folder's size is the bytes under it)."""

    files: VolumeFiles
    created: float
    read_only: bool = False

    def stat(self, rel: str) -> Entry | None:
        stored = self.files.files.get(rel)
        if stored is not None:
            return Entry(False, stored.size, stored.mtime)
        if self.files.is_folder(rel):
            return Entry(True, self.files.folder_bytes(rel), self.files.folder_mtime(rel, self.created))
        return None

    def names(self, rel: str) -> list[str]:
        folders, files = self.files.children(rel)
        return sorted([*folders, *(posixpath.basename(f.path) for f in files)])

    def read(self, rel: str) -> str | None:
        return "" if rel in self.files.files else None

    def delete(self, rel: str, now: float) -> str:
        if self.read_only:
            return "Read-only file system"
        if self.files.remove(rel, now) or (self.files.is_folder(rel) and self.files.remove_folder(rel, now)):
            return ""
        return "Directory not empty" if self.files.is_folder(rel) else "No such file or directory"


@dataclass
class Mount:
    """A mounted file system: where, what ``df`` calls it, and its (used, size) bytes now."""

    path: str
    source: str
    usage: Callable[[], tuple[int, int]]
    tree: Tree | None = None  # None: shows the files of the tree above it (a bind mount of one file)


class ContainerFS:
    """The container's mounts, longest path first when resolving."""

    def __init__(self, mounts: list[Mount]) -> None:
        self.mounts = mounts
        self._by_depth = sorted((m for m in mounts if m.tree is not None), key=lambda m: -len(m.path))

    def locate(self, path: str) -> tuple[Mount, str]:
        """The mount holding the absolute, normalized ``path`` and the path inside it."""
        for mount in self._by_depth:
            if path == mount.path or mount.path == "/" or path.startswith(mount.path + "/"):
                return mount, path[len(mount.path) :].lstrip("/") if mount.path != "/" else path.lstrip("/")
        raise LookupError(path)

    def df_mount(self, path: str) -> Mount:
        """The mount ``df`` names for ``path``: the deepest mount point at or above it (bind mounts included)."""
        best = self.mounts[0]
        for mount in self.mounts:
            if (path == mount.path or mount.path == "/" or path.startswith(mount.path + "/")) and len(
                mount.path
            ) >= len(best.path):
                best = mount
        return best

    def stat(self, path: str) -> Entry | None:
        mount, rel = self.locate(path)
        assert mount.tree is not None
        return mount.tree.stat(rel)

    def names(self, path: str) -> list[str]:
        mount, rel = self.locate(path)
        assert mount.tree is not None
        return mount.tree.names(rel)

    def read(self, path: str) -> str | None:
        mount, rel = self.locate(path)
        assert mount.tree is not None
        return mount.tree.read(rel)

    def delete(self, path: str, now: float) -> str:
        mount, rel = self.locate(path)
        assert mount.tree is not None
        if not rel:
            return "Device or resource busy"
        return mount.tree.delete(rel, now)

    def walk(self, path: str) -> Iterator[tuple[str, Entry]]:
        """``path`` and everything under it, depth first, folders before their contents."""
        entry = self.stat(path)
        if entry is None:
            return
        yield path, entry
        if entry.is_dir:
            for name in self.names(path):
                yield from self.walk(posixpath.join(path, name))


def normalize(path: str, cwd: str) -> str:
    return posixpath.normpath(posixpath.join(cwd, path)).replace("//", "/")


def container_fs(world: World, pod: Obj, run: PodRun, container: str) -> ContainerFS:
    """The file system of ``container`` in ``pod``, built from its volumeMounts and the world's volumes."""
    spec: Obj = next((c for c in pod["spec"].get("containers") or [] if c["name"] == container), {})
    volumes = {v["name"]: v for v in pod["spec"].get("volumes") or []}
    started = next((c.started_at for c in run.containers if c.name == container and c.started_at), world.now())
    node = world.store.get("nodes", "", run.node or "") or {}
    disk = byte_count(((node.get("status") or {}).get("capacity") or {}).get("ephemeral-storage", "80Gi"))
    memory = byte_count(((node.get("status") or {}).get("capacity") or {}).get("memory", "32Gi")) // 2

    def fixed(used: int, size: int) -> Callable[[], tuple[int, int]]:
        return lambda: (used, size)

    image = _image(run, container, pod, started)
    root_used = disk * 23 // 100
    mounts = [
        Mount("/", "overlay", fixed(root_used, disk), image),
        Mount("/dev", "tmpfs", fixed(0, TMPFS_BYTES), StaticTree(mtime=started)),
        Mount("/dev/shm", "shm", fixed(0, TMPFS_BYTES), StaticTree(mtime=started)),
    ]
    for mount in spec.get("volumeMounts") or []:
        path = normalize(mount["mountPath"], "/")
        volume = volumes.get(mount["name"], {})
        image.add_folder(path.lstrip("/"))
        mounts.append(_volume_mount(world, run, volume, path, bool(mount.get("readOnly")), started))
    for path in ("/etc/hosts", "/dev/termination-log", "/etc/hostname", "/etc/resolv.conf"):
        mounts.append(Mount(path, NODE_DISK, fixed(root_used, disk)))
    account = "/run/secrets/kubernetes.io/serviceaccount"
    mounts.append(Mount(account, "tmpfs", fixed(12 * 1024, memory), _account_tree(started)))
    image.add_folder(account.lstrip("/"))
    for path in ("/proc/acpi", "/proc/scsi", "/sys/firmware"):
        mounts.append(Mount(path, "tmpfs", fixed(0, memory), StaticTree(mtime=started)))
    return ContainerFS(mounts)


def _volume_mount(world: World, run: PodRun, volume: Obj, path: str, read_only: bool, started: float) -> Mount:
    claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
    if claim:
        key = (run.namespace, claim)
        files = world.volumes.setdefault(key, VolumeFiles())
        pvc = world.store.get("persistentvolumeclaims", run.namespace, claim) or {}
        uid = pvc.get("metadata", {}).get("uid", "0" * 36)
        subvolume = str(uuid.uuid5(uuid.NAMESPACE_OID, uid))
        source = f"{CEPH_MONITORS}:/volumes/csi/csi-vol-{uid}/{subvolume}"
        return Mount(path, source, lambda: world.volume_usage(*key), ClaimTree(files, started, read_only))
    tree = StaticTree(mtime=started)
    for source_key, resource in (("configMap", "configmaps"), ("secret", "secrets")):
        ref = volume.get(source_key)
        if ref is None:
            continue
        name = ref.get("name") or ref.get("secretName", "")
        obj = world.store.get(resource, run.namespace, name) or {}
        for key, value in sorted((obj.get("data") or {}).items()):
            tree.add(key, value if resource == "configmaps" else decoded(value), started)
        kind = "tmpfs" if resource == "secrets" else NODE_DISK
        return Mount(path, kind, lambda: (8192, 200 * 10**9), tree)
    return Mount(path, NODE_DISK, lambda: (0, 200 * 10**9), ClaimTree(VolumeFiles(), started, read_only))


def decoded(value: str) -> str:
    """A Secret's value as the container reads it ("" where it is not base64)."""
    try:
        return base64.b64decode(value).decode(errors="replace")
    except (binascii.Error, ValueError):
        return ""


def _account_tree(started: float) -> StaticTree:
    tree = StaticTree(mtime=started)
    tree.add("namespace", None, started, 13)
    tree.add("token", None, started, 1_049)
    tree.add("ca.crt", None, started, 1_107)
    return tree


def _image(run: PodRun, container: str, pod: Obj, started: float) -> StaticTree:
    """The image's files: the usual folders, /etc as the kubelet writes it, and the app's own files."""
    built = started - 20 * DAY
    tree = StaticTree(mtime=built)
    for folder in IMAGE_DIRS:
        tree.add_folder(folder)
    search = f"{run.namespace}.svc.cluster.local svc.cluster.local cluster.local ec2.internal"
    tree.add("etc/hostname", f"{run.name}\n", started)
    tree.add("etc/hosts", f"# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n{run.ip}\t{run.name}\n", started)
    tree.add("etc/resolv.conf", f"search {search}\nnameserver {CLUSTER_DNS}\noptions ndots:5\n", started)
    tree.add("etc/os-release", 'PRETTY_NAME="Ubuntu 22.04.5 LTS"\nNAME="Ubuntu"\nVERSION_ID="22.04"\n', built)
    if run.app == "triton-server":
        for model in REPOSITORY:
            tree.add(f"models/{model.name}/config.pbtxt", None, built, 600 + 40 * len(model.inputs))
            size = MODEL_FILE_BYTES.get(model.name, 6_410)
            tree.add(f"models/{model.name}/1/{model.default_model_filename}", None, built, size)
        tree.add_folder("opt/tritonserver/backends")
    elif run.app in ("nimify-api", "nimify-worker"):
        tree.add("app/pyproject.toml", None, built, 2_412)
        tree.add_folder("app/nimify")
    return tree
