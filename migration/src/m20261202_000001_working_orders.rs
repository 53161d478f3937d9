//! Working orders: limit, stop, stop-limit and trailing-stop orders with a time in force.
//!
//! `orders` gains the order's terms (type, time in force, limit and stop prices, the trail as
//! basis points or cents and the best price it has tracked), its life (`triggered_at`,
//! `expires_at`, `canceled_at`, `replaced_by`) and the shares it reserves (cash was already
//! `reserved_cents`). Queued sells of earlier releases held their shares on the position only:
//! they get `reserved_shares = quantity`, so every reservation is on its order.
//!
//! `market_state.last_close_at`: when the scheduler last closed the market. DAY orders placed
//! before it have outlived their session.
//!
//! A replaced order and its replacement share the client's `clientOrderId` (the lineage), so
//! the key is unique among orders not replaced rather than among all of them. Partial indexes
//! (`WHERE …`) read the same on SQLite and PostgreSQL; the engine finds the orders a round
//! reaches through the two on working orders: limits (and triggered stop-limits) by limit
//! price, untriggered stops by stop price; and moves trailing stops through a third.
//!
//! Columns are added one statement each: SQLite alters one column at a time.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES_UP: [&str; 4] = [
    "CREATE UNIQUE INDEX uq_orders_user_client_order_id_live ON orders (user_id, client_order_id) \
     WHERE replaced_by IS NULL",
    "CREATE INDEX idx_orders_working_limit ON orders (stock_id, side, limit_price_cents) \
     WHERE status = 'OPEN' AND (order_type = 'LIMIT' OR triggered_at IS NOT NULL)",
    "CREATE INDEX idx_orders_working_stop ON orders (stock_id, side, stop_price_cents) \
     WHERE status = 'OPEN' AND triggered_at IS NULL",
    "CREATE INDEX idx_orders_trailing ON orders (stock_id, side, trail_reference_cents) \
     WHERE status = 'OPEN' AND order_type = 'TRAILING_STOP'",
];

const INDEXES_DOWN: [&str; 4] = [
    "DROP INDEX idx_orders_trailing",
    "DROP INDEX idx_orders_working_stop",
    "DROP INDEX idx_orders_working_limit",
    "DROP INDEX uq_orders_user_client_order_id_live",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            string_len(Orders::OrderType, 16).default("MARKET").take(),
            string_len(Orders::TimeInForce, 3).default("DAY").take(),
            big_integer_null(Orders::LimitPriceCents).take(),
            big_integer_null(Orders::StopPriceCents).take(),
            big_integer_null(Orders::TrailPercentBps).take(),
            big_integer_null(Orders::TrailAmountCents).take(),
            big_integer_null(Orders::TrailReferenceCents).take(),
            timestamp_with_time_zone_null(Orders::TriggeredAt).take(),
            timestamp_with_time_zone_null(Orders::ExpiresAt).take(),
            timestamp_with_time_zone_null(Orders::CanceledAt).take(),
            big_integer(Orders::ReservedShares).default(0).take(),
            big_integer_null(Orders::ReplacedBy).take(),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Orders::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(MarketState::Table)
                    .add_column(timestamp_with_time_zone_null(MarketState::LastCloseAt))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE orders SET reserved_shares = quantity WHERE status = 'QUEUED' AND side = 'SELL'",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE orders SET canceled_at = updated_at WHERE status = 'CANCELED'",
        )
        .await?;
        db.execute_unprepared("DROP INDEX uq_orders_user_client_order_id")
            .await?;
        for sql in INDEXES_UP {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for sql in INDEXES_DOWN {
            db.execute_unprepared(sql).await?;
        }
        // Working orders cannot be represented before this migration: they end as canceled,
        // and a replaced order gives its key up to its replacement.
        db.execute_unprepared(
            "UPDATE orders SET status = 'CANCELED' WHERE status IN ('OPEN', 'EXPIRED')",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE orders SET client_order_id = NULL WHERE replaced_by IS NOT NULL",
        )
        .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX uq_orders_user_client_order_id ON orders (user_id, client_order_id)",
        )
        .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(MarketState::Table)
                    .drop_column(MarketState::LastCloseAt)
                    .to_owned(),
            )
            .await?;
        for column in [
            Orders::OrderType,
            Orders::TimeInForce,
            Orders::LimitPriceCents,
            Orders::StopPriceCents,
            Orders::TrailPercentBps,
            Orders::TrailAmountCents,
            Orders::TrailReferenceCents,
            Orders::TriggeredAt,
            Orders::ExpiresAt,
            Orders::CanceledAt,
            Orders::ReservedShares,
            Orders::ReplacedBy,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Orders::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Orders {
    Table,
    OrderType,
    TimeInForce,
    LimitPriceCents,
    StopPriceCents,
    TrailPercentBps,
    TrailAmountCents,
    TrailReferenceCents,
    TriggeredAt,
    ExpiresAt,
    CanceledAt,
    ReservedShares,
    ReplacedBy,
}

#[derive(DeriveIden)]
enum MarketState {
    Table,
    LastCloseAt,
}
