-- Hand-written DuckDB SQL computing the engine's verdicts straight from a facts directory of
-- Parquet files, for benchmarks/bench_engine.py to compare `lvyue evaluate` against.
-- Inputs (set up by the benchmark, not timed as evaluation): files '{dir}/NAME.parquet',
-- tables params (rulebook.parameter_table()), category_keys(category, category_key) and
-- settings(as_of, horizon) in epoch seconds. Times become epoch seconds (UTC) throughout.
-- The semantics are those of src/lvyue/engine/clocks.py and online.py.

CREATE MACRO ep(t) AS epoch_ms(t) // 1000;
CREATE MACRO seen(t) AS CASE WHEN ep(t) <= (SELECT as_of FROM settings) THEN ep(t) END;
CREATE MACRO inwin(v, lo, hi) AS
    (lo IS NULL OR (v IS NOT NULL AND v >= lo)) AND (hi IS NULL OR (v IS NOT NULL AND v < hi));

CREATE TEMP TABLE scans AS
SELECT carrier, waybill,
       min(ep(time)) FILTER (WHERE kind = 'pickup') AS first_pickup,
       min(ep(time)) FILTER (WHERE kind IN ('hub_arrival', 'hub_departure')) AS first_hub
FROM read_parquet('{dir}/tracking.parquet')
WHERE ep(time) <= (SELECT as_of FROM settings)
GROUP BY ALL;

CREATE TEMP TABLE waivers AS                       -- SF-8: approved reports per order
SELECT r.order_id, bool_or(r.new_deadline IS NULL) AS waived, max(r.new_deadline) AS new_deadline
FROM (SELECT trim(unnest(string_split(order_ids, ';'))) AS order_id, merchant_id,
             ep(new_deadline) AS new_deadline
      FROM read_parquet('{dir}/reports.parquet') WHERE status = 'approved') r
JOIN read_parquet('{dir}/orders.parquet') o USING (order_id, merchant_id)
WHERE r.order_id <> ''
GROUP BY r.order_id;

CREATE TEMP TABLE o AS
SELECT o.order_id, o.merchant_id, o.merchant_type, k.category_key, o.ship_mode,
       coalesce(o.delayed_shipping, false) AS delayed_shipping,
       coalesce(o.festival_open, false) AS festival_open,
       coalesce(o.established_store, false) AS established_store,
       coalesce(o.settlement_extended_penalty, false) AS settlement_extended_penalty,
       o.inspection_code, seen(o.pay_time) AS pay_time, ep(o.promised_ship_time) AS promised,
       seen(o.ship_time) AS ship_time, seen(o.confirmed_receipt_time) AS receipt_time,
       CASE WHEN seen(o.ship_time) IS NOT NULL AND s.first_pickup IS NOT NULL
            THEN greatest(seen(o.ship_time), s.first_pickup) END AS pickup_time,
       s.first_hub, w.waived, w.new_deadline
FROM read_parquet('{dir}/orders.parquet') o
JOIN category_keys k USING (category)
LEFT JOIN scans s USING (carrier, waybill)
LEFT JOIN waivers w USING (order_id)
WHERE seen(o.pay_time) IS NOT NULL;

CREATE TEMP TABLE a AS
SELECT a.aftersale_id, a.type, o.*, seen(a.created_at) AS created,
       seen(a.merchant_handled_at) AS agreed, seen(a.return_shipped_at) AS return_shipped,
       seen(a.merchant_received_at) AS received, seen(a.return_signed_at) AS return_signed,
       seen(a.refunded_at) AS refunded,
       (o.ship_time IS NOT NULL AND o.ship_time <= seen(a.created_at)) AS shipped_before
FROM read_parquet('{dir}/after_sales.parquet') a JOIN o USING (order_id)
WHERE seen(a.created_at) IS NOT NULL;

-- One row per (subject, parameter) to resolve: orders for order parameters, requests for
-- after-sales ones; one join to the parameter table resolves them all.
CREATE TEMP TABLE subjects AS
SELECT order_id, '' AS aftersale_id, p.parameter, merchant_type, category_key, ship_mode,
       delayed_shipping, festival_open, established_store, settlement_extended_penalty,
       false AS shipped_before, pay_time, promised, ship_time, pickup_time, receipt_time,
       NULL::BIGINT AS created, NULL::BIGINT AS agreed, NULL::BIGINT AS return_shipped,
       NULL::BIGINT AS return_signed
FROM o, (VALUES ('ship.deadline'), ('ship.modes_allowed'), ('ship.delayed_tool_allowed'),
                ('pickup.limit'), ('first_hub.limit'), ('inspection.required'),
                ('settlement.delay')) p(parameter)
WHERE (p.parameter <> 'ship.delayed_tool_allowed' OR delayed_shipping)
  AND (p.parameter NOT IN ('pickup.limit', 'inspection.required') OR ship_time IS NOT NULL)
  AND (p.parameter <> 'first_hub.limit' OR pickup_time IS NOT NULL)
  AND (p.parameter <> 'settlement.delay' OR receipt_time IS NOT NULL)
UNION ALL
SELECT order_id, aftersale_id, p.parameter, merchant_type, category_key, ship_mode,
       delayed_shipping, festival_open, established_store, settlement_extended_penalty,
       shipped_before, pay_time, promised, ship_time, pickup_time, receipt_time,
       created, agreed, return_shipped, return_signed
FROM a, (VALUES ('aftersale.merchant_confirm.limit', 'created_at', false),
                ('aftersale.consumer_return.limit', 'agreed', true),
                ('aftersale.merchant_receive.limit', 'return_shipped', true),
                ('aftersale.refund.limit', 'return_signed', true)) p(parameter, start, returns)
WHERE (NOT p.returns OR type IN ('return_refund', 'exchange'))
  AND CASE p.start WHEN 'created_at' THEN created WHEN 'agreed' THEN agreed
                   WHEN 'return_shipped' THEN return_shipped ELSE return_signed END IS NOT NULL;

CREATE TEMP TABLE resolved AS
SELECT s.order_id, s.aftersale_id, s.parameter, p.clause_id, p.value_bool, p.value_modes,
       CASE p.value_kind WHEN 'instant' THEN p.value_instant
            WHEN 'duration' THEN p.value_seconds + CASE p.value_anchor
                WHEN 'pay_time' THEN s.pay_time WHEN 'promised_ship_time' THEN s.promised
                WHEN 'ship_time' THEN s.ship_time WHEN 'pickup_time' THEN s.pickup_time
                WHEN 'receipt_time' THEN s.receipt_time WHEN 'aftersale_created' THEN s.created
                WHEN 'aftersale_agreed' THEN s.agreed
                WHEN 'return_shipped' THEN s.return_shipped
                WHEN 'return_signed' THEN s.return_signed END END AS deadline
FROM subjects s JOIN params p
  ON p.parameter = s.parameter AND p.merchant_type = s.merchant_type
 AND p.category_key = s.category_key AND p.ship_mode = s.ship_mode
 AND p.flag_delayed_shipping = s.delayed_shipping AND p.flag_festival_open = s.festival_open
 AND p.flag_established_store = s.established_store
 AND p.flag_settlement_extended_penalty = s.settlement_extended_penalty
 AND p.flag_shipped_before_aftersale = s.shipped_before
 AND inwin(s.pay_time, p.pay_time_from, p.pay_time_to)
 AND inwin(s.promised, p.promised_ship_time_from, p.promised_ship_time_to)
 AND inwin(s.ship_time, p.ship_time_from, p.ship_time_to)
 AND inwin(s.pickup_time, p.pickup_time_from, p.pickup_time_to)
 AND inwin(s.receipt_time, p.receipt_time_from, p.receipt_time_to)
 AND inwin(s.created, p.aftersale_created_from, p.aftersale_created_to)
 AND inwin(s.agreed, p.aftersale_agreed_from, p.aftersale_agreed_to)
 AND inwin(s.return_shipped, p.return_shipped_from, p.return_shipped_to)
 AND inwin(s.return_signed, p.return_signed_from, p.return_signed_to)
 AND p.week_start_from IS NULL AND p.week_start_to IS NULL;

CREATE MACRO timed_status(done, dl) AS CASE
    WHEN done IS NOT NULL AND done <= dl THEN 'ok'
    WHEN done IS NOT NULL OR dl <= (SELECT as_of FROM settings) THEN 'violated'
    WHEN dl - (SELECT as_of FROM settings) <= (SELECT horizon FROM settings) THEN 'at_risk'
    ELSE 'pending' END;
CREATE MACRO timed_reason(done, dl) AS CASE
    WHEN done IS NOT NULL AND done <= dl THEN 'ok' WHEN done IS NOT NULL THEN 'late'
    WHEN dl <= (SELECT as_of FROM settings) THEN 'missed' ELSE 'waiting' END;
CREATE MACRO sf8(c) AS CASE WHEN c = 'SF-8' THEN c ELSE c || ';SF-8' END;

CREATE TEMP TABLE timed AS                      -- ship_deadline, pickup, first_hub
SELECT o.order_id, '' AS aftersale_id, o.merchant_id, ch.check,
       CASE WHEN ch.check = 'ship_deadline' AND o.new_deadline IS NOT NULL
            THEN o.new_deadline ELSE r.deadline END AS deadline,
       CASE ch.check WHEN 'ship_deadline' THEN o.ship_time WHEN 'pickup' THEN o.pickup_time
            ELSE CASE WHEN o.pickup_time IS NOT NULL AND o.first_hub IS NOT NULL
                      THEN greatest(o.pickup_time, o.first_hub) END END AS done_at,
       CASE WHEN ch.check = 'ship_deadline' AND o.new_deadline IS NOT NULL
            THEN sf8(r.clause_id) ELSE r.clause_id END AS clauses,
       coalesce(o.waived, false) AS waived
FROM o JOIN (VALUES ('ship.deadline', 'ship_deadline'), ('pickup.limit', 'pickup'),
                    ('first_hub.limit', 'first_hub')) ch(parameter, "check") ON true
JOIN resolved r ON r.order_id = o.order_id AND r.aftersale_id = '' AND r.parameter = ch.parameter
WHERE r.deadline IS NOT NULL;

CREATE TEMP TABLE firsts AS                     -- BT-10: the earliest shipment keeps a code
SELECT inspection_code, arg_min(order_id, (ship_time, order_id)) AS first_order
FROM o WHERE inspection_code IS NOT NULL AND ship_time IS NOT NULL GROUP BY ALL;

SELECT * FROM (
  SELECT order_id, aftersale_id, merchant_id, "check",
         CASE WHEN waived THEN 'exempted' ELSE timed_status(done_at, deadline) END AS status,
         deadline, done_at, CASE WHEN waived THEN sf8(clauses) ELSE clauses END AS clauses,
         CASE WHEN waived THEN 'waived' ELSE timed_reason(done_at, deadline) END AS reason
  FROM timed
  UNION ALL                                       -- ship_mode (VF-3/4/5)
  SELECT order_id, '', merchant_id, 'ship_mode',
         CASE WHEN mode_bad OR tool_bad THEN 'violated' ELSE 'ok' END, NULL::BIGINT, pay_time,
         CASE WHEN mode_bad THEN m_clause WHEN tool_bad THEN t_clause
              WHEN m_clause IS NULL THEN coalesce(t_clause, '')
              WHEN t_clause IS NULL OR m_clause = t_clause THEN m_clause
              ELSE m_clause || ';' || t_clause END,
         CASE WHEN mode_bad THEN 'mode_not_allowed' WHEN tool_bad THEN 'delayed_tool_not_allowed'
              ELSE 'mode_ok' END
  FROM (SELECT o.order_id, o.merchant_id, o.pay_time, m.clause_id AS m_clause,
               t.clause_id AS t_clause,
               m.clause_id IS NOT NULL AND NOT coalesce(contains(';' || m.value_modes || ';',
                   ';' || o.ship_mode || ';'), false) AS mode_bad,
               t.clause_id IS NOT NULL AND t.value_bool = false AS tool_bad
        FROM o
        LEFT JOIN resolved m ON m.order_id = o.order_id AND m.parameter = 'ship.modes_allowed'
        LEFT JOIN resolved t
               ON t.order_id = o.order_id AND t.parameter = 'ship.delayed_tool_allowed')
  WHERE m_clause IS NOT NULL OR t_clause IS NOT NULL
  UNION ALL                                       -- inspection (BT-8, BT-10, BT-12)
  SELECT order_id, '', merchant_id, 'inspection',
         CASE WHEN reason = 'passed' THEN 'ok' ELSE 'violated' END, NULL::BIGINT, ship_time,
         clause_id, reason
  FROM (SELECT o.order_id, o.merchant_id, o.ship_time, r.clause_id, CASE
            WHEN o.inspection_code IS NULL THEN 'no_code'
            WHEN i.merchant_id IS NULL OR i.merchant_id <> o.merchant_id
                 OR seen(i.inspected_at) IS NULL AND i.inspected_at IS NOT NULL
                 THEN 'unknown_code'
            WHEN i.result <> 'pass' THEN 'failed'
            WHEN f.first_order <> o.order_id THEN 'reused'
            ELSE 'passed' END AS reason
        FROM o JOIN resolved r ON r.order_id = o.order_id AND r.aftersale_id = ''
                              AND r.parameter = 'inspection.required' AND r.value_bool
        LEFT JOIN read_parquet('{dir}/inspections.parquet') i USING (inspection_code)
        LEFT JOIN firsts f USING (inspection_code))
  UNION ALL                                       -- settlement (VF-6, DR-5)
  SELECT o.order_id, '', o.merchant_id, 'settlement', 'scheduled', r.deadline, NULL::BIGINT,
         r.clause_id, 'scheduled'
  FROM o JOIN resolved r ON r.order_id = o.order_id AND r.aftersale_id = ''
                        AND r.parameter = 'settlement.delay'
  WHERE r.deadline IS NOT NULL
  UNION ALL                                       -- after-sales (SF-9 a–d, DR-3)
  SELECT a.order_id, a.aftersale_id, a.merchant_id, ch.check,
         timed_status(ch.done, r.deadline), r.deadline, ch.done, r.clause_id,
         timed_reason(ch.done, r.deadline)
  FROM a, LATERAL (VALUES
        ('aftersale.merchant_confirm.limit', 'aftersale_merchant_confirm', a.agreed),
        ('aftersale.consumer_return.limit', 'aftersale_consumer_return', a.return_shipped),
        ('aftersale.merchant_receive.limit', 'aftersale_merchant_receive', a.received),
        ('aftersale.refund.limit', 'aftersale_refund', a.refunded)) ch(parameter, "check", done)
  JOIN resolved r ON r.order_id = a.order_id AND r.aftersale_id = a.aftersale_id
                 AND r.parameter = ch.parameter
  WHERE r.deadline IS NOT NULL
) ORDER BY order_id, aftersale_id, "check"
