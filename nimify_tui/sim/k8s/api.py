"""The simulated Kubernetes API server's HTTP side (aiohttp): discovery, CRUD, watch, logs, scale,
metrics, access reviews, and the service and pod proxies to the simulated in-cluster servers."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from nimify_tui.sim.faults import FaultInjector, FaultSpecError, parse_faults, plan_from_json
from nimify_tui.sim.k8s import auth, objects, paging, patch, protobuf, tables
from nimify_tui.sim.k8s.exec import ExecRefused, refusal_response, serve_exec
from nimify_tui.sim.k8s.kubelet_summary import node_summary
from nimify_tui.sim.k8s.resources import (
    SERVER_VERSION,
    ResourceType,
    api_group,
    api_group_list,
    api_resource_list,
    api_versions,
    find_resource,
    openapi_v3_document,
    openapi_v3_index,
)
from nimify_tui.sim.k8s.selectors import SelectorError, parse_field_selector, parse_label_selector
from nimify_tui.sim.k8s.store import Change, Obj, clone
from nimify_tui.sim.k8s.validation import apply_defaults, invalid_message, validate
from nimify_tui.sim.k8s.world import World

_log = logging.getLogger(__name__)
JSON = "application/json"
BOOKMARK_INTERVAL_S = 1.0  # wall seconds between bookmarks on an idle watch
DEFAULT_WATCH_TIMEOUT_S = 1800.0
OPEN_PATHS = frozenset({"/version", "/healthz", "/livez", "/readyz"})
FAULTS_PATH = "/sim/faults"  # the simulator's own control endpoint: GET shows the fault plan, POST replaces it
SILENT_WATCH_CHECK_S = 0.5  # a silenced watch looks this often whether its client went away
_METHOD_VERBS = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete", "HEAD": "get"}


@dataclass(frozen=True)
class RequestRecord:
    """One request the API server received."""

    method: str
    path: str
    query: dict[str, str]
    user: str | None
    status: int
    at: float = 0.0  # time.monotonic() when it arrived


class ApiError(Exception):
    """An error answered with a metav1 Status."""

    def __init__(
        self, code: int, reason: str, message: str, details: Obj | None = None, *, retry_after_s: int | None = None
    ) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details
        self.retry_after_s = retry_after_s


def status_body(code: int, reason: str, message: str, details: Obj | None = None) -> Obj:
    body: Obj = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details is not None:
        body["details"] = details
    return body


def _json(obj: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(obj), status=status, content_type=JSON)


def _qualified(res: ResourceType) -> str:
    return f"{res.plural}.{res.group}" if res.group else res.plural


def _not_found(res: ResourceType, name: str) -> ApiError:
    details = {"name": name, "group": res.group, "kind": res.plural}
    return ApiError(404, "NotFound", f'{_qualified(res)} "{name}" not found', details)


def _flag(query: Any, key: str) -> bool:
    return str(query.get(key, "")).lower() in ("true", "1")


@dataclass(frozen=True)
class Target:
    """What a resource URL names."""

    res: ResourceType
    namespace: str  # "" for cluster-scoped resources and all-namespace lists
    name: str
    subresource: str
    rest: str  # the path after ``proxy``


class KubeApi:
    """Routes API requests to the world; one instance per server."""

    def __init__(self, world: World, tokens: dict[str, str]) -> None:
        self.world = world
        self.tokens = tokens  # bearer token -> user
        self.request_log: list[RequestRecord] = []
        self.bookmark_interval_s = BOOKMARK_INTERVAL_S
        self._round_robin = itertools.count()
        self.faults = FaultInjector()
        self._listed = paging.ListedMemo()  # the pages of one list read it once
        self.connections: weakref.WeakSet[asyncio.Transport] = weakref.WeakSet()  # cut when the API goes down

    def application(self) -> web.Application:
        app = web.Application(client_max_size=16 * 2**20)
        app.router.add_route("*", "/{tail:.*}", self._entry)
        return app

    # --- entry ----------------------------------------------------------------------------------

    async def _entry(self, request: web.Request) -> web.StreamResponse:
        if request.path == FAULTS_PATH:
            return await self._fault_control(request)
        user = self._user(request)
        status = 500
        arrived = time.monotonic()
        if request.transport is not None:
            self.connections.add(request.transport)
        try:
            await self._inject(request)
            if request.path not in OPEN_PATHS and user is None:
                raise ApiError(401, "Unauthorized", "Unauthorized")
            response = await self._route(request, user or "")
            status = response.status
            return response
        except ApiError as err:
            status = err.code
            response = _json(status_body(err.code, err.reason, err.message, err.details), err.code)
            if err.retry_after_s is not None:
                response.headers["Retry-After"] = str(err.retry_after_s)
            return response
        except ConnectionResetError:  # the client went away, or the fault plan's outage cut the connection
            status = 0
            return web.Response(status=499)
        except Exception as err:
            _log.exception("internal error answering %s %s", request.method, request.path)
            return _json(status_body(500, "InternalError", f"Internal error occurred: {err}"), 500)
        finally:
            record = RequestRecord(request.method, request.path, dict(request.query), user, status, arrived)
            self.request_log.append(record)

    # --- injected faults ------------------------------------------------------------------------------------

    async def _inject(self, request: web.Request) -> None:
        """The fault plan's latency, then its 429s and 500s (drawn per request)."""
        latency = self.faults.plan.api_latency_s
        if latency:
            if request.can_read_body:  # received whole, then slow to answer: a client that gives up changes nothing
                await request.read()
            await asyncio.sleep(latency)
        refusal = self.faults.refusal()
        if refusal is not None:
            raise ApiError(refusal.status, refusal.reason, refusal.message, retry_after_s=refusal.retry_after_s)

    async def _fault_control(self, request: web.Request) -> web.Response:
        """GET: the plan in force; POST: a new one, as one line of text or as JSON ``{"spec": ...}``."""
        if request.method == "POST":
            raw = await request.read()
            try:
                if request.content_type == JSON:
                    plan = plan_from_json(orjson.loads(raw))
                else:
                    plan = parse_faults(raw.decode("utf-8", "replace"))
            except (FaultSpecError, orjson.JSONDecodeError) as err:
                return _json({"error": f"bad fault plan: {err}"}, 400)
            self.faults.set(plan)
        elif request.method != "GET":
            return _json({"error": "GET or POST"}, 405)
        return _json({**self.faults.plan.as_json(), "applied_s_ago": round(self.faults.elapsed(), 3)})

    def cut_connections(self) -> None:
        """Drop every open connection (the API server went away): watches and idle keep-alive ones alike."""
        for transport in list(self.connections):
            transport.abort()
        self.connections.clear()

    def _user(self, request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        return self.tokens.get(header[len("Bearer ") :].strip())

    async def _route(self, request: web.Request, user: str) -> web.StreamResponse:
        path = request.path.rstrip("/") or "/"
        if path == "/version":
            return _json(SERVER_VERSION)
        if path in ("/healthz", "/livez", "/readyz"):
            return web.Response(text="ok")
        if path == "/api":
            return _json(api_versions(request.host))
        if path == "/apis":
            return _json(api_group_list())
        if path == "/openapi/v3":
            return _json(openapi_v3_index())
        if path.startswith("/openapi/v3/"):
            document = openapi_v3_document(path[len("/openapi/v3/") :])
            if document is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
            return _json(document)
        parts = path.strip("/").split("/")
        if parts[0] == "apis" and len(parts) == 2:
            group = api_group(parts[1])
            if group is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
            return _json(group)
        if parts[0] == "api" and len(parts) >= 2:
            group_version, rest = parts[1], parts[2:]
        elif parts[0] == "apis" and len(parts) >= 3:
            group_version, rest = f"{parts[1]}/{parts[2]}", parts[3:]
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        if not rest:
            listing = api_resource_list(group_version)
            if listing is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
            return _json(listing)
        target = self._target(group_version, rest)
        return await self._dispatch(request, user, target)

    @staticmethod
    def _target(group_version: str, rest: list[str]) -> Target:
        namespace = ""
        if rest[0] == "namespaces" and len(rest) >= 3 and find_resource(group_version, rest[2]) is not None:
            namespace, rest = rest[1], rest[2:]
        res = find_resource(group_version, rest[0])
        if res is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        if namespace and not res.namespaced:
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        name = rest[1] if len(rest) > 1 else ""
        subresource = rest[2] if len(rest) > 2 else ""
        if subresource and res.subresource(subresource) is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        if len(rest) > 3 and subresource != "proxy":
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        return Target(res, namespace, name, subresource, "/" + "/".join(rest[3:]))

    async def _dispatch(self, request: web.Request, user: str, target: Target) -> web.StreamResponse:
        method = request.method
        res, query = target.res, request.query
        if target.subresource == "proxy":
            verb = _METHOD_VERBS.get(method, "")
        elif target.subresource == "exec":
            verb = "create"  # a WebSocket exec is a GET, authorized as create pods/exec (as since 1.31)
        elif method == "GET":
            verb = ("watch" if _flag(query, "watch") else "list") if not target.name else "get"
        elif method == "DELETE" and not target.name:
            verb = "deletecollection"
        else:
            verb = _METHOD_VERBS.get(method, "")
        sub = res.subresource(target.subresource)
        allowed_verbs = sub.verbs if sub is not None else res.verbs
        if verb not in allowed_verbs:
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
        if res.namespaced and target.name and not target.namespace and res.stored:
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        asked = auth.Request(verb, res.group, res.plural, target.subresource, target.namespace, target.name)
        if not auth.allowed(user, asked):
            details = {"name": target.name, "group": res.group, "kind": res.plural}
            raise ApiError(403, "Forbidden", auth.forbidden_message(user, asked), details)
        handler = self._handler(target, verb)
        return await handler(request, user, target)

    def _handler(
        self, target: Target, verb: str
    ) -> Callable[[web.Request, str, Target], Awaitable[web.StreamResponse]]:
        res, sub = target.res, target.subresource
        if res.group == "authorization.k8s.io":
            return self._review
        if res.group == "metrics.k8s.io":
            return self._metrics
        if sub == "proxy":
            return self._proxy
        if sub == "log":
            return self._logs
        if sub == "exec":
            return self._exec
        if sub == "scale":
            return self._scale
        handlers: dict[str, Callable[[web.Request, str, Target], Awaitable[web.StreamResponse]]] = {
            "list": self._list,
            "watch": self._watch,
            "get": self._get,
            "create": self._create,
            "update": self._update,
            "patch": self._patch,
            "delete": self._delete,
        }
        if verb not in handlers:
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
        return handlers[verb]

    # --- reading --------------------------------------------------------------------------------

    def _predicate(self, request: web.Request, res: ResourceType) -> Callable[[Obj], bool] | None:
        """What a list or watch keeps of the objects, by its selectors; None: everything."""
        label_text, field_text = request.query.get("labelSelector", ""), request.query.get("fieldSelector", "")
        if not label_text.strip() and not field_text.strip():
            return None
        try:
            labels = parse_label_selector(label_text)
            fields = parse_field_selector(field_text, res.field_labels)
        except SelectorError as err:
            raise ApiError(400, "BadRequest", str(err)) from err
        return lambda obj: labels(obj["metadata"].get("labels") or {}) and fields(obj)

    def _stored(self, target: Target) -> Obj:
        obj = self.world.store.get(target.res.key, target.namespace, target.name)
        if obj is None:
            raise _not_found(target.res, target.name)
        return obj

    def _as_table(self, request: web.Request, res: ResourceType, found: list[Obj], **options: Any) -> Obj | None:
        """``found`` as a Table when the request's Accept header asks for one, else None."""
        version = tables.table_version(request.headers.get("Accept", ""))
        if not version:
            return None
        include = request.query.get("includeObject", "Metadata")
        return tables.table(res.kind, found, self.world.now(), version=version, include_object=include, **options)

    async def _get(self, request: web.Request, user: str, target: Target) -> web.StreamResponse:
        obj = self._stored(target)
        meta = {"resourceVersion": obj["metadata"].get("resourceVersion", "")}
        return _json(self._as_table(request, target.res, [obj], list_meta=meta) or obj)

    async def _list(self, request: web.Request, user: str, target: Target) -> web.StreamResponse:
        res = target.res
        predicate = self._predicate(request, res)
        store = self.world.store
        query = request.query
        what = (res.key, target.namespace, query.get("labelSelector", ""), query.get("fieldSelector", ""))

        def read() -> list[Obj]:
            listed = store.list(res.key, target.namespace or None)
            return listed if predicate is None else [obj for obj in listed if predicate(obj)]

        try:
            served = paging.page(what, read, query, store.resource_version, store.compacted_rv, self._listed)
        except paging.PageRefused as refused:
            raise ApiError(refused.code, refused.reason, refused.message) from None
        shown = self._as_table(request, res, served.items, list_meta=served.metadata)
        if shown is not None:
            return _json(shown)
        items = [{k: v for k, v in obj.items() if k not in ("kind", "apiVersion")} for obj in served.items]
        body = {"kind": res.list_kind, "apiVersion": res.group_version, "metadata": served.metadata, "items": items}
        return _json(body)

    async def _watch(self, request: web.Request, user: str, target: Target) -> web.StreamResponse:
        res, query, store = target.res, request.query, self.world.store
        predicate = self._predicate(request, res)
        namespace = target.namespace
        since_text = query.get("resourceVersion", "")
        initial = since_text in ("", "0") or _flag(query, "sendInitialEvents")
        if not initial and not since_text.isdigit():
            raise ApiError(400, "BadRequest", f"invalid resource version: {since_text!r}")
        bookmarks = _flag(query, "allowWatchBookmarks")
        timeout = float(query.get("timeoutSeconds", DEFAULT_WATCH_TIMEOUT_S))
        response = web.StreamResponse(headers={"Content-Type": JSON, "Cache-Control": "no-cache, private"})
        await response.prepare(request)
        started = time.monotonic()
        deadline = self.faults.watch_deadline(started, started + timeout)
        last_bookmark = started
        compactions = self.faults.compactions

        def matches(obj: Obj | None) -> bool:
            if obj is None:
                return False
            in_namespace = not namespace or obj["metadata"].get("namespace") == namespace
            return in_namespace and (predicate is None or predicate(obj))

        first_row = [True]

        async def send(event_type: str, obj: Obj) -> None:
            if event_type in ("ADDED", "MODIFIED", "DELETED"):
                if self.faults.watch_goes_silent():
                    raise _Silenced()
                meta = {"resourceVersion": obj["metadata"].get("resourceVersion", "")}
                shown = self._as_table(request, res, [obj], with_columns=first_row[0], list_meta=meta)
                if shown is not None:
                    obj, first_row[0] = shown, False
            await response.write(orjson.dumps({"type": event_type, "object": obj}) + b"\n")

        def bookmark(rv: int, initial_end: bool = False) -> Obj:
            meta: Obj = {"resourceVersion": str(rv)}
            if initial_end:
                meta["annotations"] = {"k8s.io/initial-events-end": "true"}
            return {"kind": res.kind, "apiVersion": res.group_version, "metadata": meta}

        try:
            if initial:
                since = store.resource_version
                for obj in store.list(res.key, namespace or None):
                    if predicate is None or predicate(obj):
                        await send("ADDED", obj)
                if _flag(query, "sendInitialEvents") and bookmarks:
                    await send("BOOKMARK", bookmark(since, initial_end=True))
            else:
                since = int(since_text)
            while True:
                changes = store.changes_since(since) if self.faults.compactions == compactions else None
                if changes is None:
                    message = f"too old resource version: {since} ({store.resource_version})"
                    await send("ERROR", status_body(410, "Expired", message))
                    break
                for change in changes:
                    if change.resource == res.key:
                        event_type = _watch_type(change, matches)
                        if event_type:
                            await send(event_type, change.obj)
                since = changes[-1].rv if changes else since
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                if bookmarks and time.monotonic() - last_bookmark >= self.bookmark_interval_s:
                    await send("BOOKMARK", bookmark(max(since, store.resource_version)))
                    since = max(since, store.resource_version)
                    last_bookmark = time.monotonic()
                await self.world.pulse.wait(min(left, self.bookmark_interval_s))
            await response.write_eof()
        except ConnectionResetError:
            pass  # the client went away
        except _Silenced:
            await _stay_silent(request, deadline)
        return response

    # --- writing --------------------------------------------------------------------------------

    async def _body(self, request: web.Request) -> Any:
        if request.content_type == protobuf.PROTOBUF:
            try:
                return protobuf.decode(await request.read())
            except protobuf.ProtobufError as err:
                raise ApiError(
                    415, "UnsupportedMediaType", f"the body of the request was in an unknown format: {err}"
                ) from err
        if request.content_type not in (JSON, "", "application/octet-stream"):
            raise ApiError(
                415,
                "UnsupportedMediaType",
                f"the body of the request was in an unknown format - accepted media types include: {JSON}",
            )
        raw = await request.read()
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as err:
            raise ApiError(400, "BadRequest", f"the body of the request was in an unknown format: {err}") from err

    def _check(self, res: ResourceType, obj: Obj, old: Obj | None) -> Obj:
        """Default and validate an object about to be written; raises 422 when invalid."""
        obj = apply_defaults(res.kind, obj)
        causes = validate(res.kind, obj, old)
        if causes:
            name = obj.get("metadata", {}).get("name", "")
            details = {
                "name": name,
                "group": res.group,
                "kind": res.kind,
                "causes": [{"reason": c.reason, "message": c.message, "field": c.field} for c in causes],
            }
            raise ApiError(422, "Invalid", invalid_message(res.kind, res.group, name, causes), details)
        return obj

    def _commit(self, request: web.Request, res: ResourceType, obj: Obj) -> Obj:
        """Store ``obj`` unless this is a dry run; returns what the client sees."""
        if request.query.get("dryRun") == "All":
            return obj
        stored = self.world.store.put(res.key, obj)
        self.world.react()
        return stored

    def _updated(self, res: ResourceType, old: Obj, new: Obj, status_only: bool) -> Obj:
        """``new`` as an update of ``old``: identity kept, status (or spec) kept, generation bumped."""
        if not isinstance(new, dict) or not isinstance(new.get("metadata"), dict):
            raise ApiError(400, "BadRequest", "the object has no metadata")
        meta = {**new["metadata"]}
        for key in ("name", "namespace", "uid", "creationTimestamp"):
            if key in old["metadata"]:
                meta[key] = old["metadata"][key]
            else:
                meta.pop(key, None)
        sent_rv = new["metadata"].get("resourceVersion")
        if sent_rv and sent_rv != old["metadata"].get("resourceVersion"):
            raise ApiError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {_qualified(res)} "{old["metadata"]["name"]}": the object has '
                "been modified; please apply your changes to the latest version and try again",
                {"name": old["metadata"]["name"], "group": res.group, "kind": res.plural},
            )
        meta["resourceVersion"] = old["metadata"].get("resourceVersion", "")
        result = {**new, "metadata": meta, "kind": res.kind, "apiVersion": res.group_version}
        if res.has_status:
            if status_only:
                result = {**old, "metadata": meta, "status": new.get("status", old.get("status"))}
            elif "status" in old:
                result["status"] = old["status"]
            else:
                result.pop("status", None)
        if "generation" in old["metadata"] and result.get("spec") != old.get("spec"):
            meta["generation"] = old["metadata"]["generation"] + 1
        return result

    async def _patch(self, request: web.Request, user: str, target: Target) -> web.StreamResponse:
        old = self._stored(target)
        patched = self._apply_patch(request, await request.read(), old)
        new = self._updated(target.res, old, patched, status_only=target.subresource == "status")
        new = self._check(target.res, new, old)
        return _json(self._commit(request, target.res, new))

    def _apply_patch(self, request: web.Request, raw: bytes, old: Obj) -> Any:
        kind = request.content_type
        if kind == patch.APPLY_PATCH:
            raise ApiError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format: {kind}")
        if kind not in (patch.JSON_PATCH, patch.MERGE_PATCH, patch.STRATEGIC_MERGE_PATCH):
            raise ApiError(
                415,
                "UnsupportedMediaType",
                f"the body of the request was in an unknown format - accepted media types include: "
                f"{patch.JSON_PATCH}, {patch.MERGE_PATCH}, {patch.STRATEGIC_MERGE_PATCH}",
            )
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as err:
            raise ApiError(400, "BadRequest", f"error decoding patch: {err}") from err
        try:
            if kind == patch.JSON_PATCH:
                return patch.json_patch(old, body)
            if kind == patch.MERGE_PATCH:
                return patch.merge_patch(old, body)
            return patch.strategic_merge_patch(old, body)
        except patch.PatchError as err:
            raise ApiError(422, "Invalid", str(err)) from err

    async def _update(self, request: web.Request, user: str, target: Target) -> web.StreamResponse:
        old = self._stored(target)
        body = await self._body(request)
        if not isinstance(body, dict) or (body.get("metadata") or {}).get("name") != target.name:
            raise ApiError(400, "BadRequest", "the name of the object does not match the name on the URL")
        new = self._updated(target.res, old, body, status_only=target.subresource == "status")
        new = self._check(target.res, new, old)
        return _json(self._commit(request, target.res, new))

    async def _create(self, request: web.Request, user: str, target: Target) -> web.StreamResponse:
        res = target.res
        body = await self._body(request)
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "the body of the request is not an object")
        meta = dict(body.get("metadata") or {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + "".join(
                self.world.rng.choice(objects.NAME_ALPHABET) for _ in range(5)
            )
        name = meta.get("name")
        if not name:
            raise ApiError(
                422,
                "Invalid",
                f'{res.kind} "" is invalid: metadata.name: Required value: name or generateName is required',
            )
        if res.namespaced:
            meta["namespace"] = target.namespace or meta.get("namespace") or "default"
        if self.world.store.get(res.key, meta.get("namespace", ""), name) is not None:
            details = {"name": name, "group": res.group, "kind": res.plural}
            raise ApiError(409, "AlreadyExists", f'{_qualified(res)} "{name}" already exists', details)
        meta |= {"uid": self.world.new_uid(), "creationTimestamp": objects.rfc3339(self.world.now())}
        meta.pop("resourceVersion", None)
        if "spec" in body and res.kind not in ("Pod", "PersistentVolumeClaim", "Namespace", "Service"):
            meta["generation"] = 1
        obj = {**body, "apiVersion": res.group_version, "kind": res.kind, "metadata": meta}
        if res.has_status and res.kind != "Pod":
            obj.setdefault("status", {})
        obj = self._check(res, obj, None)
        if request.query.get("dryRun") == "All":
            return _json(obj, 201)
        if res.kind == "Pod":
            pod = objects.pod(name, meta["namespace"], self.world.now(), meta["uid"], obj, None)
            stored = self.world.store.put("pods", {**pod, "metadata": {**pod["metadata"], **meta}})
            self.world.kubelet.adopt(stored)
        elif res.kind == "PersistentVolumeClaim":
            stored = self._provision(obj)
        else:
            stored = self.world.store.put(res.key, obj)
        self.world.react()
        return _json(self.world.store.get(res.key, meta.get("namespace", ""), name) or stored, 201)

    def _provision(self, claim: Obj) -> Obj:
        """Dynamic provisioning: a new claim is bound at once to a volume of the requested size."""
        spec = {"volumeMode": "Filesystem", "storageClassName": "cephfs", **claim["spec"]}
        spec["volumeName"] = f"pvc-{claim['metadata']['uid']}"
        size = spec["resources"]["requests"]["storage"]
        status = {"phase": "Bound", "accessModes": list(spec.get("accessModes") or []), "capacity": {"storage": size}}
        stored = self.world.store.put("persistentvolumeclaims", {**claim, "spec": spec, "status": status})
        volume = objects.persistent_volume(stored, self.world.now(), self.world.new_uid())
        self.world.store.put("persistentvolumes", volume)
        self.world.record_event(
            stored,
            "Normal",
            "ProvisioningSucceeded",
            f"Successfully provisioned volume {spec['volumeName']}",
            "cephfs.csi.ceph.com",
        )
        return stored

    async def _delete(self, request: web.Request, user: str, target: Target) -> web.StreamResponse:
        res = target.res
        obj = self._stored(target)
        if request.query.get("dryRun") == "All":
            return _json(obj)
        grace = request.query.get("gracePeriodSeconds")
        if request.can_read_body:
            options = await self._body(request)
            if isinstance(options, dict) and options.get("gracePeriodSeconds") is not None:
                grace = str(options["gracePeriodSeconds"])
        if res.kind == "Pod":
            self.world.delete_pod(target.namespace, target.name, float(grace) if grace is not None else None)
            self.world.react()
            return _json(self.world.store.get("pods", target.namespace, target.name) or obj)
        gone = self.world.store.delete(res.key, target.namespace, target.name)
        self.world.controllers.garbage = True
        self.world.react()
        return _json(gone or obj)

    # --- subresources ---------------------------------------------------------------------------

    async def _scale(self, request: web.Request, user: str, target: Target) -> web.StreamResponse:
        old = self._stored(target)
        if request.method == "GET":
            return _json(objects.scale(old))
        current = objects.scale(old)
        if request.method == "PATCH":
            wanted = self._apply_patch(request, await request.read(), current)
        else:
            wanted = await self._body(request)
        if not isinstance(wanted, dict):
            raise ApiError(400, "BadRequest", "the body of the request is not a Scale")
        sent_rv = (wanted.get("metadata") or {}).get("resourceVersion")
        replicas = (wanted.get("spec") or {}).get("replicas", 0)
        if not isinstance(replicas, int) or replicas < 0:
            causes = [
                {
                    "reason": "FieldValueInvalid",
                    "message": f"Invalid value: {replicas}: must be greater than or equal to 0",
                    "field": "spec.replicas",
                }
            ]
            raise ApiError(
                422,
                "Invalid",
                f'Scale.autoscaling "{target.name}" is invalid: spec.replicas: Invalid value: {replicas}: '
                "must be greater than or equal to 0",
                {"name": target.name, "group": "autoscaling", "kind": "Scale", "causes": causes},
            )
        new = clone(old)
        new["spec"]["replicas"] = replicas
        if sent_rv:
            new["metadata"]["resourceVersion"] = sent_rv
        new = self._updated(target.res, old, new, status_only=False)
        return _json(objects.scale(self._commit(request, target.res, new)))

    async def _logs(self, request: web.Request, user: str, target: Target) -> web.StreamResponse:
        pod = self._stored(target)
        query = request.query
        containers = [c["name"] for c in pod["spec"].get("containers") or []]
        default = (pod["metadata"].get("annotations") or {}).get(objects.DEFAULT_CONTAINER)
        name = query.get("container") or (default if default in containers else containers[0])
        run = self.world.kubelet.runs.get((target.namespace, target.name))
        if name not in containers or run is None:
            raise ApiError(400, "BadRequest", f"container {name} is not valid for pod {target.name}")
        c = next(c for c in run.containers if c.name == name)
        previous = _flag(query, "previous")
        if previous:
            log = c.log if c.state != "running" else c.previous_log
            if c.last_terminated is None or log is None:
                raise ApiError(
                    400, "BadRequest", f'previous terminated container "{name}" in pod "{target.name}" not found'
                )
        elif c.started_at is None:
            reason = c.reason or "ContainerCreating"
            raise ApiError(
                400, "BadRequest", f'container "{name}" in pod "{target.name}" is waiting to start: {reason}'
            )
        else:
            log = c.log
        lines = list(log.lines)
        now = self.world.now()
        if "sinceSeconds" in query:
            lines = [line for line in lines if line[0] >= now - float(query["sinceSeconds"])]
        elif "sinceTime" in query:
            since = objects.parse_time(query["sinceTime"])
            lines = [line for line in lines if line[0] >= since]
        if "tailLines" in query:
            tail = int(query["tailLines"])
            lines = lines[-tail:] if tail > 0 else []
        stamps = _flag(query, "timestamps")
        limit = int(query["limitBytes"]) if "limitBytes" in query else None

        def render(chunk: list[tuple[float, str]]) -> bytes:
            return "".join(
                f"{objects.rfc3339_nano(t)} {text}\n" if stamps else f"{text}\n" for t, text in chunk
            ).encode()

        body = render(lines)
        if limit is not None:
            body = body[:limit]
        if not _flag(query, "follow") or previous:
            return web.Response(body=body, content_type="text/plain")
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await response.prepare(request)
        sent = len(body)
        written, epoch = log.written, c.epoch
        with contextlib.suppress(ConnectionResetError):  # the client went away
            await response.write(body)
            while limit is None or sent < limit:
                fresh = log.since(written)
                written = log.written
                if fresh:
                    chunk = render(fresh)
                    if limit is not None:
                        chunk = chunk[: limit - sent]
                    sent += len(chunk)
                    await response.write(chunk)
                ended = c.epoch != epoch or c.state != "running" or self.world.kubelet.runs.get(run.key) is not run
                if ended:
                    break
                await self.world.pulse.wait(self.bookmark_interval_s)
            await response.write_eof()
        return response

    async def _exec(self, request: web.Request, user: str, target: Target) -> web.StreamResponse:
        try:
            return await serve_exec(request, self.world, target.namespace, target.name)
        except ExecRefused as refused:
            return refusal_response(refused)

    async def _proxy(self, request: web.Request, user: str, target: Target) -> web.StreamResponse:
        scheme_name_port = target.name.split(":")
        if len(scheme_name_port) == 3:
            _, name, port_text = scheme_name_port
        elif len(scheme_name_port) == 2 and scheme_name_port[0] in ("http", "https"):
            name, port_text = scheme_name_port[1], ""
        else:
            name, port_text = scheme_name_port[0], scheme_name_port[1] if len(scheme_name_port) > 1 else ""
        if target.res.kind == "Node":
            return self._kubelet(target.res, name, target.rest)
        if target.res.kind == "Service":
            service = self.world.store.get("services", target.namespace, name)
            if service is None:
                raise _not_found(target.res, name)
            port = self._service_port(service, port_text)
            ready = self.world.ready_backends(service)
            if port is None or not ready:
                raise ApiError(503, "ServiceUnavailable", f'no endpoints available for service "{target.name}"')
            run = ready[next(self._round_robin) % len(ready)]
        else:
            pod = self.world.store.get("pods", target.namespace, name)
            found = self.world.kubelet.runs.get((target.namespace, name))
            if pod is None or found is None:
                raise _not_found(target.res, name)
            run = found
            declared = [p["containerPort"] for c in pod["spec"]["containers"] for p in c.get("ports") or []]
            port = int(port_text) if port_text.isdigit() else (declared[0] if declared else 80)
        server = (
            self.world.pod_server(run.namespace, run.app, run.node or "")
            if target.res.kind == "Pod"
            else self.world.http_server(run.namespace, run.app, run.node or "")
        )
        refused = self.faults.unreachable(run.app)  # the fault plan's flapping
        if refused or server is None or run.phase != "Running" or not any(c.state == "running" for c in run.containers):
            raise ApiError(
                503,
                "ServiceUnavailable",
                f"error trying to reach service: dial tcp {run.ip or '0.0.0.0'}:{port}: connect: connection refused",
            )
        body = await request.read()
        delay = self.faults.answer_delay(run.app)  # the fault plan's slow Prometheus
        if delay:
            await asyncio.sleep(delay)
        reply = await server.handle(request.method, port, target.rest, dict(request.query), body)
        return web.Response(body=reply.body, status=reply.status, headers={"Content-Type": reply.content_type})

    def _kubelet(self, res: ResourceType, name: str, path: str) -> web.Response:
        """The node proxy reaches the node's kubelet; it serves its summary API."""
        node = self.world.store.get("nodes", "", name)
        if node is None:
            raise _not_found(res, name)
        if path.rstrip("/") != "/stats/summary":
            return web.Response(status=404, text="404 page not found\n")
        return _json(node_summary(self.world, node))

    @staticmethod
    def _service_port(service: Obj, wanted: str) -> int | None:
        ports = service["spec"].get("ports") or []
        if not ports:
            return None
        if not wanted:
            return int(ports[0]["targetPort"])
        for port in ports:
            if wanted in (port.get("name"), str(port["port"])):
                return int(port["targetPort"])
        return None

    # --- metrics.k8s.io and authorization.k8s.io ------------------------------------------------

    async def _metrics(self, request: web.Request, user: str, target: Target) -> web.StreamResponse:
        res = target.res
        if res.kind == "PodMetrics":
            found = self.world.pod_metrics(target.namespace or None)
        else:
            found = self.world.node_metrics()
        if target.name:
            match = next((m for m in found if m["metadata"]["name"] == target.name), None)
            if match is None:
                raise _not_found(res, target.name)
            return _json(match)
        predicate = self._predicate(request, res)
        items = found if predicate is None else [m for m in found if predicate(m)]
        return _json({"kind": res.list_kind, "apiVersion": res.group_version, "metadata": {}, "items": items})

    async def _review(self, request: web.Request, user: str, target: Target) -> web.StreamResponse:
        body = await self._body(request)
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "the body of the request is not a review")
        if target.res.kind == "SelfSubjectAccessReview":
            return _json(auth.access_review(user, body), 201)
        return _json(auth.rules_review(user, body), 201)


class _Silenced(Exception):
    """The fault plan's watch-drop: the watch sends nothing more."""


async def _stay_silent(request: web.Request, deadline: float) -> None:
    """Hold a silenced watch open, sending nothing, until its deadline or until its client goes away."""
    while time.monotonic() < deadline:
        transport = request.transport
        if transport is None or transport.is_closing():
            return
        await asyncio.sleep(min(SILENT_WATCH_CHECK_S, max(0.0, deadline - time.monotonic())))


def _watch_type(change: Change, matches: Callable[[Obj | None], bool]) -> str:
    """How a change shows in a filtered watch: an object leaving the filter is DELETED, entering ADDED."""
    now_in = matches(change.obj) and change.type != "DELETED"
    was_in = matches(change.old)
    if change.type == "DELETED":
        return "DELETED" if was_in else ""
    if now_in and was_in:
        return "MODIFIED"
    if now_in:
        return "ADDED"
    return "DELETED" if was_in else ""
