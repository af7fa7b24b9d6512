from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

from oms.digits import ascii_digits, whole_number
from oms.errors import ValidationFailed


class StableCursorPagination(CursorPagination):
    """Cursor pagination on a unique, immutable ordering (newest first by id) so pages never skip or repeat."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    cursor_query_description = "Where the page starts: the `next` or `previous` link of a page, as it was given."
    page_size_query_description = f"How many items a page holds, 1 to {max_page_size} (default {page_size})."

    def get_page_size(self, request):
        # A page size that is no whole number in range is a bad parameter (400 naming it), not silently the default.
        given = request.query_params.get(self.page_size_query_param)
        if given is None:
            return self.page_size
        size = whole_number(given, max_digits=4)
        if size is None or not 1 <= size <= self.max_page_size:
            raise ValidationFailed(
                errors={self.page_size_query_param: [f"Give a whole number from 1 to {self.max_page_size}."]}
            )
        return size

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters

    def get_paginated_response_schema(self, schema):
        paginated = super().get_paginated_response_schema(schema)
        paginated["required"] = ["next", "previous", "results"]
        return paginated

    def decode_cursor(self, request):
        # A cursor the client altered is a bad parameter (400 naming it), not a missing resource (DRF's 404), nor
        # a position that is no id (which would fail in the query, as a 500).
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            cursor = False
        if cursor is False or (cursor is not None and cursor.position is not None and not _is_id(cursor.position)):
            raise ValidationFailed(
                errors={
                    self.cursor_query_param: [
                        "Invalid cursor: use the `next` or `previous` link of a page as it was given."
                    ]
                }
            )
        return cursor


def _is_id(position) -> bool:
    return ascii_digits(str(position))
