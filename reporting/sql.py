"""The statements that rebuild the KPI tables of one tenant for a range of days, set-based: each reads the source
rows of the range once and writes every row of its table for the range. Parameters: `tenant`, `tz` (the tenant's
time zone), `start` and `end` (the instants the first day begins and the day after the last begins), `first` and
`last` (the days themselves), plus what a statement names on top."""

# The orders placed in the range, one row per order (no location) and one per order and fulfilment location,
# then grouped by (day, channel, location).
ORDER_DAYS = """
WITH o AS (
    SELECT o.id, o.channel_id, (o.placed_at AT TIME ZONE %(tz)s)::date AS day, o.placed_at, o.total, o.status,
           o.delivered_on_time, o.delivery_method
    FROM orders_order o
    WHERE o.tenant_id = %(tenant)s AND o.placed_at >= %(start)s AND o.placed_at < %(end)s
),
l AS (
    SELECT ol.order_id, SUM(ol.quantity) AS q, SUM(ol.quantity_shipped) AS s, SUM(ol.quantity_cancelled) AS c,
           SUM(ol.quantity_returned) AS r, SUM(ol.quantity_delivered) AS d, SUM(ol.quantity_backordered) AS b
    FROM orders_orderline ol JOIN o ON o.id = ol.order_id
    WHERE ol.tenant_id = %(tenant)s
    GROUP BY ol.order_id
),
e AS (
    SELECT ev.order_id,
           MIN(ev.at) FILTER (WHERE ev.kind = 'shipped') AS shipped,
           MIN(ev.at) FILTER (WHERE ev.kind = 'ready_for_pickup') AS ready,
           MIN(ev.at) FILTER (WHERE ev.kind = 'collected') AS collected,
           MAX(ev.at) FILTER (WHERE ev.kind IN ('delivered', 'collected')) AS received,
           BOOL_OR(ev.kind IN ('rerouted', 'rejected')) AS rerouted,
           BOOL_OR(ev.kind = 'backorder_allocated' OR ev.after ->> 'status' = 'backordered') AS backordered
    FROM orders_orderevent ev JOIN o ON o.id = ev.order_id
    WHERE ev.tenant_id = %(tenant)s
    GROUP BY ev.order_id
),
f AS (
    SELECT fo.order_id,
           COUNT(*) AS n,
           COUNT(*) FILTER (WHERE fo.status = 'rejected') AS rejected,
           COUNT(DISTINCT fo.location_id) FILTER (WHERE fo.status NOT IN ('rejected', 'cancelled')) AS places
    FROM fulfillment_fulfillmentorder fo JOIN o ON o.id = fo.order_id
    WHERE fo.tenant_id = %(tenant)s
    GROUP BY fo.order_id
),
rf AS (
    SELECT r.order_id, SUM(r.amount) AS amount
    FROM returns_refund r JOIN o ON o.id = r.order_id
    WHERE r.tenant_id = %(tenant)s
    GROUP BY r.order_id
),
fb AS (
    SELECT fb.order_id, fb.score FROM orders_feedback fb JOIN o ON o.id = fb.order_id WHERE fb.tenant_id = %(tenant)s
),
-- Each order with its facts, as the order-wide rows count it.
facts AS (
    SELECT o.*, l.q, l.s, l.r, COALESCE(f.n, 0) AS fos, COALESCE(f.rejected, 0) AS fos_rejected,
           COALESCE(f.places, 0) AS places, COALESCE(e.rerouted, FALSE) AS rerouted,
           COALESCE(e.backordered, FALSE) OR l.b > 0 AS backordered,
           l.s > 0 AND l.s = l.q AND NOT COALESCE(e.rerouted, FALSE) AND NOT COALESCE(e.backordered, FALSE)
               AND l.b = 0 AS first_time,
           o.delivery_method <> 'in_store' AND l.d > 0 AND l.d = l.s AND l.s = l.q - l.c AS received,
           e.shipped, e.ready, e.collected, e.received AS received_at,
           COALESCE(rf.amount, 0) AS refund, fb.score
    FROM o JOIN l ON l.order_id = o.id
    LEFT JOIN e ON e.order_id = o.id
    LEFT JOIN f ON f.order_id = o.id
    LEFT JOIN rf ON rf.order_id = o.id
    LEFT JOIN fb ON fb.order_id = o.id
),
-- An order's part at each location: its units there, its first shipment from there, its pickup there.
parts AS (
    SELECT fo.order_id, fo.location_id,
           COUNT(*) AS fos, COUNT(*) FILTER (WHERE fo.status = 'rejected') AS fos_rejected,
           MIN(fo.ready_at) AS ready,
           MIN(fo.closed_at) FILTER (WHERE fo.status = 'collected') AS collected,
           MIN(sh.first_shipped) AS shipped
    FROM fulfillment_fulfillmentorder fo JOIN o ON o.id = fo.order_id
    LEFT JOIN (SELECT fulfillment_id, MIN(shipped_at) AS first_shipped FROM fulfillment_shipment
               WHERE tenant_id = %(tenant)s GROUP BY fulfillment_id) sh ON sh.fulfillment_id = fo.id
    WHERE fo.tenant_id = %(tenant)s
    GROUP BY fo.order_id, fo.location_id
),
part_units AS (
    SELECT fo.order_id, fo.location_id, SUM(fl.quantity - fl.quantity_rejected - fl.quantity_cancelled) AS q,
           SUM(fl.quantity_shipped) AS s
    FROM fulfillment_fulfillmentline fl
    JOIN fulfillment_fulfillmentorder fo ON fo.id = fl.fulfillment_id
    JOIN o ON o.id = fo.order_id
    WHERE fl.tenant_id = %(tenant)s
    GROUP BY fo.order_id, fo.location_id
),
grain AS (
    SELECT NULL::bigint AS location_id, facts.*, facts.q AS units, facts.s AS units_shipped_here,
           facts.fos AS fos_here, facts.fos_rejected AS rejected_here, facts.shipped AS shipped_here,
           facts.ready AS ready_here, facts.collected AS collected_here
    FROM facts
    UNION ALL
    SELECT p.location_id, facts.*, COALESCE(pu.q, 0), COALESCE(pu.s, 0), p.fos, p.fos_rejected, p.shipped,
           p.ready, p.collected
    FROM parts p JOIN facts ON facts.id = p.order_id
    LEFT JOIN part_units pu ON pu.order_id = p.order_id AND pu.location_id = p.location_id
)
INSERT INTO reporting_kpiday (
    tenant_id, day, channel_id, location_id, orders, order_value, units_ordered, units_shipped, units_returned,
    orders_cancelled, orders_backordered, orders_routed, orders_split, orders_first_time_filled, orders_received,
    orders_on_time, orders_with_promise, fulfillments, fulfillments_rejected, refund_value, csat_sum,
    csat_responses, processing_seconds, pickup_ready_seconds, pickup_collect_seconds, lead_seconds
)
SELECT %(tenant)s, day, channel_id, location_id,
       COUNT(*), SUM(total), SUM(units), SUM(units_shipped_here),
       SUM(CASE WHEN location_id IS NULL THEN r ELSE 0 END),
       COUNT(*) FILTER (WHERE status = 'cancelled'),
       COUNT(*) FILTER (WHERE backordered),
       COUNT(*) FILTER (WHERE places >= 1),
       COUNT(*) FILTER (WHERE places > 1),
       COUNT(*) FILTER (WHERE first_time),
       COUNT(*) FILTER (WHERE received),
       COUNT(*) FILTER (WHERE received AND delivered_on_time),
       COUNT(*) FILTER (WHERE received AND delivered_on_time IS NOT NULL),
       SUM(fos_here), SUM(rejected_here),
       SUM(refund),
       COALESCE(SUM(score), 0), COUNT(score),
       COALESCE(ARRAY_AGG(EXTRACT(EPOCH FROM shipped_here - placed_at)::int ORDER BY 1)
                FILTER (WHERE shipped_here IS NOT NULL AND delivery_method = 'ship'), '{}'),
       COALESCE(ARRAY_AGG(EXTRACT(EPOCH FROM ready_here - placed_at)::int ORDER BY 1)
                FILTER (WHERE ready_here IS NOT NULL), '{}'),
       COALESCE(ARRAY_AGG(EXTRACT(EPOCH FROM collected_here - ready_here)::int ORDER BY 1)
                FILTER (WHERE collected_here IS NOT NULL AND ready_here IS NOT NULL), '{}'),
       COALESCE(ARRAY_AGG(EXTRACT(EPOCH FROM received_at - placed_at)::int ORDER BY 1)
                FILTER (WHERE received AND received_at IS NOT NULL), '{}')
FROM grain
GROUP BY day, channel_id, location_id
"""

PRODUCT_DAYS = """
INSERT INTO reporting_kpiproductday (tenant_id, day, channel_id, product_id, units_ordered, units_shipped,
                                     units_returned, order_value)
SELECT %(tenant)s, (o.placed_at AT TIME ZONE %(tz)s)::date, o.channel_id, ol.product_id, SUM(ol.quantity),
       SUM(ol.quantity_shipped), SUM(ol.quantity_returned), SUM(ol.total)
FROM orders_order o JOIN orders_orderline ol ON ol.order_id = o.id AND ol.tenant_id = %(tenant)s
WHERE o.tenant_id = %(tenant)s AND o.placed_at >= %(start)s AND o.placed_at < %(end)s
GROUP BY 2, 3, 4
"""

# Units received back, by the return line's reason; cancelled orders, by the reason their cancellation gave.
RETURN_REASON_DAYS = """
INSERT INTO reporting_kpireasonday (tenant_id, day, channel_id, kind, reason, count)
SELECT %(tenant)s, (o.placed_at AT TIME ZONE %(tz)s)::date, o.channel_id, 'return', rr.code, SUM(rc.quantity)
FROM returns_returnreceipt rc
JOIN returns_returnline rl ON rl.id = rc.line_id
JOIN returns_returnreason rr ON rr.id = rl.reason_id
JOIN returns_return rt ON rt.id = rc.rma_id
JOIN orders_order o ON o.id = rt.order_id
WHERE rc.tenant_id = %(tenant)s AND o.placed_at >= %(start)s AND o.placed_at < %(end)s
GROUP BY 2, 3, 5
"""

CANCELLATION_REASON_DAYS = """
INSERT INTO reporting_kpireasonday (tenant_id, day, channel_id, kind, reason, count)
SELECT %(tenant)s, (o.placed_at AT TIME ZONE %(tz)s)::date, o.channel_id, 'cancellation',
       LEFT(COALESCE(NULLIF(c.reason, ''), 'unspecified'), 120), COUNT(*)
FROM orders_order o
JOIN LATERAL (
    SELECT ev.message AS reason FROM orders_orderevent ev
    WHERE ev.tenant_id = %(tenant)s AND ev.order_id = o.id AND ev.kind = 'cancelled'
    ORDER BY ev.at DESC, ev.id DESC LIMIT 1
) c ON TRUE
WHERE o.tenant_id = %(tenant)s AND o.status = 'cancelled' AND o.placed_at >= %(start)s AND o.placed_at < %(end)s
GROUP BY 2, 3, 5
"""

# Cycle-count rows by the day they were counted; stock rows out of stock and the value at cost at each day's end,
# worked back from today's figures through the ledger: a row's on-hand at the end of a day is today's less every
# sellable movement since. Between two days with movements it stands still, so each row gives intervals, and only
# those at zero or below are spread over their days.
STOCK_DAYS = """
WITH levels AS (
    SELECT s.id, s.location_id, s.on_hand,
           CASE WHEN (p.attributes ->> 'cost') ~ '^[0-9]+(\\.[0-9]+)?$' THEN (p.attributes ->> 'cost')::numeric END
               AS cost
    FROM inventory_stocklevel s JOIN inventory_product p ON p.id = s.product_id
    WHERE s.tenant_id = %(tenant)s AND p.active
),
net AS (
    SELECT m.stock_level_id AS level_id, (m.occurred_at AT TIME ZONE %(tz)s)::date AS day, SUM(m.quantity) AS q
    FROM inventory_stockmovement m
    WHERE m.tenant_id = %(tenant)s AND m.sellable AND m.occurred_at >= %(start)s
    GROUP BY 1, 2
),
-- Per row and day with movements: the on-hand at that day's end.
ends AS (
    SELECT n.level_id, n.day, lv.location_id, lv.cost,
           lv.on_hand - COALESCE(SUM(n.q) OVER (PARTITION BY n.level_id ORDER BY n.day DESC
                                                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS at_end,
           LEAD(n.day) OVER (PARTITION BY n.level_id ORDER BY n.day) AS next_day,
           ROW_NUMBER() OVER (PARTITION BY n.level_id ORDER BY n.day) AS nth,
           n.q
    FROM net n JOIN levels lv ON lv.id = n.level_id
),
-- Intervals of days [since, until] over which a row held `units` at each day's end.
spans AS (
    SELECT location_id, cost, day AS since, COALESCE(next_day - 1, %(last)s::date) AS until, at_end AS units
    FROM ends
    UNION ALL
    SELECT location_id, cost, %(first)s::date, day - 1, at_end - q FROM ends WHERE nth = 1 AND day > %(first)s
    UNION ALL
    SELECT lv.location_id, lv.cost, %(first)s::date, %(last)s::date, lv.on_hand
    FROM levels lv WHERE NOT EXISTS (SELECT 1 FROM net WHERE net.level_id = lv.id)
),
days AS (SELECT d::date AS day FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') d),
stockouts AS (
    SELECT d.day, sp.location_id, COUNT(*) AS skus
    FROM spans sp JOIN days d ON d.day BETWEEN GREATEST(sp.since, %(first)s::date) AND LEAST(sp.until, %(last)s::date)
    WHERE sp.units <= 0
    GROUP BY 1, 2
),
valued AS (
    SELECT d.day, sp.location_id, SUM(sp.units * sp.cost) AS value
    FROM spans sp JOIN days d ON d.day BETWEEN GREATEST(sp.since, %(first)s::date) AND LEAST(sp.until, %(last)s::date)
    WHERE sp.cost IS NOT NULL
    GROUP BY 1, 2
),
counted AS (
    SELECT (cl.counted_at AT TIME ZONE %(tz)s)::date AS day, cl.location_id, COUNT(*) AS n,
           COUNT(*) FILTER (WHERE ABS(cl.variance) <= %(tolerance)s) AS accurate
    FROM inventory_cyclecountline cl
    WHERE cl.tenant_id = %(tenant)s AND cl.posted_at IS NOT NULL AND cl.variance IS NOT NULL
      AND cl.counted_at >= %(start)s AND cl.counted_at < %(end)s
    GROUP BY 1, 2
),
keys AS (
    SELECT day, location_id FROM stockouts UNION SELECT day, location_id FROM valued
    UNION SELECT day, location_id FROM counted
)
INSERT INTO reporting_kpistockday (tenant_id, day, location_id, counted_rows, accurate_rows, stockout_skus,
                                   inventory_value)
SELECT %(tenant)s, k.day, k.location_id, COALESCE(c.n, 0), COALESCE(c.accurate, 0), COALESCE(s.skus, 0), v.value
FROM keys k
LEFT JOIN counted c ON c.day = k.day AND c.location_id = k.location_id
LEFT JOIN stockouts s ON s.day = k.day AND s.location_id = k.location_id
LEFT JOIN valued v ON v.day = k.day AND v.location_id = k.location_id
"""
