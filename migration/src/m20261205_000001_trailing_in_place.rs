//! Trailing stops move in place. The engine raises (or lowers) a trailing stop's reference at
//! every round that beats it, thousands of rows a round in a brisk market; the stop itself is
//! now derived from the reference when an order is read, and `stop_price_cents` keeps the stop
//! at placement. So no index holds the column a round writes: `idx_orders_trailing` keys on
//! (stock, side) alone (a stock's trailing stops are read whole: their stops are computed),
//! and the stop index leaves trailing stops out. On PostgreSQL those updates are then
//! heap-only (no new entry in any of the table's indexes); a fill factor of 90 leaves room on
//! each page for them.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: [&str; 4] = [
    "DROP INDEX idx_orders_trailing",
    "DROP INDEX idx_orders_working_stop",
    "CREATE INDEX idx_orders_trailing ON orders (stock_id, side) \
     WHERE status = 'OPEN' AND order_type = 'TRAILING_STOP'",
    "CREATE INDEX idx_orders_working_stop ON orders (stock_id, side, stop_price_cents) \
     WHERE status = 'OPEN' AND triggered_at IS NULL AND order_type <> 'TRAILING_STOP'",
];

const DOWN: [&str; 4] = [
    "DROP INDEX idx_orders_trailing",
    "DROP INDEX idx_orders_working_stop",
    "CREATE INDEX idx_orders_trailing ON orders (stock_id, side, trail_reference_cents) \
     WHERE status = 'OPEN' AND order_type = 'TRAILING_STOP'",
    "CREATE INDEX idx_orders_working_stop ON orders (stock_id, side, stop_price_cents) \
     WHERE status = 'OPEN' AND triggered_at IS NULL",
];

/// The stored stop of each working trailing stop as the previous release kept it: the current
/// one, from the reference (the percentage's offset rounded down, as in the code).
const STOPS_AS_BEFORE: &str = "UPDATE orders SET stop_price_cents = CASE \
     WHEN trail_amount_cents IS NOT NULL THEN trail_reference_cents + \
       (CASE WHEN side = 'BUY' THEN 1 ELSE -1 END) * trail_amount_cents \
     ELSE trail_reference_cents + \
       (CASE WHEN side = 'BUY' THEN 1 ELSE -1 END) * ((trail_reference_cents * trail_percent_bps) / 10000) \
     END WHERE status = 'OPEN' AND order_type = 'TRAILING_STOP' AND trail_reference_cents IS NOT NULL";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for sql in UP {
            db.execute_unprepared(sql).await?;
        }
        if manager.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            db.execute_unprepared("ALTER TABLE orders SET (fillfactor = 90)")
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            db.execute_unprepared("ALTER TABLE orders RESET (fillfactor)")
                .await?;
        }
        // The previous release reads the stored stop as the current one.
        db.execute_unprepared(STOPS_AS_BEFORE).await?;
        for sql in DOWN {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
