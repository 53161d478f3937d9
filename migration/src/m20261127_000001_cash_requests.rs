//! `cash_requests`: the idempotency keys of deposits and withdrawals. A retried request with a
//! key already used by the same user gets the first answer back and moves no money.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261125_000001_accounts::Users;
use crate::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CashRequests::Table)
                    .col(big_pk_auto(CashRequests::Id))
                    .col(big_integer(CashRequests::UserId))
                    .col(string_len(CashRequests::IdempotencyKey, 64))
                    .col(string_len(CashRequests::Kind, 16))
                    .col(big_integer(CashRequests::AmountCents))
                    // The answer the first request got: what a retry gets back.
                    .col(big_integer(CashRequests::BalanceCents))
                    .col(big_integer(CashRequests::ReservedCents))
                    .col(timestamp_with_time_zone(CashRequests::CreatedAt))
                    .foreign_key(&mut fk(
                        CashRequests::Table,
                        CashRequests::UserId,
                        Users::Table,
                        Users::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "uq_cash_requests_user_key",
                CashRequests::Table,
                &[CashRequests::UserId, CashRequests::IdempotencyKey],
                true,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CashRequests::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum CashRequests {
    Table,
    Id,
    UserId,
    IdempotencyKey,
    Kind,
    AmountCents,
    BalanceCents,
    ReservedCents,
    CreatedAt,
}
