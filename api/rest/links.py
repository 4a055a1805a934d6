"""OpenAPI links: from the answer that creates an object to every operation that takes the new object's id.

A ``201`` at ``P`` creates the object whose own routes are ``P/{param}…``. Its links pass the new id (the
answer's ``id``, or its property named like the parameter, as a key's ``prefix``) to every operation with
``{param}`` in its path or ``param`` at the top of its JSON body, and hand on the creating request's path
parameters where the target has them too. Clients read them as "what can I do with what I just made"; the
stateful Schemathesis phase follows them to chain create → act → read. They are derived from the routes, so a
new route is linked as soon as it takes an id.
"""

from __future__ import annotations

import re
from typing import Any

ALIASES = {"provider_id": ("issuer_id", "institution_id")}
"""Other parameters that take the id of what a 201 creates: a provider is also an issuer and an institution."""

JSON = "application/json"


def link_created_objects(description: dict[str, Any]) -> dict[str, Any]:
    """Add ``links`` to every 201 response in an OpenAPI description (in place; returned for chaining)."""
    paths: dict[str, dict[str, Any]] = description["paths"]
    schemas: dict[str, Any] = description.get("components", {}).get("schemas", {})
    operations = [(path, operation) for path, methods in paths.items() for operation in methods.values()]
    for path, operation in operations:
        created = operation["responses"].get("201")
        param = _item_parameter(paths, path)
        if created is None or param is None:
            continue
        answer = _properties(created.get("content", {}).get(JSON, {}).get("schema"), schemas)
        field = "id" if "id" in answer else param if param in answer else None
        if field is None:
            continue
        links = {
            target["operationId"]: link
            for name in (param, *ALIASES.get(param, ()))
            for target_path, target in operations
            if target is not operation
            and (link := _link(name, f"$response.body#/{field}", path, target_path, target, schemas))
        }
        if links:
            created["links"] = links
    return description


def _item_parameter(paths: dict[str, Any], collection: str) -> str | None:
    """The parameter naming one object of a collection: ``credential_id`` for ``/v1/credentials``."""
    for path in paths:
        if match := re.match(re.escape(collection) + r"/\{(\w+)\}", path):
            return match.group(1)
    return None


def _link(
    name: str, value: str, source_path: str, target_path: str, target: dict[str, Any], schemas: dict[str, Any]
) -> dict[str, Any] | None:
    """A link passing ``value`` as ``name`` to ``target`` (in its path or its body), or None if it takes none."""
    in_path = re.findall(r"\{(\w+)\}", target_path)
    shared = {f"path.{p}": f"$request.path.{p}" for p in in_path if p != name and f"{{{p}}}" in source_path}
    link: dict[str, Any] = {"operationId": target["operationId"], "description": f"The new object's id as `{name}`"}
    if name in in_path:
        link["parameters"] = {f"path.{name}": value, **shared}
    elif name in _properties(target.get("requestBody", {}).get("content", {}).get(JSON, {}).get("schema"), schemas):
        link["requestBody"] = {name: value}
        if shared:
            link["parameters"] = shared
    else:
        return None
    return link


def _properties(schema: dict[str, Any] | None, schemas: dict[str, Any]) -> dict[str, Any]:
    """The top-level properties of a schema, through ``$ref`` and an optional body's ``anyOf: [X, null]``."""
    if not schema:
        return {}
    if "$ref" in schema:
        return _properties(schemas.get(schema["$ref"].rsplit("/", 1)[-1]), schemas)
    for option in schema.get("anyOf", ()):
        if found := _properties(option, schemas):
            return found
    return schema.get("properties", {})
