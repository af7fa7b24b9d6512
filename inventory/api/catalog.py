"""Products: GET/POST /api/v1/products/, GET/PATCH /api/v1/products/{sku}/, POST /api/v1/products/bulk/."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory import selectors, services
from inventory.filters import ProductFilter
from oms.actors import actor_from_request
from oms.api.common import filter_parameters, filtered, paginated
from oms.api.fields import StrictInput, barcode_field, sku_field
from oms.api.idempotency import idempotent
from oms.api.scope import scope_of


class ProductIn(StrictInput, serializers.Serializer):
    sku = sku_field()
    name = serializers.CharField(max_length=255)
    barcode = barcode_field(required=False, default="")
    active = serializers.BooleanField(required=False, default=True)
    weight_grams = serializers.IntegerField(
        min_value=0, max_value=10_000_000, required=False, allow_null=True, default=None
    )
    attributes = serializers.DictField(required=False, default=dict)
    tracks_lots = serializers.BooleanField(required=False, default=False)
    returnable = serializers.BooleanField(
        required=False, default=True, help_text="false: its units are never accepted back in a return"
    )


class ProductPatchIn(StrictInput, serializers.Serializer):
    """Every field optional; the SKU is the product's address and never changes."""

    name = serializers.CharField(max_length=255, required=False)
    barcode = barcode_field(required=False)
    active = serializers.BooleanField(required=False)
    weight_grams = serializers.IntegerField(min_value=0, max_value=10_000_000, required=False, allow_null=True)
    attributes = serializers.DictField(required=False)
    tracks_lots = serializers.BooleanField(required=False)
    returnable = serializers.BooleanField(required=False)


class ProductRowIn(ProductPatchIn):
    sku = sku_field()


class ProductBulkIn(StrictInput, serializers.Serializer):
    products = serializers.ListField(
        child=serializers.JSONField(allow_null=True),  # a row that is no product is rejected on its own
        allow_empty=False,
        max_length=services.MAX_BULK_ROWS,
        help_text="Products as for POST products/ (sku, name, barcode, ...), each checked on its own: a bad one is "
        "rejected in `results` without stopping the others.",
    )


class ProductOut(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    barcode = serializers.CharField()
    active = serializers.BooleanField()
    weight_grams = serializers.IntegerField(allow_null=True)
    attributes = serializers.DictField()
    tracks_lots = serializers.BooleanField()
    returnable = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ProductRowResultOut(serializers.Serializer):
    index = serializers.IntegerField()
    sku = serializers.CharField()
    status = serializers.ChoiceField(choices=["created", "updated", "unchanged", "rejected"])
    errors = serializers.DictField()


class ProductBulkResultOut(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rejected = serializers.IntegerField()
    results = ProductRowResultOut(many=True)


class ProductListCreate(APIView):
    access = "catalog"

    @extend_schema(parameters=filter_parameters(ProductFilter), responses=ProductOut(many=True))
    def get(self, request):
        queryset = filtered(ProductFilter, request, selectors.product_list(tenant=request.tenant))
        return paginated(self, request, queryset, ProductOut)

    @extend_schema(request=ProductIn, responses={201: ProductOut})
    @idempotent
    def post(self, request):
        scope_of(request).forbid_channel_key("change the catalog")
        data = ProductIn(data=request.data)
        data.is_valid(raise_exception=True)
        product = services.create_product(
            tenant=request.tenant, actor=actor_from_request(request), **data.validated_data
        )
        return Response(ProductOut(product).data, status=201, headers={"Location": f"{request.path}{product.sku}/"})


class ProductDetail(APIView):
    access = "catalog"

    @extend_schema(responses=ProductOut)
    def get(self, request, sku: str):
        return Response(ProductOut(services.product_by_sku(tenant=request.tenant, sku=sku)).data)

    @extend_schema(request=ProductPatchIn, responses=ProductOut)
    def patch(self, request, sku: str):
        scope_of(request).forbid_channel_key("change the catalog")
        services.product_by_sku(tenant=request.tenant, sku=sku)  # 404 before any body is read
        data = ProductPatchIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        product = services.update_product(
            tenant=request.tenant, actor=actor_from_request(request), sku=sku, changes=data.validated_data
        )
        return Response(ProductOut(product).data)


class ProductBulkUpsert(APIView):
    """Create or update up to 1000 products by SKU; each row is answered (created, updated, unchanged or
    rejected with its errors) and the valid rows are applied even when others are rejected."""

    access = "catalog"

    @extend_schema(request=ProductBulkIn, responses=ProductBulkResultOut)
    @idempotent
    def post(self, request):
        scope_of(request).forbid_channel_key("change the catalog")
        data = ProductBulkIn(data=request.data)
        data.is_valid(raise_exception=True)
        rows, rejected = [], []
        for index, raw in enumerate(data.validated_data["products"]):
            if not isinstance(raw, dict):
                rejected.append(services.RowResult(index, "", "rejected", {"non_field_errors": ["Give an object."]}))
                continue
            row = ProductRowIn(data=raw, partial=True)
            if not row.is_valid():
                errors = {k: [str(m) for m in v] for k, v in row.errors.items()}
                if "sku" not in raw:
                    errors.setdefault("sku", ["This field is required."])
                rejected.append(services.RowResult(index, str(raw.get("sku", ""))[:64], "rejected", errors))
                continue
            if "sku" not in row.validated_data:
                rejected.append(services.RowResult(index, "", "rejected", {"sku": ["This field is required."]}))
                continue
            rows.append({"index": index, **row.validated_data})
        results = services.upsert_products(
            tenant=request.tenant, actor=actor_from_request(request), rows=rows, rejected=rejected
        )
        counts = {
            status: sum(1 for r in results if r.status == status)
            for status in ("created", "updated", "unchanged", "rejected")
        }
        body = {
            **counts,
            "results": [{"index": r.index, "sku": r.sku, "status": r.status, "errors": r.errors} for r in results],
        }
        return Response(ProductBulkResultOut(body).data, status=200)
