"""The one seam where the API steps around part of DRF's serializer machinery, for the hot paths.

DRF deep-copies every declared field of a serializer, nested serializers included, for every serializer instance.
For an order (a dozen nested serializers, a line serializer per line) that copy cost about half of the CPU of
parsing it and of answering with it. `SharedFieldsSerializer` takes DRF's own copy once per class, through the
public `get_fields()`, and gives each instance shallow copies of those prototypes, bound afresh: validators,
choices and messages are shared and only ever read; binding (parent, field name) is per instance.

tests/orders/test_shared_fields_serializer.py holds it to DRF's behaviour: the same answers, the same parsed data,
the same errors, and no mixing between threads.
"""

import copy

from rest_framework import serializers


def _unbound_copy(field):
    """A shallow copy of a prototype field, with no bound sub-fields of its own yet. A list serializer gets its
    own copy of its child, bound to it, so that every copy has its own parent chain."""
    clone = copy.copy(field)
    clone.__dict__.pop("fields", None)  # the cached sub-fields of a nested serializer: rebuilt for this copy
    if isinstance(field, serializers.ListSerializer):
        clone.child = _unbound_copy(field.child)
        clone.child.parent = clone  # already bound by DRF (field name, source): only the parent is its own
    return clone


# A comment rather than a docstring: the OpenAPI schema would describe every subclass with it.
# Serializer whose fields are built once per class (see the module docstring).
class SharedFieldsSerializer(serializers.Serializer):
    def get_fields(self):
        prototypes = type(self).__dict__.get("_shared_prototypes")
        if prototypes is None:
            prototypes = super().get_fields()
            type(self)._shared_prototypes = prototypes
        return {name: _unbound_copy(field) for name, field in prototypes.items()}
