from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

from oms.digits import ascii_digits
from oms.errors import ValidationFailed


class StableCursorPagination(CursorPagination):
    """Cursor pagination on a unique, immutable ordering (newest first by id) so pages never skip or repeat."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

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
