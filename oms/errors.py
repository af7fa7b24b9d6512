"""Domain exceptions. Services raise these; one handler turns them into problem+json (RFC 9457)."""


class DomainError(Exception):
    status = 400
    code = "error"
    title = "Request could not be processed"

    def __init__(self, detail: str = "", **extra):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra

    def problem(self) -> dict:
        """The problem body: the standard members always win over an `extra` of the same name (an extra named
        `code` or `status` would otherwise misstate the problem)."""
        return {
            **self.extra,
            "type": f"https://oms.dev/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }


class ValidationFailed(DomainError):
    """Bad input; `errors` maps each field to its messages."""

    status = 400
    code = "validation_error"
    title = "Invalid input"

    def __init__(self, detail: str = "", errors: dict | None = None, **extra):
        super().__init__(detail or "One or more fields are invalid.", errors=errors or {}, **extra)


class NotFound(DomainError):
    status = 404
    code = "not_found"
    title = "Not found"


class PermissionDenied(DomainError):
    status = 403
    code = "permission_denied"
    title = "Permission denied"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "Conflict"


class IllegalTransition(Conflict):
    code = "illegal_transition"
    title = "Illegal status transition"

    def __init__(self, detail: str = "", *, current: str = "", requested: str = "", **extra):
        super().__init__(
            detail or f"Cannot go from {current} to {requested}.", current=current, requested=requested, **extra
        )


class StaleVersion(Conflict):
    code = "stale_version"
    title = "The object was changed by someone else"


class InsufficientStock(Conflict):
    """`lines` lists, per short line, the SKU, what was requested and what is available."""

    code = "insufficient_stock"
    title = "Insufficient stock"

    def __init__(self, detail: str = "", *, lines: list[dict], **extra):
        super().__init__(detail or "Some lines cannot be reserved.", lines=lines, **extra)


class ReservationOwnedByOrder(Conflict):
    """A reservation held for an order line changes only through the order (`order_id`, `order_number`)."""

    code = "reservation_owned_by_order"
    title = "The reservation belongs to an order"


class IdempotencyMismatch(DomainError):
    status = 422
    code = "idempotency_key_reused"
    title = "Idempotency-Key reused with another request"


class IdempotencyInFlight(Conflict):
    code = "idempotency_in_flight"
    title = "A request with this Idempotency-Key is still being processed"
