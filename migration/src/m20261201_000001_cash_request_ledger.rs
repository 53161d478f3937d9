//! `cash_requests.ledger_id`: the ledger entry a keyed deposit or withdrawal wrote, so a retry
//! gets back the same `transaction` as the first request. Null for requests recorded before
//! this column existed (no entry was linked then).
//!
//! No foreign key: SQLite cannot add one to an existing table. Both rows are written in one
//! transaction and the ledger is append-only, so the link cannot dangle.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(CashRequests::Table)
                    .add_column(big_integer_null(CashRequests::LedgerId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(CashRequests::Table)
                    .drop_column(CashRequests::LedgerId)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum CashRequests {
    Table,
    LedgerId,
}
