use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261125_000001_accounts::Users;
use crate::m20261125_000002_market::Stocks;
use crate::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Orders::Table)
                    .col(big_pk_auto(Orders::Id))
                    .col(big_integer(Orders::UserId))
                    .col(big_integer(Orders::StockId))
                    .col(string_len(Orders::Side, 4))
                    .col(big_integer(Orders::Quantity))
                    .col(string_len(Orders::Status, 10))
                    .col(big_integer_null(Orders::PriceCents))
                    .col(big_integer_null(Orders::TotalCents))
                    .col(big_integer(Orders::ReservedCents).default(0))
                    .col(string_len_null(Orders::ClientOrderId, 64))
                    .col(string_null(Orders::RejectReason))
                    .col(timestamp_with_time_zone(Orders::CreatedAt))
                    .col(timestamp_with_time_zone(Orders::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Orders::ExecutedAt))
                    .foreign_key(&mut fk(
                        Orders::Table,
                        Orders::UserId,
                        Users::Table,
                        Users::Id,
                    ))
                    .foreign_key(&mut fk(
                        Orders::Table,
                        Orders::StockId,
                        Stocks::Table,
                        Stocks::Id,
                    ))
                    .check(Expr::col(Orders::Quantity).gt(0))
                    .to_owned(),
            )
            .await?;
        // NULL client ids are distinct on both databases, so only real keys collide.
        manager
            .create_index(index(
                "uq_orders_user_client_order_id",
                Orders::Table,
                &[Orders::UserId, Orders::ClientOrderId],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "idx_orders_user_id",
                Orders::Table,
                &[Orders::UserId, Orders::Id],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "idx_orders_status_id",
                Orders::Table,
                &[Orders::Status, Orders::Id],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Trades::Table)
                    .col(big_pk_auto(Trades::Id))
                    .col(big_integer_uniq(Trades::OrderId))
                    .col(big_integer(Trades::UserId))
                    .col(big_integer(Trades::StockId))
                    .col(string_len(Trades::Side, 4))
                    .col(big_integer(Trades::Quantity))
                    .col(big_integer(Trades::PriceCents))
                    .col(big_integer(Trades::TotalCents))
                    .col(big_integer(Trades::RealizedPnlCents).default(0))
                    .col(timestamp_with_time_zone(Trades::ExecutedAt))
                    .foreign_key(&mut fk(
                        Trades::Table,
                        Trades::OrderId,
                        Orders::Table,
                        Orders::Id,
                    ))
                    .foreign_key(&mut fk(
                        Trades::Table,
                        Trades::UserId,
                        Users::Table,
                        Users::Id,
                    ))
                    .foreign_key(&mut fk(
                        Trades::Table,
                        Trades::StockId,
                        Stocks::Table,
                        Stocks::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_trades_user_id",
                Trades::Table,
                &[Trades::UserId, Trades::Id],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "idx_trades_executed_at",
                Trades::Table,
                &[Trades::ExecutedAt],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Positions::Table)
                    .col(big_pk_auto(Positions::Id))
                    .col(big_integer(Positions::UserId))
                    .col(big_integer(Positions::StockId))
                    .col(big_integer(Positions::Quantity).default(0))
                    .col(big_integer(Positions::ReservedQuantity).default(0))
                    .col(big_integer(Positions::CostBasisCents).default(0))
                    .col(big_integer(Positions::RealizedPnlCents).default(0))
                    .col(timestamp_with_time_zone(Positions::UpdatedAt))
                    .foreign_key(&mut fk(
                        Positions::Table,
                        Positions::UserId,
                        Users::Table,
                        Users::Id,
                    ))
                    .foreign_key(&mut fk(
                        Positions::Table,
                        Positions::StockId,
                        Stocks::Table,
                        Stocks::Id,
                    ))
                    .check(Expr::col(Positions::Quantity).gte(0))
                    .check(Expr::col(Positions::ReservedQuantity).gte(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "uq_positions_user_stock",
                Positions::Table,
                &[Positions::UserId, Positions::StockId],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "idx_positions_stock",
                Positions::Table,
                &[Positions::StockId],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CashLedger::Table)
                    .col(big_pk_auto(CashLedger::Id))
                    .col(big_integer(CashLedger::UserId))
                    .col(string_len(CashLedger::Kind, 16))
                    .col(big_integer(CashLedger::AmountCents))
                    .col(big_integer(CashLedger::BalanceAfterCents))
                    .col(string_len_null(CashLedger::Reference, 64))
                    .col(timestamp_with_time_zone(CashLedger::CreatedAt))
                    .foreign_key(&mut fk(
                        CashLedger::Table,
                        CashLedger::UserId,
                        Users::Table,
                        Users::Id,
                    ))
                    .check(Expr::col(CashLedger::BalanceAfterCents).gte(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_cash_ledger_user_id",
                CashLedger::Table,
                &[CashLedger::UserId, CashLedger::Id],
                false,
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            CashLedger::Table.into_iden(),
            Positions::Table.into_iden(),
            Trades::Table.into_iden(),
            Orders::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Orders {
    Table,
    Id,
    UserId,
    StockId,
    Side,
    Quantity,
    Status,
    PriceCents,
    TotalCents,
    ReservedCents,
    ClientOrderId,
    RejectReason,
    CreatedAt,
    UpdatedAt,
    ExecutedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Trades {
    Table,
    Id,
    OrderId,
    UserId,
    StockId,
    Side,
    Quantity,
    PriceCents,
    TotalCents,
    RealizedPnlCents,
    ExecutedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Positions {
    Table,
    Id,
    UserId,
    StockId,
    Quantity,
    ReservedQuantity,
    CostBasisCents,
    RealizedPnlCents,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CashLedger {
    Table,
    Id,
    UserId,
    Kind,
    AmountCents,
    BalanceAfterCents,
    Reference,
    CreatedAt,
}
