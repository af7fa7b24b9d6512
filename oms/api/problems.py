"""Every API error as application/problem+json (RFC 9457), with per-field `errors` for validation."""

import logging

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from oms.errors import DomainError

log = logging.getLogger("oms.api")
PROBLEM_CONTENT_TYPE = "application/problem+json"

_TITLES = {
    400: "Invalid input",
    401: "Authentication required",
    403: "Permission denied",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    429: "Too many requests",
    500: "Internal error",
}
_CODES = {
    400: "validation_error",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "throttled",
    500: "internal_error",
}


def problem_body(status_code: int, detail: str, *, request=None, code: str | None = None, **extra) -> dict:
    body = {
        "type": f"https://oms.dev/problems/{code or _CODES.get(status_code, 'error')}",
        "title": _TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
        "code": code or _CODES.get(status_code, "error"),
    }
    body.update(extra)
    request_id = getattr(request, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    return body


def flatten_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """Validation messages, flat and keyed by path: `{"lines[1].quantity": ["..."]}`.

    The one shape of `errors` in every 400 of the API, whatever produced it (a DRF serializer's nested errors, a
    service's ValidationFailed, a filter set): a client finds each message under the JSON path of the value it is
    about. Errors about an object as a whole go under its own path (`lines[1]`), or `non_field_errors` at the top.
    """
    out: dict[str, list[str]] = {}

    def add(name: str, messages: list[str]) -> None:
        out.setdefault(name or "non_field_errors", []).extend(messages)

    if isinstance(detail, dict):
        for key, value in detail.items():
            if key == "non_field_errors":
                name = prefix
            elif isinstance(key, int):
                name = f"{prefix}[{key}]"
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            for sub, messages in flatten_errors(value, name).items():
                add(sub, messages)
    elif isinstance(detail, (list, tuple)):
        if all(not isinstance(item, (dict, list, tuple)) for item in detail):
            add(prefix, [str(item) for item in detail])
        else:
            for index, item in enumerate(detail):
                if item:
                    for sub, messages in flatten_errors(item, f"{prefix}[{index}]").items():
                        add(sub, messages)
    else:
        add(prefix, [str(detail)])
    return out


def problem_exception_handler(exc, context):
    request = context.get("request")
    headers = {}
    set_rollback()
    if isinstance(exc, DomainError):
        body = exc.problem()
        if "errors" in body:
            body["errors"] = flatten_errors(body["errors"])
        if getattr(request, "request_id", None):
            body["request_id"] = request.request_id
        if "retry_after" in exc.extra:
            headers["Retry-After"] = str(exc.extra["retry_after"])
        return Response(body, status=exc.status, headers=headers, content_type=PROBLEM_CONTENT_TYPE)
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response(
            problem_body(413, f"The request body is larger than {limit} bytes.", request=request, max_bytes=limit),
            status=413,
            content_type=PROBLEM_CONTENT_TYPE,
        )
    if isinstance(exc, (Http404, ObjectDoesNotExist)):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.APIException):
        code = exc.status_code
        if isinstance(exc, exceptions.ValidationError):
            errors = flatten_errors(exc.detail)
            body = problem_body(400, "One or more fields are invalid.", request=request, errors=errors)
        elif isinstance(exc, exceptions.ParseError):
            body = problem_body(
                400,
                "The request body could not be parsed.",
                request=request,
                code="parse_error",
                errors={"body": [str(exc.detail)]},
            )
        else:
            body = problem_body(code, str(exc.detail), request=request)
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None) is not None:
            headers["Retry-After"] = str(max(int(exc.wait + 0.999), 1))
        if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
            headers.setdefault("WWW-Authenticate", 'Bearer realm="oms"')
        return Response(body, status=code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)
    log.exception("unhandled API error", extra={"request_id": getattr(request, "request_id", None)})
    return Response(
        problem_body(500, "An unexpected error occurred; it has been logged.", request=request),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        content_type=PROBLEM_CONTENT_TYPE,
    )


@csrf_exempt
def api_not_found(request, exception=None):
    """404 for unknown /api/ paths, as problem+json (naming the path with a trailing slash when that exists).

    CSRF-exempt: it changes nothing, and a POST with an API key to a path missing its slash must get this answer,
    not the CSRF failure page."""
    detail = "No such resource."
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            detail = f"No such resource. Did you mean {request.path}/ ?"
    return JsonResponse(problem_body(404, detail, request=request), status=404, content_type=PROBLEM_CONTENT_TYPE)
