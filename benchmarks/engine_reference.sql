-- Hand-written DuckDB SQL computing the engine's verdicts straight from a facts directory of
-- Parquet files, for benchmarks/bench_engine.py to compare `lvyue evaluate` against.
-- Inputs (set up by the benchmark, not timed as evaluation): files '{dir}/NAME.parquet',
-- tables params (rulebook.parameter_table()), category_keys(category, category_key) and
-- settings(as_of, horizon) in epoch seconds. Times become epoch seconds (UTC) throughout.
-- The semantics are those of src/lvyue/engine/clocks.py and online.py.
-- Shape (docs/decisions/engine-batch-formulation.md): every (subject, check) row meets the
-- parameter table once, in one streamed join whose result every verdict is computed from (no
-- materialised join result joined back per check), and the output is sorted on integer ranks
-- (order, request within the order, check) rather than on the id strings.

-- as_of and horizon as constants (a scalar subquery per use is planned as a cross product)
SET VARIABLE as_of = (SELECT as_of FROM settings);
SET VARIABLE horizon = (SELECT horizon FROM settings);
CREATE MACRO ep(t) AS epoch_ms(t) // 1000;
CREATE MACRO seen(t) AS CASE WHEN ep(t) <= getvariable('as_of') THEN ep(t) END;
-- clocks.after_payment: a waybill's first scan of a kind dated before payment is not the order's
CREATE MACRO paid_scan(first_scan, paid) AS CASE WHEN first_scan >= seen(paid) THEN first_scan END;

-- The parameter table's cells with open sides as numbers beyond any time, and a missing clock
-- value placed so that it falls only in cells open on both sides: the window test becomes
-- two plain comparisons, which the hash join checks far faster than IS NULL ... OR ....
CREATE MACRO open_lo(t) AS coalesce(t, -4611686018427387904);
CREATE MACRO open_hi(t) AS coalesce(t, 4611686018427387904);
CREATE MACRO within(v, lo, hi) AS
    open_lo(v) >= lo AND coalesce(v, 4611686018427387903) < hi;
CREATE TEMP TABLE cells AS
SELECT * REPLACE (open_lo(pay_time_from) AS pay_time_from, open_hi(pay_time_to) AS pay_time_to,
                  open_lo(promised_ship_time_from) AS promised_ship_time_from, open_hi(promised_ship_time_to) AS promised_ship_time_to,
                  open_lo(ship_time_from) AS ship_time_from, open_hi(ship_time_to) AS ship_time_to,
                  open_lo(pickup_time_from) AS pickup_time_from, open_hi(pickup_time_to) AS pickup_time_to,
                  open_lo(receipt_time_from) AS receipt_time_from, open_hi(receipt_time_to) AS receipt_time_to,
                  open_lo(aftersale_created_from) AS aftersale_created_from, open_hi(aftersale_created_to) AS aftersale_created_to,
                  open_lo(aftersale_agreed_from) AS aftersale_agreed_from, open_hi(aftersale_agreed_to) AS aftersale_agreed_to,
                  open_lo(return_shipped_from) AS return_shipped_from, open_hi(return_shipped_to) AS return_shipped_to,
                  open_lo(return_signed_from) AS return_signed_from, open_hi(return_signed_to) AS return_signed_to)
FROM params WHERE week_start_from IS NULL AND week_start_to IS NULL;

CREATE TEMP TABLE scans AS
SELECT carrier, waybill,
       min(ep(time)) FILTER (WHERE kind = 'pickup') AS first_pickup,
       min(ep(time)) FILTER (WHERE kind IN ('hub_arrival', 'hub_departure')) AS first_hub,
       min(ep(time)) FILTER (WHERE kind = 'warehouse_in') AS first_warehouse_in
FROM read_parquet('{dir}/tracking.parquet')
WHERE ep(time) <= getvariable('as_of')
GROUP BY ALL;

CREATE TEMP TABLE waivers AS                       -- SF-8: approved reports per order
SELECT r.order_id, bool_or(r.new_deadline IS NULL) AS waived, max(r.new_deadline) AS new_deadline
FROM (SELECT trim(unnest(string_split(order_ids, ';'))) AS order_id, merchant_id,
             ep(new_deadline) AS new_deadline
      FROM read_parquet('{dir}/reports.parquet') WHERE status = 'approved') r
JOIN {orders} o USING (order_id, merchant_id)
WHERE r.order_id <> ''
GROUP BY r.order_id;

-- A (carrier, waybill) is one parcel: its scans credit only the order that shipped it first.
CREATE TEMP TABLE owners AS
SELECT carrier, waybill, min(ep(ship_time)) AS first_ship
FROM {orders} WHERE carrier IS NOT NULL AND waybill IS NOT NULL AND ship_time IS NOT NULL
GROUP BY ALL;

CREATE TEMP TABLE o AS
SELECT *, CASE WHEN pickup_time IS NOT NULL AND first_hub IS NOT NULL
               THEN greatest(pickup_time, first_hub) END AS hub_time,
       row_number() OVER (ORDER BY order_id) AS order_rank      -- the output order
FROM (SELECT o.order_id, o.merchant_id, o.merchant_type, k.category_key, o.ship_mode,
             coalesce(o.delayed_shipping, false) AS delayed_shipping,
             coalesce(o.festival_open, false) AS festival_open,
             coalesce(o.established_store, false) AS established_store,
             coalesce(o.settlement_extended_penalty, false) AS settlement_extended_penalty,
             coalesce(o.pre_inspection, false) AS pre_inspection,
             o.agreed_ship_time IS NOT NULL AS ship_time_agreed,       -- clocks.derived_flags
             coalesce(o.activity, '') <> '' AS festival_activity,
             ep(o.agreed_ship_time) AS agreed_ship, ep(o.activity_ship_deadline) AS activity_dl,
             ep(o.penalty_settlement_time) AS penalty_settles,
             o.inspection_code, seen(o.pay_time) AS pay_time, ep(o.promised_ship_time) AS promised,
             seen(o.ship_time) AS ship_time, seen(o.confirmed_receipt_time) AS receipt_time,
             CASE WHEN seen(o.ship_time) IS NOT NULL AND paid_scan(s.first_pickup, o.pay_time) IS NOT NULL
                       AND (ow.first_ship IS NULL OR ep(o.ship_time) = ow.first_ship)
                  THEN greatest(seen(o.ship_time), paid_scan(s.first_pickup, o.pay_time)) END AS pickup_time,
             CASE WHEN ow.first_ship IS NULL OR ep(o.ship_time) = ow.first_ship THEN
                  CASE o.cross_border_mode                -- clocks.track_record (SF-5)
                      WHEN 'overseas_consolidation' THEN paid_scan(s.first_warehouse_in, o.pay_time)
                      WHEN 'bbc_bonded' THEN paid_scan(s.first_pickup, o.pay_time)
                      ELSE least(paid_scan(s.first_pickup, o.pay_time), paid_scan(s.first_warehouse_in, o.pay_time)) END END AS track_record,
             paid_scan(s.first_hub, o.pay_time) AS first_hub, coalesce(w.waived, false) AS waived, w.new_deadline,
             ow.first_ship IS NULL OR ep(o.ship_time) = ow.first_ship AS owns_waybill
      FROM {orders} o
      JOIN category_keys k USING (category)
      LEFT JOIN scans s USING (carrier, waybill)
      LEFT JOIN owners ow USING (carrier, waybill)
      LEFT JOIN waivers w USING (order_id)
      WHERE seen(o.pay_time) IS NOT NULL);

-- A refund requested while the order was unshipped (clocks.cancels_shipment): the earliest
-- granted one closes the shipping duties, the earliest still open suspends a breach.
CREATE TEMP TABLE cancels AS
SELECT x.order_id,
       min(seen(x.created_at)) FILTER (WHERE seen(x.refunded_at) IS NOT NULL) AS refund_granted,
       min(seen(x.created_at)) FILTER (WHERE seen(x.refunded_at) IS NULL
                                      AND seen(x.merchant_handled_at) IS NULL) AS refund_open
FROM read_parquet('{dir}/after_sales.parquet') x JOIN o USING (order_id)
WHERE seen(x.created_at) IS NOT NULL AND x.type IN ('refund_only', 'return_refund')
  AND (o.ship_time IS NULL OR seen(x.created_at) < o.ship_time)
GROUP BY ALL;

CREATE TEMP TABLE a AS
SELECT a.aftersale_id, a.type, o.*, seen(a.created_at) AS created,
       seen(a.merchant_handled_at) AS handled, seen(a.return_shipped_at) AS return_shipped,
       CASE WHEN a.merchant_decision = 'agreed' OR (a.merchant_decision IS NULL
                 AND seen(a.return_shipped_at) IS NOT NULL)  -- clocks.agreed_at (SF-9b)
            THEN seen(a.merchant_handled_at) END AS agreed,
       seen(a.merchant_received_at) AS received, seen(a.return_signed_at) AS return_signed,
       seen(a.refunded_at) AS refunded,
       (o.ship_time IS NOT NULL AND o.ship_time <= seen(a.created_at)) AS shipped_before,
       row_number() OVER (PARTITION BY a.order_id ORDER BY a.aftersale_id) AS aftersale_rank
FROM read_parquet('{dir}/after_sales.parquet') a JOIN o USING (order_id)
WHERE seen(a.created_at) IS NOT NULL;

-- The checks resolved by a deadline or a flag: one row per (subject, check), with the clocks
-- that place it, the parameter that governs it, and what is done when (done).
CREATE VIEW order_subjects AS
SELECT order_id, '' AS aftersale_id, 0 AS aftersale_rank, order_rank, merchant_id,
       merchant_type, category_key, ship_mode, delayed_shipping, festival_open,
       established_store, settlement_extended_penalty, pre_inspection, false AS shipped_before,
       ship_time_agreed, festival_activity, agreed_ship, activity_dl, penalty_settles, pay_time,
       promised, ship_time, pickup_time, receipt_time, NULL::BIGINT AS created,
       NULL::BIGINT AS agreed, NULL::BIGINT AS return_shipped, NULL::BIGINT AS return_signed,
       new_deadline, inspection_code, waived, hub_time, track_record
FROM o;

CREATE VIEW subjects AS
SELECT * EXCLUDE (waived, hub_time, track_record), 'ship_deadline' AS "check", 9 AS check_rank,
       'ship.deadline' AS parameter, ship_time AS done, waived
FROM order_subjects
UNION ALL SELECT * EXCLUDE (waived, hub_time, track_record), 'ship_met_by', 8, 'ship.met_by_track_record',
       track_record, false
FROM order_subjects
UNION ALL SELECT * EXCLUDE (waived, hub_time, track_record), 'pickup', 6, 'pickup.limit',
       pickup_time, waived
FROM order_subjects WHERE ship_time IS NOT NULL
UNION ALL SELECT * EXCLUDE (waived, hub_time, track_record), 'first_hub', 4, 'first_hub.limit', hub_time, waived
FROM order_subjects WHERE pickup_time IS NOT NULL
UNION ALL SELECT * EXCLUDE (waived, hub_time, track_record), 'inspection', 5, 'inspection.required', ship_time,
       false
FROM order_subjects WHERE ship_time IS NOT NULL
UNION ALL SELECT * EXCLUDE (waived, hub_time, track_record), 'settlement', 8, 'settlement.delay', NULL, false
FROM order_subjects WHERE receipt_time IS NOT NULL
UNION ALL SELECT * EXCLUDE (waived, hub_time, track_record), 'presale_promise', 7, 'ship.presale_min', promised,
       false
FROM order_subjects WHERE ship_mode IN ('presale', 'deposit_presale', 'step') AND promised IS NOT NULL
UNION ALL SELECT * EXCLUDE (waived, hub_time, track_record), 'presale_promise', 7, 'ship.presale_max', promised,
       false
FROM order_subjects WHERE ship_mode IN ('presale', 'deposit_presale', 'step') AND promised IS NOT NULL
-- clocks.mode_ship_clock (VF-5 on ship time): until shipped the mode rules read the pay time
UNION ALL SELECT * EXCLUDE (waived, hub_time, track_record) REPLACE (coalesce(ship_time, pay_time) AS ship_time),
       'ship_mode', 10, 'ship.modes_allowed', pay_time,
       false
FROM order_subjects
UNION ALL SELECT * EXCLUDE (waived, hub_time, track_record) REPLACE (coalesce(ship_time, pay_time) AS ship_time),
       'ship_mode', 10, 'ship.delayed_tool_allowed',
       pay_time, false
FROM order_subjects WHERE delayed_shipping
UNION ALL
SELECT a.order_id, a.aftersale_id, a.aftersale_rank, a.order_rank, a.merchant_id,
       a.merchant_type, a.category_key, a.ship_mode, a.delayed_shipping, a.festival_open,
       a.established_store, a.settlement_extended_penalty, a.pre_inspection, a.shipped_before,
       a.ship_time_agreed, a.festival_activity, a.agreed_ship, a.activity_dl, NULL, a.pay_time,
       a.promised, a.ship_time, a.pickup_time, a.receipt_time, a.created, a.agreed,
       a.return_shipped, a.return_signed, NULL, NULL, ch.check, ch.check_rank, ch.parameter,
       ch.done, false
FROM a, LATERAL (VALUES
        ('aftersale_merchant_confirm', 1, 'aftersale.merchant_confirm.limit', a.created,
         a.handled, false),
        ('aftersale_consumer_return', 0, 'aftersale.consumer_return.limit', a.agreed,
         a.return_shipped, true),
        ('aftersale_merchant_receive', 2, 'aftersale.merchant_receive.limit', a.return_shipped,
         a.received, true),
        ('aftersale_refund', 3, 'aftersale.refund.limit', a.return_signed, a.refunded, true)
     ) ch("check", check_rank, parameter, start, done, returns)
WHERE ch.start IS NOT NULL AND (NOT ch.returns OR a.type IN ('return_refund', 'exchange'));

-- The one parameter-table row that governs each subject (if any), and its deadline.
CREATE VIEW resolved AS
SELECT s.*, p.clause_id, p.value_bool, p.value_modes,
       CASE p.value_kind WHEN 'instant' THEN p.value_instant
            WHEN 'duration' THEN p.value_seconds + CASE p.value_anchor
                WHEN 'pay_time' THEN s.pay_time WHEN 'promised_ship_time' THEN s.promised
                WHEN 'ship_time' THEN s.ship_time WHEN 'pickup_time' THEN s.pickup_time
                WHEN 'receipt_time' THEN s.receipt_time WHEN 'aftersale_created' THEN s.created
                WHEN 'aftersale_agreed' THEN s.agreed
                WHEN 'return_shipped' THEN s.return_shipped
                WHEN 'return_signed' THEN s.return_signed
                WHEN 'agreed_ship_time' THEN s.agreed_ship
                WHEN 'activity_ship_deadline' THEN s.activity_dl
                WHEN 'penalty_settlement_time' THEN s.penalty_settles END END AS deadline
FROM subjects s JOIN cells p
  ON p.parameter = s.parameter AND p.merchant_type = s.merchant_type
 AND p.category_key = s.category_key AND p.ship_mode = s.ship_mode
 AND (p.flag_delayed_shipping IS NULL OR p.flag_delayed_shipping = s.delayed_shipping)  -- null: either
 AND (p.flag_festival_open IS NULL OR p.flag_festival_open = s.festival_open)
 AND (p.flag_established_store IS NULL OR p.flag_established_store = s.established_store)
 AND (p.flag_settlement_extended_penalty IS NULL OR p.flag_settlement_extended_penalty = s.settlement_extended_penalty)
 AND (p.flag_shipped_before_aftersale IS NULL OR p.flag_shipped_before_aftersale = s.shipped_before)
 AND (p.flag_pre_inspection IS NULL OR p.flag_pre_inspection = s.pre_inspection)
 AND (p.flag_ship_time_agreed IS NULL OR p.flag_ship_time_agreed = s.ship_time_agreed)
 AND (p.flag_festival_activity IS NULL OR p.flag_festival_activity = s.festival_activity)
 AND within(s.pay_time, p.pay_time_from, p.pay_time_to)
 AND within(s.promised, p.promised_ship_time_from, p.promised_ship_time_to)
 AND within(s.ship_time, p.ship_time_from, p.ship_time_to)
 AND within(s.pickup_time, p.pickup_time_from, p.pickup_time_to)
 AND within(s.receipt_time, p.receipt_time_from, p.receipt_time_to)
 AND within(s.created, p.aftersale_created_from, p.aftersale_created_to)
 AND within(s.agreed, p.aftersale_agreed_from, p.aftersale_agreed_to)
 AND within(s.return_shipped, p.return_shipped_from, p.return_shipped_to)
 AND within(s.return_signed, p.return_signed_from, p.return_signed_to);

CREATE TEMP TABLE firsts AS                     -- BT-10: the earliest shipment keeps a code
SELECT inspection_code, arg_min(order_id, (ship_time, order_id)) AS first_order
FROM o WHERE inspection_code IS NOT NULL AND ship_time IS NOT NULL GROUP BY ALL;

CREATE MACRO timed_status(done, dl) AS CASE
    WHEN done IS NOT NULL AND done <= dl THEN 'ok'
    WHEN done IS NOT NULL OR dl <= getvariable('as_of') THEN 'violated'
    WHEN dl - getvariable('as_of') <= getvariable('horizon') THEN 'at_risk'
    ELSE 'pending' END;
CREATE MACRO timed_reason(done, dl) AS CASE
    WHEN done IS NOT NULL AND done <= dl THEN 'ok' WHEN done IS NOT NULL THEN 'late'
    WHEN dl <= getvariable('as_of') THEN 'missed' ELSE 'waiting' END;
CREATE MACRO sf8(c) AS CASE WHEN c = 'SF-8' THEN c ELSE c || ';SF-8' END;

-- The order ranks, request ranks and check ranks below sort like order_id, aftersale_id and
-- check: sorting five million rows on them costs a fraction of sorting on the strings.
SELECT order_id, aftersale_id, merchant_id, "check", status, deadline, done_at, clauses, reason
FROM (
  SELECT order_id, aftersale_id, merchant_id, "check", order_rank, aftersale_rank, check_rank,
         CASE WHEN closed THEN 'exempted' WHEN suspended THEN 'pending' ELSE status END AS status,
         deadline, done_at, clauses,
         CASE WHEN closed THEN 'refunded' WHEN suspended THEN 'refund_open' ELSE reason END
           AS reason
  FROM (  -- a refund before shipping (online._cancelled): by the deadline for ship_deadline
  SELECT *, live AND refund_granted IS NOT NULL AND (NOT by_deadline OR refund_granted <= deadline)
              AS closed,
         NOT (live AND refund_granted IS NOT NULL
              AND (NOT by_deadline OR refund_granted <= deadline))
           AND status = 'violated' AND refund_open IS NOT NULL
           AND (NOT by_deadline OR refund_open <= deadline) AS suspended
  FROM (
  SELECT *, status NOT IN ('ok', 'exempted') AND "check" IN ('ship_deadline', 'pickup', 'first_hub')
              AS live,
         "check" = 'ship_deadline' AS by_deadline
  FROM (
  SELECT order_id, aftersale_id, merchant_id, "check", order_rank, aftersale_rank, check_rank, CASE
           WHEN "check" = 'settlement' THEN 'scheduled'
           WHEN waived THEN 'exempted'
           ELSE timed_status(done, deadline) END AS status,
         deadline, CASE WHEN "check" = 'settlement' THEN NULL ELSE done END AS done_at,
         CASE WHEN waived THEN sf8(clauses) ELSE clauses END AS clauses, CASE
           WHEN "check" = 'settlement' THEN 'scheduled'
           WHEN waived THEN 'waived'
           ELSE timed_reason(done, deadline) END AS reason, refund_granted, refund_open
  FROM (SELECT * REPLACE (                        -- SF-8: a report's new deadline
                 CASE WHEN "check" = 'ship_deadline' AND new_deadline IS NOT NULL
                      THEN new_deadline ELSE deadline END AS deadline,
                 CASE WHEN met_clause IS NOT NULL THEN track ELSE done END AS done),
               CASE WHEN "check" = 'ship_deadline' AND new_deadline IS NOT NULL
                    THEN sf8(clause_id) ELSE clause_id END
                 || coalesce(';' || met_clause, '') AS clauses
        FROM resolved r LEFT JOIN cancels USING (order_id)
        LEFT JOIN (SELECT order_id, clause_id AS met_clause, done AS track  -- SF-5: the track
                   FROM resolved WHERE "check" = 'ship_met_by' AND value_bool) m
               ON m.order_id = r.order_id AND r."check" = 'ship_deadline'
        WHERE "check" NOT IN ('inspection', 'ship_mode', 'presale_promise', 'ship_met_by')
          AND deadline IS NOT NULL))))
  UNION ALL                                       -- inspection (BT-8, BT-10, BT-12)
  SELECT order_id, '', merchant_id, 'inspection', order_rank, 0, 5,
         CASE WHEN reason = 'passed' THEN 'ok' ELSE 'violated' END, NULL::BIGINT, done,
         clause_id, reason
  FROM (SELECT r.order_id, r.order_rank, r.merchant_id, r.done, r.clause_id, CASE
            WHEN r.inspection_code IS NULL THEN 'no_code'
            WHEN i.merchant_id IS NULL OR i.merchant_id <> r.merchant_id
                 OR seen(i.inspected_at) IS NULL AND i.inspected_at IS NOT NULL
                 THEN 'unknown_code'
            WHEN i.result <> 'pass' THEN 'failed'
            WHEN i.inspected_at IS NOT NULL AND r.done < ep(i.inspected_at)
                 THEN 'shipped_before_pass'                 -- BT-12: the pass before shipping
            WHEN f.first_order <> r.order_id THEN 'reused'
            ELSE 'passed' END AS reason
        FROM resolved r
        LEFT JOIN read_parquet('{dir}/inspections.parquet') i USING (inspection_code)
        LEFT JOIN firsts f USING (inspection_code)
        WHERE r.check = 'inspection' AND r.value_bool)
  UNION ALL                                       -- ship_mode (VF-3/4/5)
  SELECT order_id, '', merchant_id, 'ship_mode', order_rank, 0, 10,
         CASE WHEN mode_bad OR tool_bad THEN 'violated' ELSE 'ok' END, NULL::BIGINT, pay_time,
         CASE WHEN mode_bad THEN m_clause WHEN tool_bad THEN t_clause
              WHEN m_clause IS NULL THEN coalesce(t_clause, '')
              WHEN t_clause IS NULL OR m_clause = t_clause THEN m_clause
              ELSE m_clause || ';' || t_clause END,
         CASE WHEN mode_bad THEN 'mode_not_allowed' WHEN tool_bad THEN 'delayed_tool_not_allowed'
              ELSE 'mode_ok' END
  FROM (SELECT coalesce(m.order_id, t.order_id) AS order_id, order_rank,
               coalesce(m.merchant_id, t.merchant_id) AS merchant_id,
               coalesce(m.done, t.done) AS pay_time, m.clause_id AS m_clause,
               t.clause_id AS t_clause,
               m.clause_id IS NOT NULL AND NOT coalesce(contains(';' || m.value_modes || ';',
                   ';' || m.ship_mode || ';'), false) AS mode_bad,
               t.clause_id IS NOT NULL AND t.value_bool = false AS tool_bad
        FROM (SELECT * FROM resolved WHERE parameter = 'ship.modes_allowed') m
        FULL JOIN (SELECT * FROM resolved WHERE parameter = 'ship.delayed_tool_allowed') t
             USING (order_rank))
  UNION ALL                                       -- presale_promise (SF-5a/5b, DR-1c/1d)
  SELECT order_id, '', merchant_id, 'presale_promise', order_rank, 0, 7,
         CASE WHEN early OR late THEN 'violated' ELSE 'ok' END, latest, promised,
         CASE WHEN early THEN lo_clause WHEN late THEN hi_clause
              WHEN lo_clause = hi_clause THEN lo_clause ELSE lo_clause || ';' || hi_clause END,
         CASE WHEN early THEN 'promise_too_early' WHEN late THEN 'promise_too_late'
              ELSE 'promise_ok' END
  FROM (SELECT lo.order_id, order_rank, lo.merchant_id, lo.done AS promised,
               lo.clause_id AS lo_clause, hi.clause_id AS hi_clause, hi.deadline AS latest,
               lo.done < lo.deadline AS early, hi.done > hi.deadline AS late
        FROM (SELECT * FROM resolved WHERE parameter = 'ship.presale_min'
                AND deadline IS NOT NULL) lo
        JOIN (SELECT * FROM resolved WHERE parameter = 'ship.presale_max'
                AND deadline IS NOT NULL) hi USING (order_rank))
  UNION ALL                                       -- waybill_reuse (issue 12 item 2b, ours)
  SELECT order_id, '', merchant_id, 'waybill_reuse', order_rank, 0, 11, 'review', NULL::BIGINT,
         ship_time, '', 'waybill_reused'
  FROM o WHERE ship_time IS NOT NULL AND NOT owns_waybill
) ORDER BY order_rank, aftersale_rank, check_rank
