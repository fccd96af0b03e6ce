"""What the simulated persistent volumes hold: their files, whose sizes add up to the volume's use.

model-storage (nimify-api's, mounted at ``/models``) holds the synced model repository (``<model>/...``, written
by the current release's sync) and nimify-api's cache (``cache/...``): snapshots of earlier releases' models,
embedding shards, tokenizers. Healthy, it holds 61 GiB; in storage-full the cache has grown with stale shards
(older than a week) and a partial download fills the rest. Deleting the stale files (the runbook's
``find /cache -type f -mtime +7 -delete``) frees the space.
"""

from __future__ import annotations

from dataclasses import dataclass

DAY = 86400.0
GIB = 2**30
MIB = 2**20
SHARD_BYTES = 2 * GIB


@dataclass
class StoredFile:
    """A file on a volume: its path from the volume's root, size and modification time."""

    path: str
    size: int
    mtime: float


class VolumeFiles:
    """The files on one volume; folders are implied by the files' paths."""

    def __init__(self, files: list[StoredFile] | None = None) -> None:
        self.files: dict[str, StoredFile] = {f.path: f for f in files or []}
        self.folder_times: dict[str, float] = {}  # a folder's mtime where it is not its newest file's

    def used(self) -> int:
        return sum(f.size for f in self.files.values())

    def add(self, path: str, size: int, mtime: float) -> None:
        self.files[path] = StoredFile(path, size, mtime)

    def remove(self, path: str, now: float) -> bool:
        """Delete the file at ``path``; its folder's mtime becomes ``now``."""
        if self.files.pop(path, None) is None:
            return False
        self.folder_times[path.rpartition("/")[0]] = now
        return True

    def is_folder(self, path: str) -> bool:
        if not path:
            return True
        prefix = path + "/"
        return any(name == path or name.startswith(prefix) for name in self.folder_times) or any(
            name.startswith(prefix) for name in self.files
        )

    def remove_folder(self, path: str, now: float) -> bool:
        """Delete an empty folder (and the empty folders in it)."""
        prefix = path + "/"
        if not path or any(name.startswith(prefix) for name in self.files):
            return False
        for name in [name for name in self.folder_times if name == path or name.startswith(prefix)]:
            del self.folder_times[name]
        self.folder_times[path.rpartition("/")[0]] = now
        return True

    def children(self, path: str) -> tuple[list[str], list[StoredFile]]:
        """The folders and files right under the folder ``path`` ("" for the root)."""
        prefix = f"{path}/" if path else ""
        folders: set[str] = set()
        files = []
        for name, stored in self.files.items():
            if not name.startswith(prefix):
                continue
            rest = name[len(prefix) :]
            if "/" in rest:
                folders.add(rest.split("/", 1)[0])
            else:
                files.append(stored)
        for folder in self.folder_times:
            if folder and folder.startswith(prefix) and folder != path:
                folders.add(folder[len(prefix) :].split("/", 1)[0])
        return sorted(folders), sorted(files, key=lambda f: f.path)

    def folder_bytes(self, path: str) -> int:
        """The bytes under a folder (CephFS shows this as the folder's size)."""
        prefix = f"{path}/" if path else ""
        return sum(f.size for name, f in self.files.items() if name.startswith(prefix))

    def folder_mtime(self, path: str, default: float) -> float:
        prefix = f"{path}/" if path else ""
        times = [f.mtime for n, f in self.files.items() if n.startswith(prefix) and "/" not in n[len(prefix) :]]
        if path in self.folder_times:
            times.append(self.folder_times[path])
        return max(times, default=default)


# the size of each model's file in the repository (the PVC's copy and Triton's /models hold the same files)
MODEL_FILE_BYTES = {"nimify-model": 7_812 * MIB, "nimify-embedder": 2_861 * MIB, "nimify-reranker": 6_410}


def model_storage(now: float, used: int, release_synced: float) -> VolumeFiles:
    """model-storage as the healthy cluster has it: exactly ``used`` bytes; the models synced at
    ``release_synced``, the cache's files of various ages."""
    files = [
        StoredFile("nimify-model/config.pbtxt", 1_187, release_synced),
        StoredFile("nimify-model/1/model.onnx", MODEL_FILE_BYTES["nimify-model"], release_synced),
        StoredFile("nimify-embedder/config.pbtxt", 1_642, release_synced),
        StoredFile("nimify-embedder/1/model.plan", MODEL_FILE_BYTES["nimify-embedder"], release_synced),
        StoredFile("nimify-reranker/config.pbtxt", 904, release_synced),
        StoredFile("nimify-reranker/1/model.py", MODEL_FILE_BYTES["nimify-reranker"], release_synced),
        StoredFile("nimify-reranker/1/weights.safetensors", 1_276 * MIB, release_synced),
        StoredFile("cache/tokenizers/nimify-model/tokenizer.json", 2_118_402, release_synced),
        StoredFile("cache/tokenizers/nimify-embedder/tokenizer.json", 711_396, release_synced),
        StoredFile("cache/nimify-model/1.8.0/model.onnx", 7_790 * MIB, now - 30 * DAY),
        StoredFile("cache/nimify-model/1.8.1/model.onnx", 7_805 * MIB, now - 12 * DAY),
    ]
    day = 0
    while sum(f.size for f in files) < used:
        left = used - sum(f.size for f in files)
        files.append(
            StoredFile(f"cache/embeddings/shard-{day:04d}.bin", min(SHARD_BYTES, left), now - (day + 0.3) * DAY)
        )
        day += 1
    return VolumeFiles(files)


def fill_with_stale_cache(volume: VolumeFiles, capacity: int, now: float) -> None:
    """storage-full: stale embedding shards (a shard a day, from 8 days old back), and a partial model download
    that takes the last bytes, fill the volume to ``capacity``."""
    day = 8
    while capacity - volume.used() > SHARD_BYTES:
        volume.add(f"cache/embeddings/stale/shard-{day:04d}.bin", SHARD_BYTES, now - (day + 0.6) * DAY)
        day += 1
    left = capacity - volume.used()
    if left > 0:
        volume.add("cache/nimify-model/1/model.onnx.part", left, now - 600.0)
