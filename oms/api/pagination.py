from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

from oms.errors import ValidationFailed


class StableCursorPagination(CursorPagination):
    """Cursor pagination on a unique, immutable ordering (newest first by id) so pages never skip or repeat."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def decode_cursor(self, request):
        # A cursor the client altered is a bad parameter (400 naming it), not a missing resource (DRF's 404).
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationFailed(errors={self.cursor_query_param: [
                "Invalid cursor: use the `next` or `previous` link of a page as it was given."]}) from None
